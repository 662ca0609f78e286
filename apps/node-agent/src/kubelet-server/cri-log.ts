/**
 * Container logs as the CRI runtime writes them (containerd's CRI plugin): one entry a line,
 * `<RFC3339Nano time> <stdout|stderr> <P|F> <text>`. `P` marks a piece of a longer line the runtime split; the
 * pieces up to the next `F` entry of the same stream make one line. Lines are turned back into what the container
 * printed, as kubelet's ReadLogs does.
 */

export type LogStream = 'stdout' | 'stderr';

/** One CRI log entry. `time` keeps the text the runtime wrote (kubelet prints it unchanged with timestamps=true). */
export interface CriLogEntry {
  time: string;
  ms: number;
  stream: LogStream;
  partial: boolean;
  text: string;
}

/** A line the container printed, after joining partial entries: stamped with its first piece's time. */
export interface LogLine {
  time: string;
  ms: number;
  stream: LogStream;
  text: string;
}

const ENTRY = /^(\S+) (stdout|stderr) ([PF])(?: (.*))?$/s;

/** Parses one CRI log line (without its newline); undefined when it is not one (kubelet skips such lines too). */
export function parseCriEntry(line: string): CriLogEntry | undefined {
  const m = ENTRY.exec(line);
  if (!m) return undefined;
  const ms = Date.parse(m[1]);
  if (Number.isNaN(ms)) return undefined;
  return { time: m[1], ms, stream: m[2] as LogStream, partial: m[3] === 'P', text: m[4] ?? '' };
}

/**
 * Turns CRI file content into container lines, chunk by chunk: a trailing incomplete file line and open partial
 * pieces are kept for the next chunk (a followed file grows while it is read).
 */
export class CriLogDecoder {
  private rest = '';
  private readonly open = new Map<LogStream, { time: string; ms: number; text: string }>();

  push(chunk: string): LogLine[] {
    const data = this.rest + chunk;
    const lines = data.split('\n');
    this.rest = lines.pop() ?? '';
    const out: LogLine[] = [];
    for (const raw of lines) {
      const e = parseCriEntry(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
      if (!e) continue;
      const started = this.open.get(e.stream);
      const joined = started ? { ...started, text: started.text + e.text } : { time: e.time, ms: e.ms, text: e.text };
      if (e.partial) {
        this.open.set(e.stream, joined);
        continue;
      }
      this.open.delete(e.stream);
      out.push({ ...joined, stream: e.stream });
    }
    return out;
  }

  /** At the end of a finished file: an unterminated last entry and open pieces still count (the container is gone). */
  end(): LogLine[] {
    const out = this.rest ? this.push('\n') : [];
    for (const [stream, piece] of this.open) out.push({ ...piece, stream });
    this.open.clear();
    return out;
  }
}

/** The subset of v1.PodLogOptions the kubelet's containerLogs endpoint reads. */
export interface ContainerLogOptions {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
  /** Lines before this instant (ms since the epoch) are left out (sinceSeconds or sinceTime). */
  sinceMs?: number;
}

/** How a container line is printed: its text and newline, after its time when timestamps are asked for. */
export function formatLine(line: LogLine, timestamps: boolean): string {
  return `${timestamps ? `${line.time} ` : ''}${line.text}\n`;
}

/** Lines kept by sinceSeconds/sinceTime, then the last tailLines of those (kubelet applies both). */
export function selectLines(lines: LogLine[], opts: Pick<ContainerLogOptions, 'sinceMs' | 'tailLines'>): LogLine[] {
  const since = opts.sinceMs;
  const recent = since === undefined ? lines : lines.filter((l) => l.ms >= since);
  if (opts.tailLines === undefined) return recent;
  return opts.tailLines === 0 ? [] : recent.slice(-opts.tailLines);
}

/** Counts the bytes written against limitBytes: what still fits of each piece, and when to stop. */
export class ByteLimit {
  private left: number;

  constructor(limit: number | undefined) {
    this.left = limit ?? Number.POSITIVE_INFINITY;
  }

  get exhausted(): boolean {
    return this.left <= 0;
  }

  /** The part of `text` that may still be written (a cut may fall inside a UTF-8 character, as kubelet's does). */
  take(text: string): Buffer {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length <= this.left) {
      this.left -= bytes.length;
      return bytes;
    }
    const cut = bytes.subarray(0, Math.max(0, this.left));
    this.left = 0;
    return cut;
  }
}

export class LogOptionsError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The kubelet's reading of its query (v1 PodLogOptions): `tail` as an old name of tailLines, booleans as Go's
 * ParseBool, and upstream's terse answers for what does not decode (400) or validate (422).
 */
export function parseContainerLogQuery(q: URLSearchParams, now = Date.now()): ContainerLogOptions {
  const undecodable = () => new LogOptionsError(400, '{"message": "Unable to decode query."}');
  const invalid = () => new LogOptionsError(422, '{"message": "Invalid request."}');
  const bool = (key: string): boolean => {
    const v = q.get(key);
    if (v === null || v === '') return false;
    if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
    if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
    throw undecodable();
  };
  const int = (key: string): number | undefined => {
    const v = q.get(key);
    if (v === null || v === '') return undefined;
    if (!/^[+-]?\d+$/.test(v)) throw undecodable();
    return Number(v);
  };
  const tail = q.get('tail');
  const tailLines = tail === 'all' ? undefined : int(tail ? 'tail' : 'tailLines');
  const limitBytes = int('limitBytes');
  const sinceSeconds = int('sinceSeconds');
  const sinceTimeText = q.get('sinceTime') || undefined;
  let sinceTime: number | undefined;
  if (sinceTimeText !== undefined) {
    sinceTime = Date.parse(sinceTimeText);
    if (Number.isNaN(sinceTime)) throw undecodable();
  }
  if ((tailLines ?? 0) < 0 || (limitBytes !== undefined && limitBytes < 1) || (sinceSeconds !== undefined && sinceSeconds < 1)) throw invalid();
  if (sinceSeconds !== undefined && sinceTime !== undefined) throw invalid();
  return {
    follow: bool('follow'),
    previous: bool('previous'),
    timestamps: bool('timestamps'),
    tailLines,
    limitBytes,
    sinceMs: sinceSeconds !== undefined ? now - sinceSeconds * 1000 : sinceTime,
  };
}
