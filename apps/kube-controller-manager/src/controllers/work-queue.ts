import { setTimeout as sleep } from 'node:timers/promises';

export interface WorkQueueOptions {
  /** Keys reconciled at once (never the same key twice at a time). */
  concurrency?: number;
  /** First retry delay after a failed reconcile; doubles per failure of that key up to `maxBackoffMs`. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  onError?: (key: string, err: unknown) => void;
}

/**
 * Upstream's controller work queue: a key added while queued is queued once; a key added while it is being
 * reconciled runs again after that reconcile; a failed reconcile is retried with per-key exponential back-off;
 * `requeueAfter` schedules a later look (e.g. when minReadySeconds or a deadline passes).
 */
export class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private wake: (() => void) | undefined;
  private stopped = false;
  private workers: Promise<void>[] = [];

  constructor(
    private readonly reconcile: (key: string) => Promise<void>,
    private readonly options: WorkQueueOptions = {},
  ) {}

  start(): void {
    if (this.workers.length > 0) return;
    for (let i = 0; i < (this.options.concurrency ?? 4); i++) this.workers.push(this.work());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.wakeAll();
    await Promise.all(this.workers);
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.wakeAll();
  }

  requeueAfter(key: string, ms: number): void {
    if (this.stopped || this.timers.has(key)) return;
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    t.unref();
    this.timers.set(key, t);
  }

  get length(): number {
    return this.queued.size;
  }

  private wakeAll(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      const key = this.queued.values().next().value as string | undefined;
      if (key === undefined) {
        await new Promise<void>((resolve) => {
          const previous = this.wake;
          this.wake = () => {
            previous?.();
            resolve();
          };
        });
        continue;
      }
      this.queued.delete(key);
      this.running.add(key);
      try {
        await this.reconcile(key);
        this.failures.delete(key);
      } catch (err) {
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        this.options.onError?.(key, err);
        const delay = Math.min((this.options.baseBackoffMs ?? 100) * 2 ** (n - 1), this.options.maxBackoffMs ?? 30_000);
        this.requeueAfter(key, delay);
      } finally {
        this.running.delete(key);
        if (this.dirty.delete(key)) this.add(key);
      }
      // Yield so informer events are applied between reconciles.
      await sleep(0);
    }
  }
}
