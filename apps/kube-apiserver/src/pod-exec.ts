import type { IncomingMessage, IncomingHttpHeaders } from 'node:http';
import { request, type RequestOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { isPlainObject, JsonObject, KubeError, KubeObject } from '@cerulean/kube';
import { kubeletError, selectContainer, type KubeletClientConfig, type PodLogTarget } from './pod-logs';

/** v1.PodExecOptions as the query of `pods/{name}/exec` carries it. */
export interface PodExecOptions {
  container?: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

const KUBELET_DIAL_TIMEOUT_MS = 30_000;

/** The headers of the client's upgrade that the kubelet needs to answer it (websocket, or SPDY's protocol version). */
const UPGRADE_HEADERS = [
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'x-stream-protocol-version',
];

function parseBool(q: URLSearchParams, key: string): boolean {
  const v = q.get(key);
  if (v === null || v === '') return false;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw KubeError.badRequest(`strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

/**
 * Decodes the query as upstream (a flag that does not parse is a 400) and asks what the kubelet would refuse anyway.
 * An attach (v1.PodAttachOptions) has no command.
 */
export function parsePodExecOptions(q: URLSearchParams, attach = false): PodExecOptions {
  const opts: PodExecOptions = {
    container: q.get('container') || undefined,
    command: q.getAll('command'),
    stdin: parseBool(q, 'stdin'),
    stdout: parseBool(q, 'stdout'),
    stderr: parseBool(q, 'stderr'),
    tty: parseBool(q, 'tty'),
  };
  if (!attach && !opts.command.length) throw KubeError.badRequest('you must specify at least one command for the container');
  if (!opts.stdin && !opts.stdout && !opts.stderr) throw KubeError.badRequest('you must specify at least 1 of stdin, stdout, stderr');
  return opts;
}

/**
 * The container to run the command in (as `pods/log` chooses it), checked as upstream's exec location: the pod must be
 * on a node, and its container must run (a finished pod or a waiting container has nothing to exec into).
 */
export function execContainer(pod: KubeObject, opts: PodExecOptions, kind: 'exec' | 'attach' = 'exec'): { container: string; nodeName: string } {
  const name = pod.metadata.name;
  const container = selectContainer(pod, opts.container);
  const nodeName = String(((pod.spec ?? {}) as JsonObject).nodeName ?? '');
  if (!nodeName) throw KubeError.badRequest(`pod ${name} does not have a host assigned`);
  const status = (pod.status ?? {}) as JsonObject;
  const phase = String(status.phase ?? '');
  if (phase === 'Succeeded' || phase === 'Failed')
    throw KubeError.badRequest(`cannot ${kind === 'exec' ? 'exec into' : 'attach to'} a container in a completed pod; current phase is ${phase}`);
  const statuses = ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses'].flatMap((k) =>
    Array.isArray(status[k]) ? (status[k] as unknown[]).filter(isPlainObject) : [],
  ) as JsonObject[];
  const own = statuses.find((s) => s.name === container);
  if (own && !isPlainObject((own.state as JsonObject | undefined)?.running)) throw KubeError.badRequest(`container ${container} is not running in pod ${name}`);
  return { container, nodeName };
}

/** The kubelet's exec (or attach) path and query (upstream's streamParams: command, input, output, error, tty). */
export function kubeletExecPath(target: Pick<PodLogTarget, 'namespace' | 'pod' | 'container'>, opts: PodExecOptions, kind: 'exec' | 'attach' = 'exec'): string {
  const q = new URLSearchParams();
  for (const c of opts.command) q.append('command', c);
  if (opts.stdin) q.set('input', '1');
  if (opts.stdout) q.set('output', '1');
  if (opts.stderr) q.set('error', '1');
  if (opts.tty) q.set('tty', '1');
  return `/${kind}/${[target.namespace, target.pod, target.container].map(encodeURIComponent).join('/')}?${q.toString()}`;
}

/** v1.PodPortForwardOptions' `ports` (optional: the ports also travel in each stream's `port` header), as upstream checks them. */
export function parsePortForwardPorts(q: URLSearchParams): number[] {
  return q.getAll('ports').map((v) => {
    const port = /^\d{1,5}$/.test(v) ? Number(v) : NaN;
    if (!(port >= 1 && port <= 65535)) throw KubeError.badRequest(`port ${JSON.stringify(v)} must be between 1 and 65535, inclusive`);
    return port;
  });
}

/** The kubelet's port-forward path (upstream's `/portForward/{namespace}/{pod}`), the ports passed on. */
export function kubeletPortForwardPath(target: Pick<PodLogTarget, 'namespace' | 'pod'>, ports: number[]): string {
  const q = new URLSearchParams();
  for (const p of ports) q.append('port', String(p));
  const query = q.toString();
  return `/portForward/${[target.namespace, target.pod].map(encodeURIComponent).join('/')}${query ? `?${query}` : ''}`;
}

export function isUpgrade(headers: IncomingHttpHeaders): boolean {
  return (
    typeof headers.upgrade === 'string' &&
    (headers.connection ?? '')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .includes('upgrade')
  );
}

/**
 * Passes the client's upgrade on to the pod's kubelet (with the API server's kubelet client certificate) and, once the
 * kubelet switched protocols, joins the two connections byte for byte, as upstream's upgrade-aware proxy: the
 * stream protocol is the kubelet's and the client's business. A kubelet that refuses or cannot be reached is a Status
 * error (thrown) while the client's socket is still untouched.
 */
export function relayUpgrade(
  req: IncomingMessage,
  client: { socket: Duplex; head: Buffer },
  target: PodLogTarget,
  path: string,
  kubeletClient: KubeletClientConfig,
): Promise<void> {
  const headers: Record<string, string> = {};
  for (const h of UPGRADE_HEADERS) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const options: RequestOptions = {
    host: target.kubelet.host,
    port: target.kubelet.port,
    path,
    method: req.method,
    headers,
    servername: target.nodeName,
    ca: kubeletClient.caPem,
    cert: kubeletClient.cert?.certPem,
    key: kubeletClient.cert?.keyPem,
    rejectUnauthorized: !!kubeletClient.caPem,
    agent: false,
  };
  const url = `https://${target.kubelet.host.includes(':') ? `[${target.kubelet.host}]` : target.kubelet.host}:${target.kubelet.port}${path}`;
  return new Promise<void>((resolve, reject) => {
    const upstream = request(options);
    const dialing = setTimeout(
      () => upstream.destroy(new Error(`dial tcp ${target.kubelet.host}:${target.kubelet.port}: i/o timeout`)),
      KUBELET_DIAL_TIMEOUT_MS,
    );
    const gone = () => upstream.destroy();
    client.socket.once('close', gone);
    upstream.on('upgrade', (answer, kubelet: Duplex, kubeletHead: Buffer) => {
      clearTimeout(dialing);
      client.socket.off('close', gone);
      const lines = [`HTTP/1.1 101 ${answer.statusMessage || 'Switching Protocols'}`];
      for (let i = 0; i < answer.rawHeaders.length; i += 2) lines.push(`${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}`);
      client.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (kubeletHead.length) client.socket.write(kubeletHead);
      if (client.head.length) kubelet.write(client.head);
      kubelet.on('error', () => client.socket.destroy());
      client.socket.on('error', () => kubelet.destroy());
      kubelet.pipe(client.socket);
      client.socket.pipe(kubelet);
      kubelet.on('close', () => client.socket.destroy());
      client.socket.on('close', () => kubelet.destroy());
      resolve();
    });
    upstream.on('response', (answer) => {
      clearTimeout(dialing);
      client.socket.off('close', gone);
      let body = '';
      answer.setEncoding('utf8');
      answer.on('data', (c: string) => (body = (body + c).slice(0, 64 * 1024)));
      answer.on('end', () => reject(kubeletError(answer.statusCode ?? 500, body, target.pod, `pods/${path.split('/')[1]}`)));
      answer.on('error', (err) => reject(new KubeError(500, '', `${url}: ${err.message}`)));
    });
    upstream.on('error', (err) => {
      clearTimeout(dialing);
      client.socket.off('close', gone);
      const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
      const dial = e.code === 'ECONNREFUSED' ? `dial tcp ${e.address ?? ''}:${e.port ?? ''}: connect: connection refused` : err.message;
      reject(new KubeError(500, '', `error dialing backend: ${dial}`));
    });
    upstream.end();
  });
}
