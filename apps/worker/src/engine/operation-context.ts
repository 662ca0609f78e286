import { OperationEntity, OperationRepository, OperationStatus } from '@cerulean/domain';
import { Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { OperationSuperseded } from './errors';

const PROGRESS_MIN_INTERVAL_MS = 250;

/** What a handler may do with the operation it runs: report progress and check it is still wanted. */
export class OperationContext {
  private lastWrite = 0;
  private pending: number | undefined;

  constructor(
    readonly operation: OperationEntity,
    private readonly db: EntityManager,
    private readonly operations: OperationRepository,
    readonly logger: Logger,
  ) {}

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

  /** Throws OperationSuperseded when the operation was canceled (e.g. by a delete) since it started. */
  async assertActive(): Promise<void> {
    const rows: { status: string }[] = await this.db.query('SELECT status FROM operations WHERE id = $1', [this.operation.id]);
    if (rows[0]?.status !== OperationStatus.InProgress) throw new OperationSuperseded(this.operation.id);
  }
}
