import { setTimeout as sleep } from 'node:timers/promises';
import { ConcurrencyLimit, VerifiedSecrets } from './secret-check';

describe('ConcurrencyLimit', () => {
  it('runs at most max tasks at once, the others in arrival order, and passes results and errors through', async () => {
    const sut = new ConcurrencyLimit(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number) => async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(5);
      running--;
      order.push(i);
      if (i === 3) throw new Error('boom');
      return i;
    };
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map((i) => sut.run(task(i))));
    expect(peak).toBe(2);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'))).toEqual([0, 1, 2, 'rejected', 4, 5]);
    expect(order.slice(0, 2).sort()).toEqual([0, 1]);
    expect(sut.queued).toBe(0);
    // The slots are free again.
    expect(await sut.run(async () => 'again')).toBe('again');
  });

  it('refuses a nonsense limit', () => {
    expect(() => new ConcurrencyLimit(0)).toThrow();
  });
});

describe('VerifiedSecrets', () => {
  it('remembers the stored hash a client secret matched, per client id (any casing) and exact secret', () => {
    const sut = new VerifiedSecrets();
    sut.remember('App-1', 's3cret', 'scrypt$hash');
    expect(sut.get('app-1', 's3cret')).toBe('scrypt$hash');
    expect(sut.get('app-1', 's3cret ')).toBeUndefined();
    expect(sut.get('app-2', 's3cret')).toBeUndefined();
    sut.forget('APP-1', 's3cret');
    expect(sut.get('app-1', 's3cret')).toBeUndefined();
  });

  it('is bounded: the oldest entry goes first', () => {
    const sut = new VerifiedSecrets(2);
    sut.remember('a', 'x', 'h1');
    sut.remember('b', 'x', 'h2');
    sut.remember('c', 'x', 'h3');
    expect([sut.get('a', 'x'), sut.get('b', 'x'), sut.get('c', 'x')]).toEqual([undefined, 'h2', 'h3']);
  });
});
