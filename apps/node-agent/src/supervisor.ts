import { spawn, type ChildProcess } from 'node:child_process';
import type { LogLine } from './server';

export interface ChildSpec {
  /** For logs. */
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
}

export interface SupervisorOptions {
  /** First restart delay; doubles per crash up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A child that ran this long before crashing is restarted after `initialBackoffMs` again. */
  stableAfterMs?: number;
  /** How long a child may take to exit after SIGTERM before it is killed. */
  stopTimeoutMs?: number;
}

/**
 * Keeps one child process running: restarts it when it exits, with exponential back-off so a child that
 * crashes at start does not spin, and stops it on request (SIGTERM, then SIGKILL after a grace period).
 * The child's stdout and stderr are the container's (Docker's log driver collects them).
 */
export class SupervisedChild {
  private child: ChildProcess | undefined;
  private stopping = false;
  private backoffMs: number;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly opts: Required<SupervisorOptions>;
  /** Times the child was started (the first start included). */
  starts = 0;

  constructor(
    readonly spec: ChildSpec,
    private readonly log: LogLine,
    options: SupervisorOptions = {},
  ) {
    this.opts = { initialBackoffMs: 500, maxBackoffMs: 30_000, stableAfterMs: 60_000, stopTimeoutMs: 4_000, ...options };
    this.backoffMs = this.opts.initialBackoffMs;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.stopping || this.child) return;
    const startedAt = Date.now();
    const child = spawn(this.spec.command, this.spec.args, { env: { ...process.env, ...this.spec.env }, stdio: ['ignore', 'inherit', 'inherit'] });
    this.child = child;
    this.starts += 1;
    this.log({ msg: 'child started', child: this.spec.name, pid: child.pid, starts: this.starts });
    child.once('error', (err) => this.log({ msg: 'child failed to start', child: this.spec.name, error: err.message }));
    child.once('exit', (code, signal) => {
      this.child = undefined;
      if (this.stopping) return;
      if (Date.now() - startedAt >= this.opts.stableAfterMs) this.backoffMs = this.opts.initialBackoffMs;
      const delay = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs);
      this.log({ msg: 'child exited, restarting', child: this.spec.name, code, signal, restartInMs: delay });
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        this.start();
      }, delay);
    });
  }

  /** Stops the child and keeps it stopped: SIGTERM, then SIGKILL after the grace period. */
  stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), this.opts.stopTimeoutMs);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}

/** Polls `probe` until it resolves true, or rejects after `timeoutMs` with the last failure. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not ready';
  for (;;) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms: ${last}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
