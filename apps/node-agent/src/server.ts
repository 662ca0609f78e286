import * as http from 'node:http';
import type { NodeAgentStatus } from '@cerulean/node-provider';
import type { NodeAgent } from './node-agent';

export type LogLine = (entry: Record<string, unknown>) => void;

export const jsonLog: LogLine = (entry) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
};

type Route = () => { statusCode: number; body: string; contentType: string };

const json = (status: NodeAgentStatus): ReturnType<Route> => ({
  statusCode: 200,
  body: JSON.stringify(status),
  contentType: 'application/json',
});

/** The agent's HTTP surface; one JSON log line per request. */
export function createAgentServer(agent: NodeAgent, log: LogLine = jsonLog): http.Server {
  const routes: Record<string, Record<string, Route>> = {
    '/healthz': { GET: () => ({ statusCode: 200, body: 'ok', contentType: 'text/plain' }) },
    '/status': { GET: () => json(agent.status()) },
    '/cordon': { POST: () => json(agent.cordon()) },
    '/uncordon': { POST: () => json(agent.uncordon()) },
    '/drain': { POST: () => json(agent.drain()) },
  };

  return http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://agent').pathname;
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      log({ msg: 'request', method, path, status: res.statusCode, durationMs: Math.round(durationMs * 100) / 100 });
    });
    // Request bodies are ignored, but must be consumed for keep-alive to work.
    req.resume();

    const byMethod = routes[path];
    const route = byMethod?.[method];
    let answer: ReturnType<Route>;
    if (!byMethod) answer = { statusCode: 404, body: JSON.stringify({ error: `no route ${path}` }), contentType: 'application/json' };
    else if (!route) {
      res.setHeader('allow', Object.keys(byMethod).join(', '));
      answer = { statusCode: 405, body: JSON.stringify({ error: `${method} not allowed on ${path}` }), contentType: 'application/json' };
    } else {
      try {
        answer = route();
      } catch (err) {
        answer = { statusCode: 500, body: JSON.stringify({ error: err instanceof Error ? err.message : String(err) }), contentType: 'application/json' };
      }
    }
    res.writeHead(answer.statusCode, { 'content-type': answer.contentType, 'content-length': Buffer.byteLength(answer.body) });
    res.end(answer.body);
  });
}
