import { open, type FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { ByteLimit, CriLogDecoder, formatLine, selectLines, type ContainerLogOptions, type LogLine } from './cri-log';
import { isNotFound, type ContainerLogLocator, type ContainerLogRef, type LocatedLog } from './locator';

const READ_CHUNK = 64 * 1024;

/** How often a followed log looks for new data and asks whether its container still runs. */
export interface FollowTiming {
  pollMs: number;
}

/**
 * Writes a container's log to `res` (headers already sent) as kubelet does: the selected lines of what the file
 * holds, then, with follow, whatever the container writes until it stops, the byte limit is reached or `signal`
 * aborts (the client left).
 */
export async function writeContainerLog(
  res: ServerResponse,
  log: LocatedLog,
  ref: ContainerLogRef,
  opts: ContainerLogOptions,
  locator: ContainerLogLocator,
  signal: AbortSignal,
  timing: FollowTiming,
): Promise<void> {
  const file = await open(log.path, 'r');
  try {
    const limit = new ByteLimit(opts.limitBytes);
    const lines = new CriLogDecoder();
    const text = new StringDecoder('utf8');
    let position = 0;
    const readNew = async (): Promise<LogLine[]> => {
      const out: LogLine[] = [];
      for (;;) {
        const { bytesRead, buffer } = await file.read(Buffer.alloc(READ_CHUNK), 0, READ_CHUNK, position);
        if (bytesRead === 0) return out;
        position += bytesRead;
        out.push(...lines.push(text.write(buffer.subarray(0, bytesRead))));
      }
    };
    const write = async (batch: LogLine[]): Promise<void> => {
      for (const line of batch) {
        if (limit.exhausted || signal.aborted) return;
        if (!res.write(limit.take(formatLine(line, opts.timestamps)))) await waitDrain(res, signal);
      }
    };
    const sinceOnly = (batch: LogLine[]) => selectLines(batch, { sinceMs: opts.sinceMs });
    const first = await readNew();
    const following = opts.follow && log.running && !opts.previous;
    await write(selectLines(following ? first : [...first, ...lines.end()], opts));
    if (!following) return;
    while (!limit.exhausted && !signal.aborted) {
      await sleep(timing.pollMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      // Asked before reading, so nothing the container wrote just before it stopped is missed.
      const now = await locator({ ...ref, previous: false });
      const stopped = isNotFound(now) || now.path !== log.path || !now.running;
      await write(sinceOnly(await readNew()));
      if (stopped) {
        await write(sinceOnly([...lines.push(text.end()), ...lines.end()]));
        return;
      }
    }
  } finally {
    await closeQuietly(file);
  }
}

function waitDrain(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

async function closeQuietly(file: FileHandle): Promise<void> {
  await file.close().catch(() => undefined);
}
