import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { text as readText } from 'node:stream/consumers';
import type { CriClient } from '../kubelet/cri';
import type { LogLine } from '../server';
import {
  CH_ERROR,
  CH_RESIZE,
  CH_STDERR,
  CH_STDIN,
  CH_STDOUT,
  exitStatus,
  failureStatus,
  frame,
  parseClientMessage,
  STREAM_PROTOCOL_V4,
  STREAM_PROTOCOL_V5,
  type ExecOptions,
} from './remote-command';
import { newClientKey, WebSocketConn } from './websocket';

export interface ExecContainerRef {
  namespace: string;
  pod: string;
  container: string;
}

/** The runtime's id of the running container a command is run in. */
export interface ExecContainer {
  containerId: string;
}

/** Why a command cannot run, with the status the kubelet answers (upstream's texts: 404 no pod, 500 no container). */
export interface ExecRefused {
  error: string;
  status: number;
}

export const isRefused = (r: ExecContainer | ExecRefused): r is ExecRefused => 'error' in r;

/** How the kubelet server finds the container of `/exec/{namespace}/{pod}/{container}`; the kubelet implements it from its pod state. */
export type ExecContainerLocator = (ref: ExecContainerRef) => Promise<ExecContainer | ExecRefused>;

export interface ExecRuntime {
  cri: CriClient;
  /** containerd's `ctr` and socket, for commands without a terminal. */
  ctr: { binary: string; address: string; namespace: string };
  log: LogLine;
}

/**
 * Runs the command for an accepted exec websocket and relays it. Without a tty the command runs through `ctr task
 * exec` with pipes: stdout and stderr stay apart and the end of stdin (v5's close channel) reaches the command, which
 * containerd's streaming server cannot be told over its websocket (it speaks v4 at most). With a tty it runs through
 * CRI Exec and containerd's streaming server (resize included), the relay passing frames through.
 */
export function runExec(ws: WebSocketConn, protocol: string, containerId: string, opts: ExecOptions, rt: ExecRuntime): void {
  const streams = { tty: opts.tty, stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr };
  if (opts.tty) void relayToStreamingServer(ws, () => rt.cri.exec({ containerId, cmd: opts.command, ...streams }), rt);
  else runWithCtr(ws, protocol, containerId, opts, rt);
}

/**
 * `kubectl attach`: the container's own streams, through CRI Attach and containerd's streaming server. The end of
 * stdin is not passed on (containerd speaks v4 at most); the session ends when the client or the container does.
 */
export function runAttach(ws: WebSocketConn, containerId: string, opts: ExecOptions, rt: ExecRuntime): void {
  void relayToStreamingServer(ws, () => rt.cri.attach({ containerId, tty: opts.tty, stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr }), rt);
}

function runWithCtr(ws: WebSocketConn, protocol: string, containerId: string, opts: ExecOptions, rt: ExecRuntime): void {
  const execId = `exec-${randomBytes(8).toString('hex')}`;
  const args = ['--address', rt.ctr.address, '--namespace', rt.ctr.namespace, 'task', 'exec', '--exec-id', execId, containerId, ...opts.command];
  const child = spawn(rt.ctr.binary, args, { stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const v5 = protocol === STREAM_PROTOCOL_V5;
  let done = false;
  // Back-pressure both ways: output waits while kubectl's connection is behind, kubectl's input while the command's is.
  const outputs = [child.stdout, child.stderr];
  ws.on('drain', () => outputs.forEach((o) => o?.resume()));
  // ctr's own error (the command could not start: no such executable…) is its first stderr, `ctr: …`: held back until
  // anything else comes, so a command that never ran ends as upstream's error rather than as exit code 1.
  let held: Buffer | undefined;
  let anyOutput = false;
  const send = (channel: number, chunk: Buffer) => {
    if (!ws.send(frame(channel, chunk))) outputs.forEach((o) => o?.pause());
  };
  const release = () => {
    if (held && opts.stderr) send(CH_STDERR, held);
    held = undefined;
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    anyOutput = true;
    release();
    if (opts.stdout) send(CH_STDOUT, chunk);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    if (!anyOutput && !held && chunk.subarray(0, 5).toString() === 'ctr: ') held = chunk;
    else {
      release();
      if (opts.stderr) send(CH_STDERR, chunk);
    }
    anyOutput = true;
  });
  child.stdin?.on('error', () => undefined);
  child.stdin?.on('drain', () => ws.resume());
  ws.on('message', (message: Buffer) => {
    const m = parseClientMessage(message, v5);
    if (m.kind === 'stdin' && child.stdin && !child.stdin.writableEnded) {
      if (!child.stdin.write(m.data)) ws.pause();
    } else if (m.kind === 'close' && m.channel === CH_STDIN) child.stdin?.end();
  });
  // The client left: the command is not waited for any more.
  ws.on('close', () => {
    if (!done) child.kill('SIGKILL');
  });
  child.on('error', (err) => {
    if (done) return;
    done = true;
    ws.send(frame(CH_ERROR, failureStatus(`failed to run the command in the container: ${err.message}`)));
    ws.close();
  });
  child.on('close', (code, signal) => {
    if (done) return;
    done = true;
    if (held && code === 1) {
      const reason = held.toString('utf8').slice('ctr: '.length).trim();
      ws.send(frame(CH_ERROR, failureStatus(`Internal error occurred: error executing command in container: ${reason}`)));
      ws.close();
      return;
    }
    release();
    // ctr exits with the command's status; killed by a signal, as a shell reports it.
    ws.send(frame(CH_ERROR, exitStatus(opts.command, code ?? 128 + signalNumber(signal))));
    ws.close();
  });
}

async function relayToStreamingServer(ws: WebSocketConn, streamUrl: () => Promise<string>, rt: ExecRuntime): Promise<void> {
  // Listening from the start: what kubectl sends at once (its terminal size) comes while the runtime is asked, and
  // waits until containerd's websocket is up.
  const pending: Buffer[] = [];
  let runtime: WebSocketConn | undefined;
  ws.on('message', (message: Buffer) => {
    // v4 on containerd's side has no close channel: the end of stdin of a terminal session is not passed on.
    if (!message.length || message[0] > CH_RESIZE) return;
    if (runtime) runtime.send(message);
    else pending.push(message);
  });
  ws.on('close', () => runtime?.close());
  let url: string;
  try {
    url = await streamUrl();
  } catch (err) {
    ws.send(frame(CH_ERROR, failureStatus(err instanceof Error ? err.message : String(err))));
    ws.close();
    return;
  }
  if (ws.isClosed) return;
  const req = request(url, {
    headers: {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': newClientKey(),
      'Sec-WebSocket-Protocol': STREAM_PROTOCOL_V4,
      Origin: 'http://127.0.0.1',
    },
  });
  req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
    runtime = new WebSocketConn(socket, true, head);
    runtime.on('message', (message: Buffer) => ws.send(message));
    runtime.on('close', () => ws.close());
    for (const m of pending.splice(0)) runtime.send(m);
    if (ws.isClosed) runtime.close();
  });
  req.on('response', (res) => {
    void readText(res)
      .catch((err: Error) => `(its answer broke off: ${err.message})`)
      .then((body) => {
        ws.send(frame(CH_ERROR, failureStatus(`the runtime refused the exec stream (${res.statusCode}): ${body.trim()}`)));
        ws.close();
      });
  });
  req.on('error', (err) => {
    rt.log({ msg: 'exec stream to the runtime failed', url, error: err.message });
    ws.send(frame(CH_ERROR, failureStatus(`the runtime's exec stream failed: ${err.message}`)));
    ws.close();
  });
  req.end();
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 };
  return (signal && numbers[signal]) ?? 0;
}
