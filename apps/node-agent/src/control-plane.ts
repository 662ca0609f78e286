import * as http from 'node:http';
import * as https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { NodeAgentStatus } from '@cerulean/node-provider';
import type { LogLine } from './server';

/** Mirrors CONTROL_PLANE_* in libs/node-provider: the image carries no libs, so only types may be imported. */
export const CONTROL_PLANE_API_PORT = 6443;
export const CONTROL_PLANE_HEARTBEAT_PORT = 10251;
export const CONTROL_PLANE_ALIAS = 'cerulean-control-plane';
export const CONTROL_PLANE_PKI_DIR = '/etc/cerulean/pki';

/** How often node agents report; a node silent for 4 periods turns Ready=Unknown, for 12 it is dropped. */
export const HEARTBEAT_INTERVAL_MS = 5_000;
const UNKNOWN_AFTER_MS = 4 * HEARTBEAT_INTERVAL_MS;
const FORGET_AFTER_MS = 12 * HEARTBEAT_INTERVAL_MS;
const MAX_BODY_BYTES = 256 * 1024;

export interface ControlPlaneConfig {
  cluster: string;
  clusterId: string;
  /** Patch version without the `v` (1.33.2). */
  kubernetesVersion: string;
}

interface Registered {
  status: NodeAgentStatus;
  address: string;
  firstSeen: Date;
  lastSeen: Date;
  resourceVersion: number;
}

/** A Kubernetes `Status` failure body, as kube-apiserver answers errors. */
export function statusFailure(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/** `key[=value]:Effect` (the node agent's and AKS's spelling) as a Kubernetes taint. */
export function parseTaint(taint: string): { key: string; value?: string; effect: string } {
  const colon = taint.lastIndexOf(':');
  const keyValue = taint.slice(0, colon);
  const eq = keyValue.indexOf('=');
  return eq === -1
    ? { key: keyValue, effect: taint.slice(colon + 1) }
    : { key: keyValue.slice(0, eq), value: keyValue.slice(eq + 1), effect: taint.slice(colon + 1) };
}

/**
 * The cluster's API server as far as Cerulean goes: the nodes its agents report (heartbeats on the cluster
 * network) served as Kubernetes Node objects, plus version and health endpoints.
 */
export class ControlPlane {
  private readonly nodes = new Map<string, Registered>();
  private revision = 1;
  private readonly now: () => Date;

  constructor(
    readonly config: ControlPlaneConfig,
    options: { now?: () => Date } = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  report(status: NodeAgentStatus, address: string): void {
    const now = this.now();
    const previous = this.nodes.get(status.name);
    this.revision += 1;
    this.nodes.set(status.name, { status, address, firstSeen: previous?.firstSeen ?? now, lastSeen: now, resourceVersion: this.revision });
  }

  forget(name: string): boolean {
    this.revision += 1;
    return this.nodes.delete(name);
  }

  version(): Record<string, string> {
    const [major, minor] = this.config.kubernetesVersion.split('.');
    return {
      major: major ?? '',
      minor: minor ?? '',
      gitVersion: `v${this.config.kubernetesVersion}`,
      gitCommit: '0000000000000000000000000000000000000000',
      gitTreeState: 'clean',
      buildDate: '1970-01-01T00:00:00Z',
      goVersion: 'go1.24.0',
      compiler: 'gc',
      platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
    };
  }

  nodeList(): Record<string, unknown> {
    this.expire();
    const items = [...this.nodes.values()].sort((a, b) => a.status.name.localeCompare(b.status.name)).map((r) => this.toNode(r));
    return { kind: 'NodeList', apiVersion: 'v1', metadata: { resourceVersion: String(this.revision) }, items };
  }

  node(name: string): Record<string, unknown> | undefined {
    this.expire();
    const r = this.nodes.get(name);
    return r ? { kind: 'Node', apiVersion: 'v1', ...this.toNode(r) } : undefined;
  }

  /** Nodes silent for long are gone (removed containers do not say goodbye), as the cloud node controller deletes them. */
  private expire(): void {
    const now = this.now().getTime();
    for (const [name, r] of this.nodes) if (now - r.lastSeen.getTime() > FORGET_AFTER_MS) this.forget(name);
  }

  /** The NodeList as a meta.k8s.io Table, what `kubectl get nodes` asks for (its columns, wide ones at priority 1). */
  nodeTable(): Record<string, unknown> {
    const list = this.nodeList() as { metadata: Record<string, unknown>; items: KubeNode[] };
    const col = (name: string, priority = 0, format = '') => ({ name, type: 'string', format, description: '', priority });
    const now = this.now().getTime();
    return {
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      metadata: list.metadata,
      columnDefinitions: [
        col('Name', 0, 'name'),
        col('Status'),
        col('Roles'),
        col('Age'),
        col('Version'),
        col('Internal-IP', 1),
        col('External-IP', 1),
        col('OS-Image', 1),
        col('Kernel-Version', 1),
        col('Container-Runtime', 1),
      ],
      rows: list.items.map((n) => {
        const ready = n.status.conditions.find((c) => c.type === 'Ready');
        const status = ready?.status === 'True' ? 'Ready' : 'NotReady';
        return {
          cells: [
            n.metadata.name,
            n.spec.unschedulable ? `${status},SchedulingDisabled` : status,
            '<none>',
            shortHumanDuration(now - Date.parse(n.metadata.creationTimestamp)),
            n.status.nodeInfo.kubeletVersion,
            n.status.addresses.find((a) => a.type === 'InternalIP')?.address ?? '<none>',
            '<none>',
            n.status.nodeInfo.osImage,
            n.status.nodeInfo.kernelVersion || '<unknown>',
            n.status.nodeInfo.containerRuntimeVersion,
          ],
          object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: n.metadata },
        };
      }),
    };
  }

  private toNode(r: Registered): KubeNode {
    const s = r.status;
    const silentMs = this.now().getTime() - r.lastSeen.getTime();
    const conditions = s.conditions.map((c) =>
      silentMs > UNKNOWN_AFTER_MS
        ? {
            ...c,
            status: 'Unknown',
            reason: 'NodeStatusUnknown',
            message: 'Kubelet stopped posting node status.',
            lastTransitionTime: new Date(r.lastSeen.getTime() + UNKNOWN_AFTER_MS).toISOString(),
          }
        : c,
    );
    return {
      metadata: {
        name: s.name,
        uid: `${this.config.clusterId}-${s.name}`,
        resourceVersion: String(r.resourceVersion),
        creationTimestamp: s.startedAt,
        labels: s.labels,
        annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
      },
      spec: {
        providerID: `cerulean:///clusters/${this.config.clusterId}/nodes/${s.name}`,
        ...(s.taints.length ? { taints: s.taints.map(parseTaint) } : {}),
        ...(s.unschedulable ? { unschedulable: true } : {}),
      },
      status: {
        capacity: s.capacity,
        allocatable: s.allocatable,
        conditions,
        addresses: [
          { type: 'InternalIP', address: r.address },
          { type: 'Hostname', address: s.name },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          kubeletVersion: `v${s.kubernetesVersion}`,
          kubeProxyVersion: `v${s.kubernetesVersion}`,
          operatingSystem: 'linux',
          architecture: s.labels['kubernetes.io/arch'] ?? 'amd64',
          osImage: 'Ubuntu 22.04.5 LTS',
          containerRuntimeVersion: 'containerd://1.7.27-1',
          kernelVersion: '',
          machineID: '',
          systemUUID: '',
          bootID: '',
        },
      },
    };
  }
}

interface KubeNode {
  metadata: { name: string; creationTimestamp: string } & Record<string, unknown>;
  spec: { unschedulable?: boolean } & Record<string, unknown>;
  status: {
    conditions: { type: string; status: string }[];
    addresses: { type: string; address: string }[];
    nodeInfo: { kubeletVersion: string; osImage: string; kernelVersion: string; containerRuntimeVersion: string } & Record<string, string>;
  } & Record<string, unknown>;
}

/** kubectl's age format (k8s.io/apimachinery duration.HumanDuration, abridged). */
export function shortHumanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

interface Answer {
  statusCode: number;
  body: string;
  contentType: string;
}

const jsonAnswer = (statusCode: number, value: unknown): Answer => ({ statusCode, body: JSON.stringify(value), contentType: 'application/json' });
const textAnswer = (body: string): Answer => ({ statusCode: 200, body, contentType: 'text/plain; charset=utf-8' });

function send(res: http.ServerResponse, a: Answer): void {
  res.writeHead(a.statusCode, { 'content-type': a.contentType, 'content-length': Buffer.byteLength(a.body) });
  res.end(a.body);
}

export interface ApiServerTls {
  ca: string;
  cert: string;
  key: string;
}

/**
 * The published HTTPS endpoint. Every request must present a client certificate signed by the cluster CA
 * (anonymous access is off): others get 401 with a Kubernetes Status, as kube-apiserver answers them.
 */
export function createApiServer(cp: ControlPlane, tls: ApiServerTls, log: LogLine): https.Server {
  return https.createServer({ ca: tls.ca, cert: tls.cert, key: tls.key, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, (req, res) => {
    const socket = req.socket as TLSSocket;
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'https://apiserver').pathname.replace(/\/+$/, '') || '/';
    req.resume();
    let user = 'system:anonymous';
    let answer: Answer;
    if (!socket.authorized) {
      answer = jsonAnswer(401, statusFailure(401, 'Unauthorized', 'Unauthorized'));
    } else {
      const peer = socket.getPeerCertificate();
      user = typeof peer.subject?.CN === 'string' ? peer.subject.CN : 'unknown';
      answer =
        method === 'GET'
          ? route(cp, path, String(req.headers.accept ?? ''))
          : jsonAnswer(405, statusFailure(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
    }
    log({ msg: 'request', method, path, status: answer.statusCode, user });
    send(res, answer);
  });
}

function route(cp: ControlPlane, path: string, accept: string): Answer {
  switch (path) {
    case '/healthz':
    case '/livez':
    case '/readyz':
      return textAnswer('ok');
    case '/version':
      return jsonAnswer(200, cp.version());
    case '/api/v1/nodes':
      return jsonAnswer(200, /;\s*as=Table/.test(accept) ? cp.nodeTable() : cp.nodeList());
    // Discovery, so kubectl finds `nodes` (legacy discovery: kubectl falls back to it from aggregated discovery).
    case '/api':
      return jsonAnswer(200, {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `:${CONTROL_PLANE_API_PORT}` }],
      });
    case '/apis':
      return jsonAnswer(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    case '/api/v1':
      return jsonAnswer(200, {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [{ name: 'nodes', singularName: 'node', namespaced: false, kind: 'Node', verbs: ['get', 'list'], shortNames: ['no'] }],
      });
  }
  const m = /^\/api\/v1\/nodes\/([^/]+)$/.exec(path);
  if (m) {
    const node = cp.node(decodeURIComponent(m[1]));
    return node ? jsonAnswer(200, node) : jsonAnswer(404, statusFailure(404, 'NotFound', `nodes "${decodeURIComponent(m[1])}" not found`));
  }
  return jsonAnswer(404, statusFailure(404, 'NotFound', 'the server could not find the requested resource'));
}

/** Where node agents report: `PUT /nodes/{name}` with their status, `DELETE /nodes/{name}` when they stop. */
export function createHeartbeatServer(cp: ControlPlane, log: LogLine): http.Server {
  return http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const m = /^\/nodes\/([^/?]+)$/.exec(req.url ?? '');
    const address = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (!m || (method !== 'PUT' && method !== 'DELETE')) {
      req.resume();
      return send(res, jsonAnswer(404, { error: 'no route' }));
    }
    const name = decodeURIComponent(m[1]);
    if (method === 'DELETE') {
      req.resume();
      if (cp.forget(name)) log({ msg: 'node left', node: name });
      return send(res, jsonAnswer(200, {}));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      let status: NodeAgentStatus;
      try {
        if (size > MAX_BODY_BYTES) throw new Error('body too large');
        status = JSON.parse(Buffer.concat(chunks).toString('utf8')) as NodeAgentStatus;
        if (status.name !== name || status.clusterId !== cp.config.clusterId) throw new Error('node or cluster does not match');
      } catch (err) {
        return send(res, jsonAnswer(400, { error: err instanceof Error ? err.message : String(err) }));
      }
      cp.report(status, address);
      send(res, jsonAnswer(200, {}));
    });
  });
}
