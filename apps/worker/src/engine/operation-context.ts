import { OperationEntity, OperationRepository, OperationStatus } from '@cerulean/domain';
import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { EntityManager } from 'typeorm';
import { OperationCanceled, OperationSuperseded } from './errors';

const PROGRESS_MIN_INTERVAL_MS = 250;
const CANCEL_POLL_MS = 250;

/** What a handler may do with the operation it runs: report progress, and learn that it is no longer wanted. */
export class OperationContext {
  private lastWrite = 0;
  private pending: number | undefined;
  private readonly controller = new AbortController();
  private watching = false;

  constructor(
    readonly operation: OperationEntity,
    private readonly db: EntityManager,
    private readonly operations: OperationRepository,
    readonly logger: Logger,
    /** Runs a nested group deployment in this operation's slot when nobody runs it yet (OperationRunner.runNested). */
    readonly runNested: (operationId: string) => Promise<boolean> = () => Promise.resolve(false),
  ) {}

  /**
   * Aborted (with OperationCanceled or OperationSuperseded as its reason) as soon as an abort or a delete
   * ends the operation's run, so long waits give up at once instead of at their next step.
   */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Polls for cancellation in the background until `stopWatching`. */
  startWatching(): void {
    if (this.watching) return;
    this.watching = true;
    void (async () => {
      while (this.watching && !this.controller.signal.aborted) {
        try {
          await this.assertActive();
        } catch (err) {
          if (err instanceof OperationCanceled || err instanceof OperationSuperseded) this.controller.abort(err);
          else this.logger.warn(`cancel watch of ${this.operation.id}: ${String(err)}`);
        }
        await sleep(CANCEL_POLL_MS);
      }
    })();
  }

  stopWatching(): void {
    this.watching = false;
  }

  /** Persists percentComplete (0–99; 100 comes with success), at most a few times a second. */
  async progress(done: number, total: number): Promise<void> {
    const pct = total <= 0 ? 0 : (100 * done) / total;
    this.pending = pct;
    const now = Date.now();
    if (now - this.lastWrite < PROGRESS_MIN_INTERVAL_MS && done < total) return;
    this.lastWrite = now;
    this.pending = undefined;
    await this.operations.setProgress(this.db, this.operation.id, pct);
  }

  async flushProgress(): Promise<void> {
    if (this.pending !== undefined) await this.operations.setProgress(this.db, this.operation.id, this.pending);
    this.pending = undefined;
  }

  /**
   * Throws OperationSuperseded when the operation was ended elsewhere (e.g. canceled by a delete), and
   * OperationCanceled when an abort asked it to stop.
   */
  async assertActive(): Promise<void> {
    if (this.controller.signal.aborted) throw this.controller.signal.reason;
    const rows: { status: string; cancel_requested_at: Date | null }[] = await this.db.query(
      'SELECT status, cancel_requested_at FROM operations WHERE id = $1',
      [this.operation.id],
    );
    if (rows[0]?.status !== OperationStatus.InProgress) throw new OperationSuperseded(this.operation.id);
    if (rows[0].cancel_requested_at) throw new OperationCanceled(this.operation.id);
  }

  /** `work`'s result, or the cancellation as soon as the operation is canceled (`work` itself goes on). */
  untilCanceled<T>(work: Promise<T>): Promise<T> {
    const signal = this.signal;
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e as Error);
        },
      );
    });
  }

  /** Waits `ms`, giving up at once when the operation is canceled. */
  async pause(ms: number): Promise<void> {
    if (ms <= 0) return;
    await sleep(ms, undefined, { signal: this.signal }).catch(() => {
      throw this.signal.reason;
    });
  }
}
