import { isIP } from 'node:net';
import { BucketSpec, TokenBuckets } from './token-bucket';

export type LoginAttempt = { allowed: true } | { allowed: false; retryAfterSeconds: number; by: 'client' | 'source' };

/** The address a source is counted under: IPv4 as is, IPv6 by its /64 (one host commonly holds a whole /64). */
export function sourceKey(address: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address;
  if (isIP(v4) !== 6) return v4;
  const [head, tail = ''] = v4.toLowerCase().split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = v4.includes('::') ? [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * Client secret guessing defence of the token endpoint: one bucket per client id and one per source address.
 * Every secret check takes a token from both (refused when either is empty, taking nothing); a check that
 * succeeds gives both back. So failed attempts (and checks in flight) are what counts, a burst of wrong
 * secrets is cut off before it costs a check, and a client that knows its secret is never slowed by its own use.
 */
export class LoginThrottle {
  private readonly buckets: TokenBuckets;

  constructor(
    private readonly specs: { client: BucketSpec; source: BucketSpec },
    now?: () => number,
  ) {
    this.buckets = new TokenBuckets(now);
  }

  attempt(clientId: string, source: string): LoginAttempt {
    const [client, src] = this.keys(clientId, source);
    if (this.buckets.peek(src, this.specs.source) < 1)
      return { allowed: false, by: 'source', retryAfterSeconds: this.buckets.take(src, this.specs.source).retryAfterSeconds };
    if (this.buckets.peek(client, this.specs.client) < 1)
      return { allowed: false, by: 'client', retryAfterSeconds: this.buckets.take(client, this.specs.client).retryAfterSeconds };
    this.buckets.take(src, this.specs.source);
    this.buckets.take(client, this.specs.client);
    return { allowed: true };
  }

  succeeded(clientId: string, source: string): void {
    const [client, src] = this.keys(clientId, source);
    this.buckets.refund(src, this.specs.source);
    this.buckets.refund(client, this.specs.client);
  }

  private keys(clientId: string, source: string): [string, string] {
    return [`client|${clientId.toLowerCase()}`, `source|${sourceKey(source)}`];
  }
}
