import { createHmac, randomBytes } from 'node:crypto';

/**
 * At most `max` tasks at once; the others wait in arrival order. Client secret checks (scrypt, 16 MiB and tens
 * of milliseconds of CPU each) run on libuv's pool: unbounded, a burst of them takes every core and the event
 * loop, serving every other request, waits for CPU.
 */
export class ConcurrencyLimit {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`invalid concurrency ${max}`);
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.max) this.active++;
    else await new Promise<void>((res) => this.waiting.push(res));
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter (active stays the same), or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/**
 * Client secrets this process has already checked against a stored hash, remembered by an HMAC (under a key
 * that never leaves the process) of client id and secret: the client's next token request costs no scrypt,
 * and no throttling applies to it. What is remembered is the stored hash it matched: the caller still confirms
 * that hash is one of the principal's current, unexpired secrets, so a removed secret or principal stops working.
 * Bounded: the oldest entries go first.
 */
export class VerifiedSecrets {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, string>();

  constructor(private readonly capacity = 10_000) {}

  private id(clientId: string, secret: string): string {
    return createHmac('sha256', this.key).update(clientId.toLowerCase()).update('\0').update(secret).digest('base64url');
  }

  /** The stored hash the secret matched, if it did before. */
  get(clientId: string, secret: string): string | undefined {
    return this.entries.get(this.id(clientId, secret));
  }

  remember(clientId: string, secret: string, storedHash: string): void {
    const id = this.id(clientId, secret);
    this.entries.delete(id);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(id, storedHash);
  }

  forget(clientId: string, secret: string): void {
    this.entries.delete(this.id(clientId, secret));
  }
}
