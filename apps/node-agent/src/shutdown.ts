import { jsonLog } from './server';

/** A server `onShutdown` closes: an HTTP(S) server or the like. */
export type Closable = { close(cb: () => void): unknown; closeAllConnections(): void };

// Node as PID 1 ignores SIGTERM by default; without this, `docker stop` waits its full 10 s.
export function onShutdown(servers: Closable[], before: () => Promise<void> | void = () => undefined, graceMs = 1_000): void {
  const shutdown = (signal: NodeJS.Signals) => {
    jsonLog({ msg: 'stopping', signal });
    setTimeout(() => process.exit(0), graceMs).unref();
    void Promise.resolve(before()).finally(() => {
      let open = servers.length;
      for (const s of servers) {
        s.close(() => (--open === 0 ? process.exit(0) : undefined));
        s.closeAllConnections();
      }
    });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
