import { ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, openSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { ClientSecretCredential } from '@azure/identity';
import { NODE_AGENT_PORT, NodeLabels } from '@cerulean/node-provider';
import Dockerode from 'dockerode';
import { createServer } from 'node:net';
import { ItState, readItState } from './it-env';
import { waitForHttps } from './wait';

const ROOT = resolve(__dirname, '..');

export const state = (): ItState => readItState();

/** A real client-credentials login to the platform's token authority, as any Azure SDK user would make it. */
export function credentialFor(clientId: string, clientSecret: string, tenantId = state().bootstrap.tenantId): TokenCredential {
  return new ClientSecretCredential(tenantId, clientId, clientSecret, { authorityHost: state().apiUrl, disableInstanceDiscovery: true });
}

let bootstrapCredential: TokenCredential | undefined;
/** The bootstrap admin principal (Owner at the root scope), through @azure/identity's ClientSecretCredential. */
export const testCredential: TokenCredential = {
  getToken: (scopes, options) => {
    bootstrapCredential ??= credentialFor(state().bootstrap.clientId, state().bootstrap.clientSecret);
    return bootstrapCredential.getToken(scopes, options);
  },
};

export const ARM_SCOPE = 'https://management.core.windows.net//.default';

const tokenCache = new Map<TokenCredential, Promise<AccessToken | null>>();
/** A token of the credential for ARM (cached until 5 minutes before it expires). */
export async function tokenOf(credential: TokenCredential = testCredential): Promise<string> {
  let pending = tokenCache.get(credential);
  const cached = pending ? await pending : null;
  if (!cached || cached.expiresOnTimestamp < Date.now() + 300_000) {
    pending = credential.getToken(ARM_SCOPE);
    tokenCache.set(credential, pending);
  }
  const token = await pending!;
  if (!token) throw new Error('the credential returned no token');
  return token.token;
}

export interface WorkerProcess {
  proc: ChildProcess;
  pid: number;
  /** SIGKILL: the crash a test simulates. */
  kill(): void;
  stop(): Promise<void>;
}

/** Starts a worker process against the run's Postgres/Redis; resolves when it has booted. */
export async function startWorker(extraEnv: Record<string, string> = {}): Promise<WorkerProcess> {
  const s = state();
  const logPath = join(s.dir, 'worker.log');
  const log = openSync(logPath, 'a');
  const before = readFileSync(logPath, 'utf8').length;
  const proc = spawn(process.execPath, [join(ROOT, 'dist/apps/worker/src/main.js')], {
    env: { ...process.env, ...s.platformEnv, CERULEAN_LOG_LEVEL: 'info', ...extraEnv },
    stdio: ['ignore', log, log],
  });
  const pid = proc.pid ?? 0;
  appendFileSync(join(s.dir, 'worker-pids'), `${pid}\n`);
  const deadline = Date.now() + 30_000;
  while (!readFileSync(logPath, 'utf8').slice(before).includes('worker started')) {
    if (proc.exitCode !== null) throw new Error(`worker exited with ${proc.exitCode}; see ${logPath}`);
    if (Date.now() > deadline) throw new Error(`worker did not start; see ${logPath}`);
    await sleep(50);
  }
  return {
    proc,
    pid,
    kill: () => proc.kill('SIGKILL'),
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((res) => proc.once('exit', res));
      proc.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000).then(() => proc.kill('SIGKILL'))]);
    },
  };
}

export interface ApiProcess {
  url: string;
  stop(): Promise<void>;
}

/**
 * A second API process on the run's Postgres/Redis/data folder with extra settings (e.g. small throttling
 * buckets), on its own port. Tokens of the run's authority are valid there (same signing key, same host).
 */
export async function startApi(extraEnv: Record<string, string>): Promise<ApiProcess> {
  const s = state();
  const port = await new Promise<number>((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const p = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(p));
    });
  });
  const log = openSync(join(s.dir, `api-${port}.log`), 'a');
  const proc = spawn(process.execPath, [join(ROOT, 'dist/apps/api/src/main.js')], {
    env: { ...process.env, ...s.platformEnv, CERULEAN_API_PORT: String(port), ...extraEnv },
    stdio: ['ignore', log, log],
  });
  const url = `https://127.0.0.1:${port}`;
  await waitForHttps(`${url}/healthz`, s.caPath, 30_000);
  return {
    url,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((res) => proc.once('exit', res));
      proc.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000).then(() => proc.kill('SIGKILL'))]);
    },
  };
}

export interface ArmResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

let agent: Agent | undefined;

/**
 * A raw HTTPS call to the API (for protocol checks the SDKs would hide), with the bootstrap principal's
 * token unless `token` is given (`null`: no Authorization header).
 */
export async function arm<T = unknown>(
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; headers?: Record<string, string>; token?: string | null } = {},
): Promise<ArmResponse<T>> {
  const s = state();
  agent ??= new Agent({ ca: readFileSync(s.caPath), keepAlive: true });
  const url = path.startsWith('https://') ? path : `${s.apiUrl}${path}`;
  const payload = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token !== null && headers.authorization === undefined) headers.authorization = `Bearer ${options.token ?? (await tokenOf())}`;
  if (payload !== undefined) headers['content-type'] ??= 'application/json';
  return new Promise((res, rej) => {
    const req = request(url, { method, headers, agent }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = text;
        }
        res({ status: r.statusCode ?? 0, headers: r.headers, body: body as T, text });
      });
    });
    req.on('error', rej);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export const sub = (): string => state().subscriptionId;
export const rgPath = (rg: string): string => `/subscriptions/${sub()}/resourceGroups/${rg}`;
export const clusterPath = (rg: string, name: string): string => `${rgPath(rg)}/providers/Microsoft.ContainerService/managedClusters/${name}`;

export const AKS_API = 'api-version=2026-06-01';
export const RES_API = 'api-version=2024-11-01';

/** Polls the operation status URL until it is terminal. */
export async function waitForOperation(
  statusUrl: string,
  timeoutMs = 120_000,
): Promise<{ status: string; error?: { code: string; message: string }; percentComplete?: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await arm<{ status: string; error?: { code: string; message: string } }>('GET', statusUrl);
    if (r.status !== 200) throw new Error(`status URL answered ${r.status}: ${r.text}`);
    if (['Succeeded', 'Failed', 'Canceled'].includes(r.body.status)) return r.body;
    if (Date.now() > deadline) throw new Error(`operation still ${r.body.status} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

const docker = new Dockerode();

export interface ObservedNode {
  /** The container's id: a replaced node may reuse a name, never an id. */
  id: string;
  name: string;
  pool: string;
  running: boolean;
  /** The node agent's published URL, when running. */
  agentUrl?: string;
}

/** What Docker really has for a cluster (by name, via labels), whatever the API says. */
export async function dockerNodes(clusterName: string): Promise<ObservedNode[]> {
  const s = state();
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`${NodeLabels.installation}=${s.installationId}`, `${NodeLabels.cluster}=${clusterName}`] },
  });
  return (
    list
      // The cluster's control plane container is no node (see dockerControlPlane).
      .filter((c) => c.Labels[NodeLabels.role] === undefined)
      .map((c) => {
        const port = c.Ports.find((p) => p.PrivatePort === NODE_AGENT_PORT && p.PublicPort);
        return {
          id: c.Id,
          name: (c.Names[0] ?? '').replace(/^\//, ''),
          pool: c.Labels[NodeLabels.pool] ?? '',
          running: c.State === 'running',
          ...(port ? { agentUrl: `http://127.0.0.1:${port.PublicPort}` } : {}),
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name))
  );
}

/** The cluster's control plane containers (at most one), whatever the API says. */
export async function dockerControlPlane(clusterName: string): Promise<{ name: string; running: boolean; labels: Record<string, string> }[]> {
  const s = state();
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`${NodeLabels.installation}=${s.installationId}`, `${NodeLabels.cluster}=${clusterName}`, `${NodeLabels.role}=control-plane`] },
  });
  return list.map((c) => ({ name: (c.Names[0] ?? '').replace(/^\//, ''), running: c.State === 'running', labels: c.Labels }));
}

export async function dockerNetworks(clusterName: string): Promise<string[]> {
  const s = state();
  const nets = await docker.listNetworks({
    filters: { label: [`${NodeLabels.installation}=${s.installationId}`, `${NodeLabels.cluster}=${clusterName}`] },
  });
  return nets.map((n) => n.Name);
}

export const clusterBody = (pools: { name: string; count: number; mode?: string; vmSize?: string }[], extra: Record<string, unknown> = {}) => ({
  location: 'eastus',
  properties: {
    dnsPrefix: 'it',
    agentPoolProfiles: pools.map((p) => ({ vmSize: 'Standard_DS2_v2', mode: 'System', osType: 'Linux', ...p })),
    ...extra,
  },
});

/** A new service principal, signed in: its object id, application id and an ARM token (client credentials). */
export async function newPrincipal(displayName: string): Promise<{ id: string; appId: string; token: string }> {
  const created = await arm<{ id: string; appId: string; passwordCredentials: { secretText: string }[] }>('POST', '/v1.0/servicePrincipals', {
    body: { displayName },
  });
  if (created.status !== 201) throw new Error(`creating principal ${displayName} answered ${created.status}: ${created.text}`);
  const t = await arm<{ access_token: string }>('POST', `/${state().bootstrap.tenantId}/oauth2/v2.0/token`, {
    token: null,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    rawBody: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: created.body.appId,
      client_secret: created.body.passwordCredentials[0].secretText,
      scope: ARM_SCOPE,
    }).toString(),
  });
  if (t.status !== 200) throw new Error(`signing in as ${displayName} answered ${t.status}: ${t.text}`);
  return { id: created.body.id, appId: created.body.appId, token: t.body.access_token };
}
