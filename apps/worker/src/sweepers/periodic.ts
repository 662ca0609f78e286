import type { Logger } from '@nestjs/common';

/**
 * A sweeper's pass on a timer: every `intervalMs` (never when that is 0 or less), one at a time (asked while a pass
 * runs, it answers `idle` at once), and a pass that throws is logged and answers `idle`: a sweeper never stops for an
 * error, the next pass tries again.
 */
export class PeriodicPass<T> {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
    private readonly idle: T,
    private readonly pass: () => Promise<T>,
  ) {}

  start(intervalMs: number, opts: { immediately?: boolean } = {}): void {
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => void this.run(), intervalMs);
    if (opts.immediately) void this.run();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async run(): Promise<T> {
    if (this.running) return this.idle;
    this.running = true;
    try {
      return await this.pass();
    } catch (err) {
      this.logger.error(`${this.what} failed: ${err instanceof Error ? err.message : String(err)}`);
      return this.idle;
    } finally {
      this.running = false;
    }
  }
}
