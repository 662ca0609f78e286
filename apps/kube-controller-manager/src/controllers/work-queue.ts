import { KubeApiError } from '../client/kube-client';

/** What a reconcile may ask for besides success: to be looked at again after a while (waiting on something). */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type Reconcile = (key: string) => Promise<ReconcileResult | void>;

export interface WorkQueueOptions {
  /** First retry delay after a failure; doubles per consecutive failure of the same key. */
  baseDelayMs?: number;
  /** The longest a failing key waits (upstream's rate limiter caps at 1000 s; controllers here want quicker healing). */
  maxDelayMs?: number;
  /** Keys reconciled at once. */
  workers?: number;
  onError?: (key: string, err: unknown, failures: number) => void;
}

/**
 * A keyed work queue as client-go's controllers use one: a key added many times while waiting is processed once,
 * a key is never processed by two workers at once (added again while in flight, it runs once more afterwards),
 * a failing key is retried with a per-key exponential back-off bounded by `maxDelayMs`, and a success forgets
 * the key's failures.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  private readonly idle: (() => void)[] = [];
  private wake: (() => void) | undefined;
  private stopped = false;
  private workers: Promise<void>[] = [];

  constructor(
    private readonly reconcile: Reconcile,
    private readonly options: WorkQueueOptions = {},
  ) {}

  add(key: string): void {
    if (this.stopped || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // re-run once the current pass ends
    this.queue.push(key);
    this.wake?.();
  }

  /** Adds the key after `ms`; an earlier pending delayed add of the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    // Already waiting: the earlier time wins, as in client-go's delaying queue.
    const due = Date.now() + ms;
    const waiting = this.timers.get(key);
    if (waiting) {
      if (waiting.due <= due) return;
      clearTimeout(waiting.timer);
    }
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { timer, due });
  }

  get length(): number {
    return this.queue.length;
  }

  start(): void {
    if (this.workers.length) return;
    const n = this.options.workers ?? 2;
    for (let i = 0; i < n; i++) this.workers.push(this.work());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.wake?.();
    await Promise.all(this.workers);
  }

  /** Resolves when nothing is queued, in flight or waiting on a retry timer (tests and orderly shutdowns). */
  drained(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.processing.size === 0 && this.timers.size === 0;
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      const key = this.queue.shift();
      if (key === undefined) {
        await new Promise<void>((resolve) => {
          const previous = this.wake;
          this.wake = () => {
            this.wake = undefined;
            previous?.();
            resolve();
          };
        });
        continue;
      }
      this.dirty.delete(key);
      this.processing.add(key);
      try {
        const result = await this.reconcile(key);
        this.failures.delete(key);
        if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        const failures = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, failures);
        this.options.onError?.(key, err, failures);
        this.addAfter(key, this.backoff(failures, err));
      } finally {
        this.processing.delete(key);
        if (this.dirty.has(key)) {
          this.queue.push(key);
          this.wake?.();
        }
        if (this.isIdle()) for (const resolve of this.idle.splice(0)) resolve();
      }
    }
  }

  private backoff(failures: number, err: unknown): number {
    // A conflict means someone else wrote first: read again soon rather than wait out a long back-off.
    const base = err instanceof KubeApiError && err.code === 409 ? 5 : (this.options.baseDelayMs ?? 50);
    return Math.min(base * 2 ** (failures - 1), this.options.maxDelayMs ?? 30_000);
  }
}
