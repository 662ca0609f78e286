import type Dockerode from 'dockerode';

/** How long a Docker request waits for a daemon that is away, and how often it looks again. */
export interface DockerWaitPolicy {
  /** Give up (the request fails with the daemon's last connect error) once this much time has passed. */
  budgetMs: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

/** A daemon restart (a crash, `kill -9` and start again) takes seconds; an operation waits up to a minute for it. */
export const DEFAULT_DOCKER_WAIT: DockerWaitPolicy = { budgetMs: 60_000, firstDelayMs: 250, maxDelayMs: 5_000 };

/**
 * Whether a Docker request failed before it reached the daemon: its socket is absent (daemon not started yet or
 * restarting) or refuses connections. Such a request did nothing, so it may be sent again as it is.
 */
export function neverReachedDaemon(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as NodeJS.ErrnoException;
  return (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') && e.syscall === 'connect';
}

type DialCallback = (err: unknown, data?: unknown) => void;
interface DialOptions {
  file?: unknown;
}
interface Modem {
  dial(options: DialOptions, callback: DialCallback): void;
}

/**
 * Makes every request of `docker` wait while its daemon is away instead of failing at once: a request that never
 * reached the daemon (neverReachedDaemon) is sent again with back-off until `policy.budgetMs` has passed, then fails
 * with the last error (ProviderError.fromDocker reports it as a transient `EngineUnavailable`). Without this a
 * daemon restart made every operation burn its job attempts in seconds. A request with a stream body is not
 * resent (the stream may have been read).
 */
export function waitingForDaemon(docker: Dockerode, policy: DockerWaitPolicy = DEFAULT_DOCKER_WAIT, onFirstWait?: (err: unknown) => void): Dockerode {
  const modem = docker.modem as Modem;
  const dial = modem.dial.bind(modem);
  modem.dial = (options: DialOptions, callback: DialCallback): void => {
    const resendable = options.file === undefined || typeof options.file === 'string' || Buffer.isBuffer(options.file);
    const started = Date.now();
    let delay = policy.firstDelayMs;
    const attempt = (): void =>
      dial({ ...options }, (err, data) => {
        const waited = Date.now() - started;
        if (err && resendable && neverReachedDaemon(err) && waited + delay <= policy.budgetMs) {
          if (delay === policy.firstDelayMs) onFirstWait?.(err);
          setTimeout(attempt, delay);
          delay = Math.min(delay * 2, policy.maxDelayMs);
          return;
        }
        callback(err, data);
      });
    attempt();
  };
  return docker;
}
