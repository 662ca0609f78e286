import { Client } from 'pg';

export interface ChannelHandlers {
  /** A NOTIFY on the channel, with its payload. */
  onMessage(payload: string): void;
  /** LISTEN is in place: from now on every change is announced (also after a reconnect). */
  onListening(): void;
  /** The connection is gone: changes may go unannounced until `onListening` again. */
  onLost(error: unknown): void;
}

/**
 * One dedicated Postgres connection LISTENing on a channel, reconnecting with backoff for as long as it runs.
 * Whoever caches what the channel announces must trust its cache only between `onListening` and `onLost`.
 */
export class PgChannelListener {
  private client?: Client;
  private stopped = false;
  private retry?: NodeJS.Timeout;
  private backoffMs = 100;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly handlers: ChannelHandlers,
    private readonly maxBackoffMs = 5_000,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name '${channel}'`);
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.url, application_name: `cerulean-listen-${this.channel}` });
    this.client = client;
    let lost = false;
    const lose = (err: unknown): void => {
      if (lost) return;
      lost = true;
      this.handlers.onLost(err);
      void client.end().catch(() => undefined);
      if (this.client === client) this.client = undefined;
      if (!this.stopped) {
        this.retry = setTimeout(() => void this.connect(), this.backoffMs);
        this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
      }
    };
    client.on('error', lose);
    client.on('end', () => lose(new Error('connection ended')));
    client.on('notification', (msg) => {
      if (msg.channel === this.channel) this.handlers.onMessage(msg.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (err) {
      lose(err);
      return;
    }
    if (this.stopped || lost) return;
    this.backoffMs = 100;
    this.handlers.onListening();
  }
}
