import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { Duplex, type Readable, type Writable } from 'node:stream';
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
  /** The sandbox's network namespace (a file for setns); without it, ports are reached at the pod's IP. */
  netns?: string;
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
 */
export function servePortForward(session: SpdySession, target: PortForwardTarget, log: LogLine, dial: PodDialer = dialPod): void {
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

/** One forwarded connection into the pod: its bytes, and once it is over, why it failed (undefined: it did not). */
export interface PodConnection {
  socket: Duplex;
  done: Promise<string | undefined>;
  close(): void;
}

export type PodDialer = (target: PortForwardTarget, port: number) => PodConnection;

/** The binary whose `nsenter` applet enters the pod's namespace (in every node image). */
const BUSYBOX = '/bin/busybox';

/**
 * Run inside the pod's network namespace: connects to its loopback and joins the connection to stdin/stdout, half
 * closes included (busybox nc quits at the end of its input, before the answer).
 */
const NETNS_CONNECT = `
const port = Number(process.argv[1]);
const s = require('net').connect(port, '127.0.0.1');
s.on('error', (e) => {
  process.stderr.write(e.code === 'ECONNREFUSED' ? 'dial tcp4 127.0.0.1:' + port + ': connect: connection refused' : String(e.message));
  process.exitCode = 1;
});
process.stdin.pipe(s);
s.pipe(process.stdout);
// Not process.exit(): what is still queued for stdout would be lost. With stdin gone, the process ends once it is written.
s.on('close', () => process.stdin.destroy());
`;

/**
 * As containerd: inside the pod's network namespace to its 127.0.0.1 (a process listening on the pod's loopback only
 * is reached), one small helper process per connection; without a known namespace, to the pod's IP from the node.
 */
export function dialPod(target: PortForwardTarget, port: number): PodConnection {
  if (!target.netns) return dialTcp(target.podIP, port);
  const netns = target.netns;
  const child = spawn(BUSYBOX, ['nsenter', `--net=${netns}`, process.execPath, '-e', NETNS_CONNECT, String(port)], { stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(0, 4096)));
  child.stdin.on('error', () => undefined);
  const done = new Promise<string | undefined>((resolve) => {
    child.on('error', (err) => resolve(`failed to enter the network namespace ${JSON.stringify(netns)}: ${err.message}`));
    child.on('close', (code) =>
      resolve(
        code === 0 ? undefined : `failed to connect to localhost:${port} inside namespace ${JSON.stringify(netns)}: ${stderr.trim() || `exit code ${code}`}`,
      ),
    );
  });
  return { socket: new ChildStdio(child.stdout, child.stdin), done, close: () => child.kill('SIGKILL') };
}

/** A helper process's stdout and stdin as one connection (end() closes its stdin: the half close reaches the pod). */
class ChildStdio extends Duplex {
  constructor(
    private readonly out: Readable,
    private readonly input: Writable,
  ) {
    super({ allowHalfOpen: true });
    out.on('data', (c: Buffer) => {
      if (!this.push(c)) out.pause();
    });
    out.on('end', () => this.push(null));
    out.on('error', (err) => this.destroy(err));
  }

  override _read(): void {
    this.out.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.input.destroyed) return done(new Error('the helper process is gone'));
    this.input.write(chunk, (err) => done(err));
  }

  override _final(done: (err?: Error | null) => void): void {
    this.input.end(() => done());
  }
}

function dialTcp(host: string, port: number): PodConnection {
  const socket = connect({ host, port });
  let failure: string | undefined;
  socket.on('error', (err: NodeJS.ErrnoException) => {
    failure = err.code === 'ECONNREFUSED' ? `dial tcp4 ${host}:${port}: connect: connection refused` : err.message;
  });
  const done = new Promise<string | undefined>((resolve) => socket.on('close', () => resolve(failure)));
  return { socket, done, close: () => socket.destroy() };
}

/** Parses the `port` header as upstream: a decimal 1..65535. */
export function parsePort(value: string | undefined): number | undefined {
  if (!value || !/^\d{1,5}$/.test(value)) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? port : undefined;
}

function forward(data: SpdyStream, errorStream: SpdyStream, target: PortForwardTarget, dial: PodDialer): void {
  // The client writes nothing on its error stream: what it sends (its FIN) is just read away.
  errorStream.resume();
  errorStream.on('error', () => undefined);
  data.on('error', () => undefined);
  const portHeader = data.header('port');
  const port = parsePort(portHeader);
  if (port === undefined) {
    endOnce(errorStream, `invalid port header: ${JSON.stringify(portHeader ?? '')}`);
    return endOnce(data);
  }
  const conn = dial(target, port);
  conn.socket.on('error', () => undefined);
  conn.socket.pipe(data);
  data.pipe(conn.socket);
  // The pod's side is over: a failure is told on the error stream; then both streams end (the data stream once all
  // of the pod's answer is sent), as the client waits for both.
  void conn.done.then((failure) => {
    if (failure) {
      endOnce(errorStream, `error forwarding port ${port} to pod ${target.pod}, uid ${target.uid}: ${failure}`);
      return endOnce(data);
    }
    if (data.writableFinished || data.destroyed) endOnce(errorStream);
    else data.once('finish', () => endOnce(errorStream)).once('close', () => endOnce(errorStream));
  });
  // The client reset its data stream (it does once its local connection is done): the pod's connection goes too.
  data.on('close', () => {
    if (data.reset) conn.close();
  });
}

function endOnce(stream: SpdyStream, last?: string): void {
  if (stream.destroyed || stream.writableEnded) return;
  if (last) stream.end(last);
  else stream.end();
}
