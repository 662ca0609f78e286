import { Backoff, formatDelay } from './backoff';

describe('Backoff', () => {
  it('lets the first restart through, then waits 10 s, 20 s, … up to 300 s from each failure', () => {
    const b = new Backoff();
    let t = 1_000_000;
    expect(b.inBackoff('c', t, t)).toBeUndefined();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      delays.push(b.next('c', t, t));
      t += 1_000; // the restarted container fails a second later
      expect(b.inBackoff('c', t, t)).toEqual({ remainingMs: delays[i], delayMs: delays[i] });
      expect(b.inBackoff('c', t, t + delays[i] - 1)).toEqual({ remainingMs: 1, delayMs: delays[i] });
      expect(b.inBackoff('c', t, t + delays[i])).toBeUndefined();
      t += delays[i];
    }
    expect(delays).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it('starts over at the base once a container ran for more than 10 minutes', () => {
    const b = new Backoff();
    b.next('c', 0, 0);
    b.next('c', 1_000, 11_000);
    expect(b.next('c', 12_000, 31_000)).toBe(40_000);
    const finished = 31_000 + 601_000;
    expect(b.inBackoff('c', finished, finished)).toBeUndefined();
    expect(b.next('c', finished, finished)).toBe(10_000);
  });

  it('uses a configurable base and keeps keys apart; forget drops a prefix', () => {
    const b = new Backoff(100, 400);
    expect([b.next('p1/a', 0, 0), b.next('p1/a', 0, 0), b.next('p1/a', 0, 0), b.next('p1/a', 0, 0)]).toEqual([100, 200, 400, 400]);
    expect(b.next('p2/a', 0, 0)).toBe(100);
    b.forget('p1/');
    expect(b.inBackoff('p1/a', 0, 0)).toBeUndefined();
    expect(b.inBackoff('p2/a', 0, 50)).toEqual({ remainingMs: 50, delayMs: 100 });
  });

  it('formats delays like Go durations', () => {
    expect([formatDelay(10_000), formatDelay(40_000), formatDelay(160_000), formatDelay(300_000)]).toEqual(['10s', '40s', '2m40s', '5m0s']);
  });
});
