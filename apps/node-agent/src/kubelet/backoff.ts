/** Upstream kubelet's container restart back-off: 10 s, doubling, at most 300 s. */
export const DEFAULT_BACKOFF_BASE_MS = 10_000;
export const DEFAULT_BACKOFF_MAX_MS = 300_000;

interface Entry {
  delayMs: number;
  lastUpdateMs: number;
}

/**
 * Per-key exponential back-off, measured from the event that failed (a container's finish time, a pull's failure), as
 * upstream's flowcontrol.Backoff is: a key is in back-off while less than its delay has passed since that event.
 * An entry whose event came more than twice the maximum after its last restart (the container ran ~10 min) starts
 * over at the base.
 */
export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly baseMs = DEFAULT_BACKOFF_BASE_MS,
    readonly maxMs = DEFAULT_BACKOFF_MAX_MS,
  ) {}

  /** The remaining wait (ms) and current delay when `key` must still wait after an event at `eventMs`; else undefined. */
  inBackoff(key: string, eventMs: number, nowMs: number): { remainingMs: number; delayMs: number } | undefined {
    const e = this.entries.get(key);
    if (!e || this.expired(e, eventMs)) return undefined;
    const remainingMs = eventMs + e.delayMs - nowMs;
    return remainingMs > 0 ? { remainingMs, delayMs: e.delayMs } : undefined;
  }

  /** Records a retry now of the event at `eventMs`: the next failure waits twice as long (up to the maximum). */
  next(key: string, eventMs: number, nowMs: number): number {
    const e = this.entries.get(key);
    const delayMs = !e || this.expired(e, eventMs) ? this.baseMs : Math.min(e.delayMs * 2, this.maxMs);
    this.entries.set(key, { delayMs, lastUpdateMs: nowMs });
    return delayMs;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every key starting with `prefix` (a pod's containers, once the pod is gone). */
  forget(prefix: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  private expired(e: Entry, eventMs: number): boolean {
    return eventMs - e.lastUpdateMs > 2 * this.maxMs;
  }
}

/** Go's time.Duration formatting for whole seconds and minutes, as the CrashLoopBackOff message shows it: `10s`, `5m0s`. */
export function formatDelay(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${s % 60}s`;
}
