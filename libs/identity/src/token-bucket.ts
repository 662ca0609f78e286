/** A bucket's shape: at most `size` tokens, refilled continuously at `refillPerSecond`. */
export interface BucketSpec {
  size: number;
  refillPerSecond: number;
}

export interface TakeResult {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** When refused: seconds until a token is back (>= 1). */
  retryAfterSeconds: number;
}

/**
 * Token buckets by key (ARM's throttling: per principal and subscription, one bucket each for reads,
 * writes and deletes). Buckets start full; idle ones are dropped once full again, so memory follows traffic.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  private level(key: string, spec: BucketSpec): { tokens: number; at: number } {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: spec.size, at: t };
    b.tokens = Math.min(spec.size, b.tokens + ((t - b.at) / 1000) * spec.refillPerSecond);
    b.at = t;
    return b;
  }

  take(key: string, spec: BucketSpec): TakeResult {
    const b = this.level(key, spec);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      this.buckets.set(key, b);
      this.sweep(spec);
      return { allowed: true, remaining: Math.floor(b.tokens), retryAfterSeconds: 0 };
    }
    this.buckets.set(key, b);
    return { allowed: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / spec.refillPerSecond)) };
  }

  /** Gives one token back (up to the bucket's size): the request it was taken for turned out not to count. */
  refund(key: string, spec: BucketSpec): void {
    const b = this.buckets.get(key);
    if (!b) return;
    const level = this.level(key, spec);
    level.tokens = Math.min(spec.size, level.tokens + 1);
  }

  /** Tokens left without taking one. */
  peek(key: string, spec: BucketSpec): number {
    const b = this.buckets.get(key);
    if (!b) return spec.size;
    return Math.floor(Math.min(spec.size, b.tokens + ((this.now() - b.at) / 1000) * spec.refillPerSecond));
  }

  private sweeps = 0;
  private sweep(spec: BucketSpec): void {
    if (++this.sweeps % 1000 !== 0) return;
    for (const [k, b] of this.buckets) if (b.tokens + ((this.now() - b.at) / 1000) * spec.refillPerSecond >= spec.size) this.buckets.delete(k);
  }
}
