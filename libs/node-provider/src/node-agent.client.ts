import * as http from 'node:http';
import { ProviderError } from './provider-error';

/** Kubernetes-style resource list: `{ cpu: '2', memory: '7168Mi', pods: '110' }`. */
export type ResourceList = Record<string, string>;

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface NodeCondition {
  type: 'Ready';
  status: ConditionStatus;
  reason: string;
  message: string;
  /** ISO 8601. */
  lastHeartbeatTime: string;
  /** ISO 8601. */
  lastTransitionTime: string;
}

export interface NodeCgroupLimits {
  version: 'v1' | 'v2' | null;
  /** cgroup v2 `cpu.max` format (`"<quota> <period>"` or `"max <period>"`), synthesized on v1; null if unreadable. */
  cpuMax: string | null;
  /** quota / period; null when unlimited or unreadable. */
  cpus: number | null;
  /** null when unlimited or unreadable. */
  memoryMaxBytes: number | null;
}

/** What the node agent serves on `GET /status` (and returns from cordon/uncordon/drain). */
export interface NodeAgentStatus {
  name: string;
  cluster: string;
  clusterId: string;
  pool: string;
  zone: string;
  vmSize: string;
  kubernetesVersion: string;
  nodeImageVersion: string;
  labels: Record<string, string>;
  /** `key[=value]:Effect`, as AKS spells node taints. */
  taints: string[];
  conditions: NodeCondition[];
  capacity: ResourceList;
  allocatable: ResourceList;
  cgroup: NodeCgroupLimits;
  unschedulable: boolean;
  drained: boolean;
  /** ISO 8601. */
  startedAt: string;
  uptimeSeconds: number;
}

export interface WaitUntilReadyOptions {
  timeoutMs: number;
  /** Pause between polls; default 50 ms (an agent boots in ~50 ms). */
  intervalMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 2_000;
const MIN_POLL_MS = 25;

interface HttpResult {
  statusCode: number;
  body: string;
}

/** Talks to a node agent over HTTP. Errors are `ProviderError`s; unreachable or not-ready agents are transient. */
export class NodeAgentClient {
  /** `GET /status`; rejects unless the agent answers 200 with a status document. */
  async status(agentUrl: string, timeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS): Promise<NodeAgentStatus> {
    return this.call('GET', agentUrl, '/status', timeoutMs);
  }

  /** `token`: the node's credential (`NodeAgentCredentials.tokenFor`); the agent refuses changes without it. */
  cordon(agentUrl: string, token: string, timeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS): Promise<NodeAgentStatus> {
    return this.call('POST', agentUrl, '/cordon', timeoutMs, token);
  }

  uncordon(agentUrl: string, token: string, timeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS): Promise<NodeAgentStatus> {
    return this.call('POST', agentUrl, '/uncordon', timeoutMs, token);
  }

  drain(agentUrl: string, token: string, timeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS): Promise<NodeAgentStatus> {
    return this.call('POST', agentUrl, '/drain', timeoutMs, token);
  }

  /**
   * Polls `/status` until it answers 200 with Ready=True. A TCP connect proves nothing here:
   * docker-proxy accepts connections before the agent listens.
   */
  async waitUntilReady(agentUrl: string, options: WaitUntilReadyOptions): Promise<NodeAgentStatus> {
    const { timeoutMs, intervalMs = 50, signal } = options;
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const remaining = deadline - Date.now();
      // A poll cut to a few ms would only replace the last real answer with "timed out".
      if (remaining <= 0 || (attempt > 0 && remaining < MIN_POLL_MS)) break;
      try {
        const status = await this.status(agentUrl, Math.min(remaining, DEFAULT_REQUEST_TIMEOUT_MS));
        const ready = readyCondition(status);
        if (ready?.status === 'True') return status;
        last = ready ? `Ready=${ready.status} (${ready.reason}: ${ready.message})` : 'no Ready condition';
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())), signal);
    }
    throw new ProviderError(`node agent at ${agentUrl} not Ready after ${timeoutMs} ms; last: ${last}`, {
      code: 'AgentNotReady',
      transient: true,
    });
  }

  private async call(method: 'GET' | 'POST', agentUrl: string, path: string, timeoutMs: number, token?: string): Promise<NodeAgentStatus> {
    const url = new URL(path, agentUrl);
    let res: HttpResult;
    try {
      res = await request(method, url, timeoutMs, token);
    } catch (err) {
      throw new ProviderError(`node agent ${method} ${url.href} failed: ${errorMessage(err)}`, {
        code: 'AgentUnavailable',
        transient: true,
        cause: err,
      });
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      // The agent is there and refuses this platform's credential: not "unavailable" (a drain must not skip it).
      throw new ProviderError(`node agent ${method} ${url.href} refused the platform's credential (${res.statusCode}): ${res.body.slice(0, 200)}`, {
        code: 'AgentUnauthorized',
        transient: false,
        statusCode: res.statusCode,
      });
    }
    if (res.statusCode !== 200) {
      throw new ProviderError(`node agent ${method} ${url.href} answered ${res.statusCode}: ${res.body.slice(0, 200)}`, {
        code: 'AgentUnavailable',
        transient: res.statusCode >= 500,
        statusCode: res.statusCode,
      });
    }
    return parseNodeAgentStatus(res.body);
  }
}

export function readyCondition(status: NodeAgentStatus): NodeCondition | undefined {
  return status.conditions.find((c) => c.type === 'Ready');
}

/** Parses and shape-checks a status document; throws a non-transient `ProviderError` when malformed. */
export function parseNodeAgentStatus(body: string): NodeAgentStatus {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    throw new ProviderError('node agent status is not JSON', { code: 'AgentProtocol', transient: false, cause: err });
  }
  if (!isNodeAgentStatus(doc)) {
    throw new ProviderError('node agent status document is malformed', { code: 'AgentProtocol', transient: false });
  }
  return doc;
}

function isNodeAgentStatus(doc: unknown): doc is NodeAgentStatus {
  if (typeof doc !== 'object' || doc === null) return false;
  const d = doc as Record<string, unknown>;
  const strings = ['name', 'cluster', 'clusterId', 'pool', 'zone', 'vmSize', 'kubernetesVersion', 'nodeImageVersion', 'startedAt'];
  return (
    strings.every((k) => typeof d[k] === 'string') &&
    Array.isArray(d.conditions) &&
    d.conditions.every((c: unknown) => typeof c === 'object' && c !== null && typeof (c as Record<string, unknown>).type === 'string') &&
    Array.isArray(d.taints) &&
    typeof d.labels === 'object' &&
    d.labels !== null &&
    typeof d.capacity === 'object' &&
    typeof d.allocatable === 'object' &&
    typeof d.cgroup === 'object' &&
    typeof d.unschedulable === 'boolean' &&
    typeof d.uptimeSeconds === 'number'
  );
}

function request(method: string, url: URL, timeoutMs: number, token?: string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    // A fresh connection per call: a pooled socket to docker-proxy may point at an agent that restarted.
    const req = http.request(url, { method, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    // Total deadline, not the socket idle timeout `http.request` offers.
    const timer = setTimeout(() => req.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}
