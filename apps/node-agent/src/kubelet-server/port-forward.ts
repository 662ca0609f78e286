import { connect, type Socket } from 'node:net';
import type { LogLine } from '../server';
import { RST_PROTOCOL_ERROR, SpdySession, type SpdyStream } from './spdy';

/** client-go's protocol name for port forwarding over SPDY (X-Stream-Protocol-Version). */
export const PORT_FORWARD_PROTOCOL_V1 = 'portforward.k8s.io';

/** A pod a port is forwarded into: where its ports are reached from this node. */
export interface PortForwardTarget {
  /** namespace/name, for messages. */
  pod: string;
  uid: string;
  /** The pod's IP on the node's pod network. */
  podIP: string;
}

/** Why there is nothing to forward to, with the status the kubelet answers (404: no such pod). */
export interface PortForwardRefused {
  error: string;
  status: number;
}

export const isPortForwardRefused = (r: PortForwardTarget | PortForwardRefused): r is PortForwardRefused => 'error' in r;

export type PortForwardLocator = (ref: { namespace: string; pod: string }) => Promise<PortForwardTarget | PortForwardRefused>;

/** Upstream's wait for the second stream of a pair (kubelet's streamCreationTimeout). */
const PAIR_TIMEOUT_MS = 30_000;

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

/**
 * kubelet's port-forward protocol (pkg/kubelet/cri/streaming/portforward/httpstream.go) on an accepted SPDY session:
 * each forwarded connection is a pair of client streams with the same `requestid` and `port`, `streamtype: error`
 * and `streamtype: data`. The data stream is joined to a new TCP connection to the pod's port; what fails is told on
 * the error stream, which is ended (FIN) when the connection is over, as the client waits for that.
 *
 * The connection goes to the pod's IP from the node, not to the pod's loopback inside its network namespace (what
 * containerd does): a process in the pod that listens on 127.0.0.1 only cannot be reached.
 */
export function servePortForward(session: SpdySession, target: PortForwardTarget, log: LogLine, dial = defaultDial): void {
  const pairs = new Map<string, Pair>();
  session.on('stream', (stream: SpdyStream) => {
    const type = stream.header('streamtype');
    // Clients before requestid (kubectl < 1.6) paired streams by id: the data stream came right after its error stream.
    const requestId = stream.header('requestid') ?? String(type === 'data' ? stream.id - 2 : stream.id);
    if (type !== 'data' && type !== 'error') {
      log({ msg: 'port-forward: unknown stream type', pod: target.pod, type });
      return stream.cancel(RST_PROTOCOL_ERROR);
    }
    let pair = pairs.get(requestId);
    if (!pair) {
      const timer = setTimeout(() => {
        pairs.delete(requestId);
        pair?.data?.cancel();
        pair?.error?.cancel();
      }, PAIR_TIMEOUT_MS);
      pair = { timer };
      pairs.set(requestId, pair);
    }
    if (pair[type]) {
      log({ msg: 'port-forward: duplicate stream', pod: target.pod, type, requestId });
      return stream.cancel(RST_PROTOCOL_ERROR);
    }
    pair[type] = stream;
    if (pair.data && pair.error) {
      clearTimeout(pair.timer);
      pairs.delete(requestId);
      forward(pair.data, pair.error, target, dial);
    }
  });
  session.on('close', () => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
  });
}

function defaultDial(host: string, port: number): Socket {
  return connect({ host, port });
}

/** Parses the `port` header as upstream: a decimal 1..65535. */
export function parsePort(value: string | undefined): number | undefined {
  if (!value || !/^\d{1,5}$/.test(value)) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? port : undefined;
}

function forward(data: SpdyStream, errorStream: SpdyStream, target: PortForwardTarget, dial: (host: string, port: number) => Socket): void {
  // The client writes nothing on its error stream: what it sends (its FIN) is just read away.
  errorStream.resume();
  errorStream.on('error', () => undefined);
  data.on('error', () => undefined);
  const fail = (message: string) => {
    endOnce(errorStream, message);
    endOnce(data);
  };
  const portHeader = data.header('port');
  const port = parsePort(portHeader);
  if (port === undefined) return fail(`invalid port header: ${JSON.stringify(portHeader ?? '')}`);
  const socket = dial(target.podIP, port);
  let connected = false;
  socket.on('connect', () => {
    connected = true;
    socket.pipe(data);
    data.pipe(socket);
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    const why = err.code === 'ECONNREFUSED' ? `dial tcp4 ${target.podIP}:${port}: connect: connection refused` : err.message;
    fail(`error forwarding port ${port} to pod ${target.pod}, uid ${target.uid}: ${why}`);
    if (connected) data.destroy();
  });
  // The pod's side is over: the data stream ends once all is sent (socket.pipe ends it), then the error stream.
  socket.on('close', () => {
    if (data.writableFinished || data.destroyed) endOnce(errorStream);
    else data.once('finish', () => endOnce(errorStream)).once('close', () => endOnce(errorStream));
  });
  // The client reset its data stream (it does once its local connection is done): the pod's connection goes too.
  data.on('close', () => {
    if (data.reset) socket.destroy();
  });
}

function endOnce(stream: SpdyStream, last?: string): void {
  if (stream.destroyed || stream.writableEnded) return;
  if (last) stream.end(last);
  else stream.end();
}
