import { TokenBuckets } from './token-bucket';

describe('token buckets', () => {
  it('allows a burst of the bucket size, then refuses with the seconds until a token is back', () => {
    let t = 0;
    const buckets = new TokenBuckets(() => t);
    const spec = { size: 3, refillPerSecond: 0.5 };
    expect([1, 2, 3].map(() => buckets.take('a', spec))).toEqual([
      { allowed: true, remaining: 2, retryAfterSeconds: 0 },
      { allowed: true, remaining: 1, retryAfterSeconds: 0 },
      { allowed: true, remaining: 0, retryAfterSeconds: 0 },
    ]);
    expect(buckets.take('a', spec)).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 2 });
    expect(buckets.take('b', spec).allowed).toBe(true); // keys are independent
    t = 2000;
    expect(buckets.take('a', spec)).toEqual({ allowed: true, remaining: 0, retryAfterSeconds: 0 });
    t = 100_000;
    expect(buckets.peek('a', spec)).toBe(3); // never above the size
  });
});
