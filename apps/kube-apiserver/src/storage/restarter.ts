/** The pause before a start again. */
const RESTART_DELAY_MS = 1_000;

/**
 * Starts something again after a pause, and again after each failed start, until one succeeds or it is closed: how the
 * in-memory copies of etcd (list cache, watched objects, RBAC) come back after their watch broke. One start at a time.
 */
export class Restarter {
  private pending = false;

  constructor(
    private readonly closed: () => boolean,
    private readonly start: () => Promise<void>,
    private readonly failed: (err: Error) => void,
  ) {}

  /** Starts again after the pause, unless a start is already waiting or it is closed. */
  schedule(): void {
    if (this.closed() || this.pending) return;
    this.pending = true;
    setTimeout(() => {
      this.pending = false;
      if (this.closed()) return;
      this.start().catch((err) => {
        this.failed(err as Error);
        this.schedule();
      });
    }, RESTART_DELAY_MS).unref();
  }
}
