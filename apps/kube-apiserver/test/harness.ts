import { execFile } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { createCertificateAuthority, issueCertificate, PemKeyPair } from '@cerulean/pki';
import { startPrivateEtcd } from '../../../test-support/private-services';
import { KubeApiServerConfig } from '../src/config';
import { RunningKubeApiServer, startKubeApiServer } from '../src/server';
import { startControllerManager, type RunningControllerManager } from '../../kube-controller-manager/src/controller-manager';

const run = promisify(execFile);
export const KUBECTL = process.env.KUBECTL ?? 'kubectl';

export interface Harness {
  dir: string;
  server: RunningKubeApiServer;
  etcdEndpoint: string;
  ca: PemKeyPair;
  admin: PemKeyPair;
  kubeconfig: string;
  /** Runs the real kubectl against the server; resolves with stdout, rejects with stderr in the message. */
  kubectl(args: string[], opts?: { input?: string; allowFail?: boolean }): Promise<{ stdout: string; stderr: string; code: number }>;
  /** One request as the admin, a JSON body sent as `contentType`; the status code and the parsed JSON answer. */
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, contentType?: string): Promise<{ code: number; json: T }>;
  /** The same request, answered as text (a watch's JSON lines). */
  raw(method: string, path: string, body?: unknown, contentType?: string): Promise<{ code: number; text: string }>;
  close(): Promise<void>;
}

/** A private etcd, a CA with an admin client certificate (system:masters), the server in-process, and a kubeconfig. */
export async function startHarness(
  /** Settings over the defaults; a function gets the harness CA (for certificates it must sign). */
  overrides: Partial<KubeApiServerConfig> | ((ca: PemKeyPair) => Promise<Partial<KubeApiServerConfig>>) = {},
  /**
   * Controller-manager controllers to run beside the server (the garbage collector and namespace lifecycle unless
   * told). The service account controller always runs, as in every cluster: pod admission needs `default`.
   */
  controllers: string[] = ['garbage-collector', 'namespace'],
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'kube-apiserver-it-'));
  const etcd = await startPrivateEtcd(dir);
  const ca = await createCertificateAuthority('kubernetes', 10);
  const serving = await issueCertificate(ca, {
    commonName: 'kube-apiserver',
    dnsNames: ['localhost', 'kubernetes'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
    validDays: 10,
  });
  const admin = await issueCertificate(ca, { commonName: 'masterclient', organization: 'system:masters', usage: 'client', validDays: 10 });
  const server = await startKubeApiServer(
    {
      etcdEndpoints: [etcd.endpoint],
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
      logLevel: 'warn',
      etcdWaitMs: 5_000,
      ...(typeof overrides === 'function' ? await overrides(ca) : overrides),
    },
    pino({ level: 'warn' }),
  );
  const manager: RunningControllerManager = startControllerManager({
    server: server.url,
    ca: ca.certPem,
    cert: admin.certPem,
    key: admin.keyPem,
    enabled: [...new Set([...controllers, 'serviceaccount'])],
  });
  const raw: Harness['raw'] = (method, path, body, contentType = 'application/json') =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(
        new URL(path, server.url),
        { method, ca: ca.certPem, cert: admin.certPem, key: admin.keyPem, headers: { 'Content-Type': contentType, Accept: 'application/json' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  const kubeconfig = join(dir, 'kubeconfig');
  const kubectl = kubectlWith(kubeconfig, join(dir, 'cache'), server.url, ca.certPem, 'admin', {
    'client-certificate-data': b64(admin.certPem),
    'client-key-data': b64(admin.keyPem),
  });
  return {
    dir,
    server,
    etcdEndpoint: etcd.endpoint,
    ca,
    admin,
    kubeconfig,
    kubectl,
    raw,
    call: async (method, path, body, contentType) => {
      const { code, text } = await raw(method, path, body, contentType);
      return { code, json: JSON.parse(text || '{}') };
    },
    close: async () => {
      try {
        await manager?.stop();
        await Promise.race([server.close(), new Promise((r) => setTimeout(r, 5_000))]);
      } finally {
        etcd.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Credentials of a user other than the admin: a client certificate (CN = user, O = groups) or a bearer token. */
export type UserCredentials = { cert: PemKeyPair } | { token: string };

/** A client certificate the harness CA signs for `user` (CN) in `group` (O). */
export function issueUserCertificate(h: Harness, user: string, group?: string): Promise<PemKeyPair> {
  return issueCertificate(h.ca, { commonName: user, organization: group, usage: 'client', validDays: 1 });
}

/**
 * The real kubectl as another user, with a kubeconfig of its own (kubectl's --token beside the admin's client
 * certificate would still send the certificate, which the server prefers, as upstream's does).
 */
export function kubectlAs(h: Harness, creds: UserCredentials, label: string): Harness['kubectl'] {
  const user: Record<string, string> =
    'cert' in creds ? { 'client-certificate-data': b64(creds.cert.certPem), 'client-key-data': b64(creds.cert.keyPem) } : { token: creds.token };
  return kubectlWith(join(h.dir, `kubeconfig-${label}`), join(h.dir, `cache-${label}`), h.server.url, h.ca.certPem, label, user);
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Writes a kubeconfig for `user` against the server and returns the real kubectl running with it. */
function kubectlWith(file: string, cacheDir: string, server: string, caPem: string, label: string, user: Record<string, string>): Harness['kubectl'] {
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'it', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
      users: [{ name: label, user }],
      contexts: [{ name: 'it', context: { cluster: 'it', user: label } }],
      'current-context': 'it',
    }),
  );
  return async (args, opts = {}) => {
    const child = run(KUBECTL, ['--kubeconfig', file, '--cache-dir', cacheDir, ...args], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
    if (opts.input !== undefined) child.child.stdin?.end(opts.input);
    try {
      const { stdout, stderr } = await child;
      return { stdout, stderr, code: 0 };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number };
      if (opts.allowFail) return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
      throw new Error(`kubectl ${args.join(' ')} failed: ${e.stderr ?? String(err)}`, { cause: err });
    }
  };
}
