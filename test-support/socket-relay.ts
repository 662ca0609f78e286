import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A Unix socket that forwards every connection to another one (the machine's Docker daemon), and can be cut and
 * opened again: while cut, the path does not exist and every connection through it was dropped mid-request, as a
 * daemon that crashed and came back (with --live-restore) looks to its clients. The machine's daemon, which others
 * share, is never touched (issue 18, finding 2).
 */
export class SocketRelay {
  private server: Server | undefined;
  private readonly piped = new Set<Socket>();
  /** Connections forwarded so far. */
  connections = 0;

  constructor(
    readonly path: string,
    private readonly upstream: string,
  ) {}

  get open(): boolean {
    return this.server !== undefined;
  }

  /** Starts forwarding (again). */
  async listen(): Promise<void> {
    if (this.server) return;
    rmSync(this.path, { force: true });
    const server = createServer((client) => {
      const upstream = connect(this.upstream);
      this.connections += 1;
      this.piped.add(client).add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.piped.delete(client);
        this.piped.delete(upstream);
      };
      client.pipe(upstream).pipe(client);
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((res, rej) => server.once('error', rej).listen(this.path, res));
    this.server = server;
  }

  /** Drops every connection in flight and removes the socket: clients see resets, then ENOENT. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.piped) s.destroy();
    this.piped.clear();
    if (server) await new Promise((res) => server.close(res));
    rmSync(this.path, { force: true });
  }
}
