// `node dist/bench/src/kube-apiserver.js [--seconds=5] [--out=file.json]`: the cluster API server alone (issue 14's
// figures): its process (dist/apps/kube-apiserver/src/main.js) on a private etcd, memory idle, then p50/p99 of GET,
// LIST and PATCH under 50 concurrent clients authenticated by a client certificate (autocannon). Stops all it started.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { createCertificateAuthority, issueCertificate } from '@cerulean/pki';
import { freePort, startPrivateEtcd } from '../../test-support/private-services';

const args = process.argv.slice(2);
const seconds = Number(args.find((a) => a.startsWith('--seconds='))?.slice(10) ?? 5);
const out = args.find((a) => a.startsWith('--out='))?.slice(6);
const CONNECTIONS = 50;

const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kube-apiserver-bench-'));
  const etcd = await startPrivateEtcd(dir);
  const ca = await createCertificateAuthority('kubernetes', 1);
  const serving = await issueCertificate(ca, { commonName: 'kube-apiserver', ipAddresses: ['127.0.0.1'], usage: 'server', validDays: 1 });
  const admin = await issueCertificate(ca, { commonName: 'bench', organization: 'system:masters', usage: 'client', validDays: 1 });
  for (const [f, pem] of Object.entries({ 'ca.crt': ca.certPem, 'tls.crt': serving.certPem, 'tls.key': serving.keyPem })) writeFileSync(join(dir, f), pem);
  const port = await freePort();
  const server = spawn(process.execPath, [resolve(__dirname, '../../apps/kube-apiserver/src/main.js')], {
    env: {
      ...process.env,
      KUBE_ETCD_ENDPOINTS: etcd.endpoint,
      KUBE_BIND_ADDRESS: '127.0.0.1',
      KUBE_SECURE_PORT: String(port),
      KUBE_TLS_CERT_FILE: join(dir, 'tls.crt'),
      KUBE_TLS_KEY_FILE: join(dir, 'tls.key'),
      KUBE_CLIENT_CA_FILE: join(dir, 'ca.crt'),
      KUBE_VERSION: '1.33.2',
      KUBE_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `https://127.0.0.1:${port}`;
  const tls = { ca: ca.certPem, cert: admin.certPem, key: admin.keyPem };
  const call = (method: string, path: string, body?: unknown, type = 'application/json') =>
    new Promise<number>((res, rej) => {
      const req = request(`${base}${path}`, { method, ...tls, headers: { 'Content-Type': type } }, (r) => {
        r.resume();
        r.on('end', () => res(r.statusCode ?? 0));
      });
      req.on('error', rej);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  try {
    for (let i = 0; i < 100; i++) {
      if (await call('GET', '/readyz').catch(() => 0)) break;
      await sleep(100);
    }
    await call('POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
    for (let i = 0; i < 100; i++)
      await call('POST', '/api/v1/namespaces/bench/configmaps', { metadata: { name: `cm-${i}`, labels: { bench: 'yes' } }, data: { i: String(i) } });
    await sleep(2000);
    const idleRss = rssMiB(server.pid as number);
    const run = async (name: string, path: string, extra: Partial<autocannon.Options> = {}) => {
      const r = await autocannon({
        url: `${base}${path}`,
        connections: CONNECTIONS,
        duration: seconds,
        tlsOptions: tls,
        headers: { Accept: 'application/json' },
        ...extra,
      } as autocannon.Options);
      if (r.non2xx || r.errors) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      return { name, path, requestsPerSecond: Math.round(r.requests.average), p50Ms: r.latency.p50, p99Ms: r.latency.p99, maxMs: r.latency.max };
    };
    const results = [
      await run('GET one ConfigMap', '/api/v1/namespaces/bench/configmaps/cm-1'),
      await run('LIST 100 ConfigMaps', '/api/v1/namespaces/bench/configmaps'),
      await run('PATCH one ConfigMap (merge patch, 50 writers on one object)', '/api/v1/namespaces/bench/configmaps/cm-2', {
        method: 'PATCH',
        headers: { Accept: 'application/json', 'Content-Type': 'application/merge-patch+json' },
        body: JSON.stringify({ data: { touched: 'yes' } }),
      }),
      await run('PATCH spread over 100 ConfigMaps', '/api/v1/namespaces/bench/configmaps/cm-0', {
        method: 'PATCH',
        headers: { Accept: 'application/json', 'Content-Type': 'application/merge-patch+json' },
        requests: [
          {
            setupRequest: (req: autocannon.Request) => ({
              ...req,
              path: `/api/v1/namespaces/bench/configmaps/cm-${Math.floor(Math.random() * 100)}`,
              body: JSON.stringify({ data: { n: String(Math.random()) } }),
            }),
          },
        ],
      }),
    ];
    const report = { connections: CONNECTIONS, seconds, idleRssMiB: Math.round(idleRss), afterLoadRssMiB: Math.round(rssMiB(server.pid as number)), results };
    console.log(JSON.stringify(report, null, 2));
    if (out) writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    server.kill('SIGTERM');
    await sleep(500);
    etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
