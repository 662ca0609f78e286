/**
 * The remote command protocol over websocket (upstream's `v4.channel.k8s.io` and `v5.channel.k8s.io`): each binary
 * message starts with its channel byte. v5 adds the close channel (255), on which the client says it has no more
 * stdin.
 */
export const STREAM_PROTOCOL_V5 = 'v5.channel.k8s.io';
export const STREAM_PROTOCOL_V4 = 'v4.channel.k8s.io';
/** Ours first: the first of the client's offer we speak is chosen, in our order. */
export const SUPPORTED_PROTOCOLS = [STREAM_PROTOCOL_V5, STREAM_PROTOCOL_V4];

export const CH_STDIN = 0;
export const CH_STDOUT = 1;
export const CH_STDERR = 2;
export const CH_ERROR = 3;
export const CH_RESIZE = 4;
export const CH_CLOSE = 255;

/** The subprotocol to answer for a `Sec-WebSocket-Protocol` offer, or undefined when none fits. */
export function chooseProtocol(offer: string | undefined): string | undefined {
  const offered = (offer ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  return SUPPORTED_PROTOCOLS.find((p) => offered.includes(p));
}

export function frame(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return Buffer.concat([Buffer.from([channel]), body]);
}

export type ClientMessage =
  { kind: 'stdin'; data: Buffer } | { kind: 'resize'; width: number; height: number } | { kind: 'close'; channel: number } | { kind: 'ignored' };

/** What a message from the client means; `v5` tells whether the close channel exists. */
export function parseClientMessage(message: Buffer, v5: boolean): ClientMessage {
  if (!message.length) return { kind: 'ignored' };
  const channel = message[0];
  const data = message.subarray(1);
  if (channel === CH_STDIN) return { kind: 'stdin', data };
  if (channel === CH_RESIZE) {
    try {
      const size = JSON.parse(data.toString('utf8')) as { Width?: unknown; Height?: unknown };
      const width = Number(size.Width);
      const height = Number(size.Height);
      if (Number.isInteger(width) && Number.isInteger(height) && width >= 0 && height >= 0) return { kind: 'resize', width, height };
    } catch {
      // A size that does not parse is dropped, as upstream's resize loop does.
    }
    return { kind: 'ignored' };
  }
  if (channel === CH_CLOSE && v5 && data.length >= 1) return { kind: 'close', channel: data[0] };
  return { kind: 'ignored' };
}

/** The kubelet's exec query (upstream's remotecommand params: command, input, output, error, tty). */
export interface ExecOptions {
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export class ExecOptionsError extends Error {}

/**
 * As upstream kubelet's NewOptions: a stream flag is on when it is "1"; with a tty there is no separate stderr. An
 * attach has no command.
 */
export function parseExecQuery(q: URLSearchParams, attach = false): ExecOptions {
  const on = (key: string) => q.get(key) === '1';
  const opts: ExecOptions = { command: q.getAll('command'), stdin: on('input'), stdout: on('output'), stderr: on('error'), tty: on('tty') };
  if (!opts.stdin && !opts.stdout && !opts.stderr) throw new ExecOptionsError('you must specify at least 1 of stdin, stdout, stderr');
  if (!attach && !opts.command.length) throw new ExecOptionsError('you must specify at least one command for the container');
  if (opts.tty) opts.stderr = false;
  return opts;
}

/** The Status the error channel carries when the command ended: Success, or upstream's NonZeroExitCode with the code as cause. */
export function exitStatus(command: string[], code: number): string {
  if (code === 0) return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' });
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  });
}

/** The Status for a command that could not run at all (kubectl prints its message). */
export function failureStatus(message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 });
}
