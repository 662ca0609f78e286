import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { LogLine } from '../server';
import { isRefused, runAttach, runExec, type ExecContainerLocator, type ExecRuntime } from './exec';
import { writeContainerLog } from './container-logs';
import { LogOptionsError, parseContainerLogQuery } from './cri-log';
import { isNotFound, type ContainerLogLocator } from './locator';
import { isPortForwardRefused, PORT_FORWARD_PROTOCOL_V1, servePortForward, type PortForwardLocator } from './port-forward';
import { chooseProtocol, ExecOptionsError, parseExecQuery } from './remote-command';
import { SpdySession } from './spdy';
import { acceptKey, WebSocketConn } from './websocket';

export interface KubeletServingTls {
  /** The cluster CA: it signs the kubelet's serving certificate and every client the kubelet accepts. */
  ca: string;
  cert: string;
  key: string;
}

/** Who called, from the client certificate as the API server reads one: CN = user, O = groups. */
export interface KubeletUser {
  name: string;
  groups: string[];
}

/** What a request asks, in the terms of kubelet's authorizer: verb on `nodes/<subresource>` of this node. */
export interface KubeletRequestAttributes {
  verb: string;
  subresource: 'log' | 'proxy' | 'stats' | 'metrics' | 'spec';
}

export type KubeletAuthorizer = (user: KubeletUser, attrs: KubeletRequestAttributes) => boolean | Promise<boolean>;

/** The API server's identity toward kubelets (kubeadm's apiserver-kubelet-client certificate). */
export const API_SERVER_KUBELET_CLIENT = 'kube-apiserver-kubelet-client';

/**
 * Lets in the API server's kubelet client and cluster admins (system:masters), nobody else: for a kubelet that cannot
 * reach the API server to ask it (webhookAuthorizer, upstream's mode, is what a registered node uses).
 */
export const apiServerOnly: KubeletAuthorizer = (user) => user.name === API_SERVER_KUBELET_CLIENT || user.groups.includes('system:masters');

export interface KubeletServerOptions {
  tls: KubeletServingTls;
  locator: ContainerLogLocator;
  log: LogLine;
  authorize?: KubeletAuthorizer;
  /** How often a followed log is polled (ms). */
  followPollMs?: number;
  /** `/exec`: how the container is found and the command run; without it exec is 404. */
  exec?: { locate: ExecContainerLocator; runtime: ExecRuntime };
  /** `/portForward/{namespace}/{pod}`: where the pod's ports are reached; without it the path is 404. */
  portForward?: PortForwardLocator;
  /** `/metrics/resource`: the Prometheus text of the node's and its containers' usage; without it the path is 404. */
  resourceMetrics?: () => Promise<string>;
}

/** The kubelet's serving certificate, written by the platform beside the node's client certificate (absent on older nodes). */
export function readKubeletServingTls(dir: string, log: LogLine): KubeletServingTls | undefined {
  try {
    const file = (name: string) => readFileSync(join(dir, name), 'utf8');
    return { ca: file('ca.crt'), cert: file('kubelet.crt'), key: file('kubelet.key') };
  } catch (err) {
    log({ msg: 'no kubelet serving certificate: container logs are not served', dir, error: String(err) });
    return undefined;
  }
}

/**
 * The kubelet's HTTPS API, as far as Cerulean serves it: `GET /containerLogs/{namespace}/{pod}/{container}`. Clients
 * authenticate with a certificate the cluster CA signed (anonymous requests are 401, as with kubelet's
 * `--anonymous-auth=false`), then `authorize` decides.
 */
export function createKubeletServer(opts: KubeletServerOptions): Server {
  const authorize = opts.authorize ?? apiServerOnly;
  const pollMs = opts.followPollMs ?? 250;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const user = clientOf(req);
    if (!user) return plain(res, 401, 'Unauthorized');
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const subresource = parts[0] === 'logs' ? 'log' : parts[0] === 'metrics' ? 'metrics' : 'proxy';
    const attrs: KubeletRequestAttributes = { verb: verbOf(req.method ?? 'GET'), subresource };
    const what = `user=${user.name}, verb=${attrs.verb}, resource=nodes, subresource=${attrs.subresource}`;
    let allowed: boolean;
    try {
      allowed = await authorize(user, attrs);
    } catch (err) {
      opts.log({ msg: 'kubelet authorization error', user: user.name, verb: attrs.verb, subresource: attrs.subresource, error: String(err) });
      return plain(res, 500, `Authorization error (${what})`);
    }
    if (!allowed) return plain(res, 403, `Forbidden (${what})`);
    if (parts[0] === 'metrics' && parts[1] === 'resource' && parts.length === 2 && opts.resourceMetrics) {
      if (req.method !== 'GET') return plain(res, 405, 'Method Not Allowed');
      const body = await opts.resourceMetrics();
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      return void res.end(body);
    }
    if (parts[0] !== 'containerLogs') return plain(res, 404, '404 page not found');
    if (req.method !== 'GET') return plain(res, 405, 'Method Not Allowed');
    const [namespace, pod, container] = parts.slice(1);
    if (!pod) return plain(res, 400, '{"message": "Missing podID."}');
    if (!container) return plain(res, 400, '{"message": "Missing container name."}');
    if (!namespace) return plain(res, 400, '{"message": "Missing podNamespace."}');
    let options;
    try {
      options = parseContainerLogQuery(url.searchParams);
    } catch (err) {
      if (err instanceof LogOptionsError) return plain(res, err.status, err.message);
      throw err;
    }
    const ref = { namespace, pod, container, previous: options.previous };
    const located = await opts.locator(ref);
    if (isNotFound(located)) return plain(res, located.status, located.error);
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    // Headers first: a followed log may stay quiet for long, and the API server waits for them before it answers.
    res.flushHeaders();
    await writeContainerLog(res, located, ref, options, opts.locator, gone.signal, { pollMs });
    res.end();
  };
  const server = createServer({ ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.log({ msg: 'kubelet request failed', method: req.method, url: req.url, error: String(err) });
      if (!res.headersSent) plain(res, 500, String(err instanceof Error ? err.message : err));
      else res.destroy();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrade(req, socket, head).catch((err: unknown) => {
      opts.log({ msg: 'kubelet upgrade failed', url: req.url, error: String(err) });
      rawAnswer(socket, 500, String(err instanceof Error ? err.message : err));
    });
  });
  /** `GET|POST /exec|attach/{namespace}/{pod}/{container}?command=…&input=1&output=1&error=1&tty=1` over websocket. */
  const upgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    socket.on('error', () => undefined);
    const user = clientOf(req);
    if (!user) return rawAnswer(socket, 401, 'Unauthorized');
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    // Upstream's kubelet authorizer maps every path but its named ones (logs, stats, metrics, spec) to nodes/proxy.
    const attrs: KubeletRequestAttributes = { verb: verbOf(req.method ?? 'GET'), subresource: 'proxy' };
    if (!(await authorize(user, attrs))) return rawAnswer(socket, 403, `Forbidden (user=${user.name}, verb=${attrs.verb}, resource=nodes, subresource=proxy)`);
    if (parts[0] === 'portForward') return portForward(req, socket, head, user.name, parts);
    const attach = parts[0] === 'attach';
    if (!(parts[0] === 'exec' || attach) || parts.length !== 4 || !opts.exec) return rawAnswer(socket, 404, '404 page not found');
    if (req.method !== 'GET' && req.method !== 'POST') return rawAnswer(socket, 405, 'Method Not Allowed');
    const [, namespace, pod, container] = parts;
    let options;
    try {
      options = parseExecQuery(url.searchParams, attach);
    } catch (err) {
      if (err instanceof ExecOptionsError) return rawAnswer(socket, 400, err.message);
      throw err;
    }
    const located = await opts.exec.locate({ namespace, pod, container });
    if (isRefused(located)) return rawAnswer(socket, located.status, located.error);
    const key = req.headers['sec-websocket-key'];
    const protocol = chooseProtocol(req.headers['sec-websocket-protocol']);
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket' || typeof key !== 'string')
      return rawAnswer(socket, 400, 'exec needs a websocket upgrade (SPDY is not served)');
    if (!protocol) return rawAnswer(socket, 400, `none of the offered subprotocols is supported: ${req.headers['sec-websocket-protocol'] ?? ''}`);
    socket.write(
      [
        'HTTP/1.1 101 Switching Protocols',
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Accept: ${acceptKey(key)}`,
        `Sec-WebSocket-Protocol: ${protocol}`,
        '',
        '',
      ].join('\r\n'),
    );
    const ws = new WebSocketConn(socket, false, head);
    opts.log({ msg: parts[0], user: user.name, namespace, pod, container, tty: options.tty, stdin: options.stdin, protocol });
    if (attach) runAttach(ws, located.containerId, options, opts.exec.runtime);
    else runExec(ws, protocol, located.containerId, options, opts.exec.runtime);
  };
  /**
   * `GET|POST /portForward/{namespace}/{pod}[/{uid}]` over SPDY/3.1. A websocket upgrade (client-go's tunneled SPDY)
   * is refused with 400: kubectl then falls back to plain SPDY.
   */
  const portForward = async (req: IncomingMessage, socket: Duplex, head: Buffer, userName: string, parts: string[]): Promise<void> => {
    if (!opts.portForward || parts.length < 3 || parts.length > 4) return rawAnswer(socket, 404, '404 page not found');
    if (req.method !== 'GET' && req.method !== 'POST') return rawAnswer(socket, 405, 'Method Not Allowed');
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'spdy/3.1')
      return rawAnswer(socket, 400, 'port-forward is served over SPDY/3.1 only (Upgrade: SPDY/3.1), not over websockets');
    const offered = (req.headers['x-stream-protocol-version'] ?? '')
      .toString()
      .split(',')
      .map((p) => p.trim());
    if (offered.length && offered[0] !== '' && !offered.includes(PORT_FORWARD_PROTOCOL_V1))
      return rawAnswer(
        socket,
        403,
        `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server supports ["${PORT_FORWARD_PROTOCOL_V1}"]`,
      );
    const [, namespace, pod, uid] = parts;
    const target = await opts.portForward({ namespace, pod });
    if (isPortForwardRefused(target)) return rawAnswer(socket, target.status, target.error);
    if (uid && uid !== target.uid) return rawAnswer(socket, 404, `pod ${JSON.stringify(pod)} does not exist`);
    socket.write(
      ['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: SPDY/3.1', `X-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL_V1}`, '', ''].join(
        '\r\n',
      ),
    );
    const session = new SpdySession(socket, head);
    opts.log({ msg: 'portForward', user: userName, pod: target.pod, podIP: target.podIP });
    session.on('protocolError', (err: unknown) => opts.log({ msg: 'port-forward: protocol error', pod: target.pod, error: String(err) }));
    servePortForward(session, target, opts.log);
  };
  return server;
}

/** An HTTP answer on a socket that asked to upgrade (no ServerResponse exists for it). */
function rawAnswer(socket: Duplex, status: number, body: string): void {
  if (socket.destroyed) return;
  const text = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed' }[status] ?? 'Internal Server Error';
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function clientOf(req: IncomingMessage): KubeletUser | undefined {
  const socket = req.socket as TLSSocket;
  if (!socket.authorized) return undefined;
  const subject = socket.getPeerCertificate().subject as unknown as Record<string, string | string[] | undefined> | undefined;
  const cn = subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return undefined;
  const o = subject?.O;
  return { name, groups: o === undefined ? [] : Array.isArray(o) ? o : [o] };
}

function verbOf(method: string): string {
  switch (method) {
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return 'get';
  }
}

function plain(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
