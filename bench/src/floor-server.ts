// The read-path floor, run as its own process: bare Fastify over HTTPS answering a fixed JSON body.
// Usage: node floor-server.js PORT BODY_FILE TLS_JSON_FILE
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const [port, bodyFile, tlsFile] = process.argv.slice(2);
const body = readFileSync(bodyFile);
const tls = JSON.parse(readFileSync(tlsFile, 'utf8')) as { key: string; cert: string };
const app = Fastify({ https: { key: tls.key, cert: tls.cert }, logger: false });
app.get('/*', (_req, reply) => {
  void reply.header('content-type', 'application/json; charset=utf-8').send(body);
});
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
app.listen({ port: Number(port), host: '127.0.0.1' }).then(
  () => console.log('listening'),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
