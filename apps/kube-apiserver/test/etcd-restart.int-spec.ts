import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createCertificateAuthority, issueCertificate, type PemKeyPair } from '@cerulean/pki';
import { freePort } from '../../../test-support/private-services';
import { type RunningKubeApiServer, startKubeApiServer } from '../src/server';

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * etcd restarted under a running API server (its process died; the control-plane agent starts it again): the server
 * serves again as soon as etcd does. The etcd client's default circuit breaker, once three calls failed, refused every
 * call for 5 s even with etcd back, and the server answered 500 all that time.
 */
describe('API server across an etcd restart', () => {
  let dir: string;
  let etcd: ChildProcess | undefined;
  let server: RunningKubeApiServer | undefined;
  let admin: PemKeyPair;
  let ca: PemKeyPair;
  let clientPort: number;
  let peerPort: number;

  const startEtcd = async (): Promise<void> => {
    const client = `http://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    etcd = spawn(
      'etcd',
      [
        ...['--name', 'restarted', '--data-dir', join(dir, 'etcd'), '--listen-client-urls', client, '--advertise-client-urls', client],
        ...['--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `restarted=${peer}`, '--log-level=error'],
      ],
      { stdio: 'ignore' },
    );
  };
  const killEtcd = async (): Promise<void> => {
    const child = etcd;
    etcd = undefined;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  };
  const createConfigMap = (): Promise<number | string> =>
    new Promise((resolve) => {
      const req = request(
        new URL('/api/v1/namespaces/default/configmaps', server?.url),
        { method: 'POST', ca: ca.certPem, cert: admin.certPem, key: admin.keyPem, headers: { 'content-type': 'application/json' }, timeout: 3_000 },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.end(JSON.stringify({ metadata: { generateName: 'cm-' } }));
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'etcd-restart-it-'));
    [clientPort, peerPort] = [await freePort(), await freePort()];
    await startEtcd();
    ca = await createCertificateAuthority('kubernetes', 1);
    const serving = await issueCertificate(ca, {
      commonName: 'kube-apiserver',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
      validDays: 1,
    });
    admin = await issueCertificate(ca, { commonName: 'admin', organization: 'system:masters', usage: 'client', validDays: 1 });
    server = await startKubeApiServer(
      {
        etcdEndpoints: [`http://127.0.0.1:${clientPort}`],
        etcdPrefix: '/registry',
        bindAddress: '127.0.0.1',
        securePort: 0,
        tlsCertPem: serving.certPem,
        tlsKeyPem: serving.keyPem,
        clientCaPem: ca.certPem,
        version: '1.33.2',
        clusterName: 'it',
        serviceCidr: '10.0.0.0/16',
        dnsServiceIp: '10.0.0.10',
        bookmarkIntervalMs: 1000,
        logLevel: 'silent',
        etcdWaitMs: 10_000,
      },
      pino({ level: 'silent' }),
    );
  });

  afterAll(async () => {
    await server?.close();
    await killEtcd();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes again within 2 s of etcd coming back, not after the etcd client waited out 5 s', async () => {
    expect(await createConfigMap()).toBe(201);
    await killEtcd();
    // Down long enough for the writes meanwhile to fail three times in a row (what opens the client's breaker).
    const failures: (number | string)[] = [];
    const downUntil = Date.now() + 1_000;
    while (Date.now() < downUntil) {
      failures.push(await createConfigMap());
      await sleep(100);
    }
    expect(failures.filter((s) => s !== 201).length).toBeGreaterThanOrEqual(3);
    await startEtcd();
    const restarted = Date.now();
    let status: number | string = 0;
    while (Date.now() - restarted < 10_000 && status !== 201) {
      status = await createConfigMap();
      if (status !== 201) await sleep(50);
    }
    expect(status).toBe(201);
    expect(Date.now() - restarted).toBeLessThan(2_000);
  });
});
