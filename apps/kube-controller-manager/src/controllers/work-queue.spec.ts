import { KubeApiError } from '../client/kube-client';
import { WorkQueue } from './work-queue';

describe('WorkQueue', () => {
  it('processes a key added many times while waiting once', async () => {
    const seen: string[] = [];
    const q = new WorkQueue(async (key) => {
      seen.push(key);
    });
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    q.start();
    await q.drained();
    await q.stop();
    expect(seen.sort()).toEqual(['a', 'b']);
  });

  it('runs a delayed key at the earliest time asked: a sooner addAfter replaces a later one, a later one is ignored', async () => {
    jest.useFakeTimers();
    try {
      const seen: string[] = [];
      const q = new WorkQueue(async (key) => {
        seen.push(key);
      });
      q.start();
      q.addAfter('k', 30_000);
      q.addAfter('k', 1_000);
      q.addAfter('k', 5_000);
      await jest.advanceTimersByTimeAsync(1_001);
      expect(seen).toEqual(['k']);
      await jest.advanceTimersByTimeAsync(60_000);
      expect(seen).toEqual(['k']);
      await q.stop();
    } finally {
      jest.useRealTimers();
    }
  });

  it('never runs one key on two workers at once, and runs it again when added during a pass', async () => {
    let running = 0;
    let maxRunning = 0;
    let passes = 0;
    let release!: () => void;
    const first = new Promise<void>((resolve) => (release = resolve));
    const q = new WorkQueue(
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        passes++;
        if (passes === 1) await first;
        running--;
      },
      { workers: 4 },
    );
    q.start();
    q.add('k');
    await new Promise((r) => setImmediate(r));
    q.add('k');
    q.add('k');
    await new Promise((r) => setImmediate(r));
    expect(passes).toBe(1);
    release();
    await q.drained();
    await q.stop();
    expect(passes).toBe(2);
    expect(maxRunning).toBe(1);
  });

  it('retries a failing key with a growing, bounded back-off and forgets failures after a success', async () => {
    const times: number[] = [];
    const errors: number[] = [];
    const q = new WorkQueue(
      async () => {
        times.push(Date.now());
        if (times.length < 5) throw new Error('boom');
      },
      { baseDelayMs: 10, maxDelayMs: 40, onError: (_k, _e, n) => errors.push(n) },
    );
    q.start();
    q.add('k');
    await q.drained();
    await q.stop();
    expect(times).toHaveLength(5);
    expect(errors).toEqual([1, 2, 3, 4]);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // 10, 20, 40, 40 (capped); timers may fire a little late, never early
    expect(gaps[0]).toBeGreaterThanOrEqual(9);
    expect(gaps[1]).toBeGreaterThanOrEqual(19);
    expect(gaps[2]).toBeGreaterThanOrEqual(39);
    expect(gaps[3]).toBeGreaterThanOrEqual(39);
    expect(gaps[3]).toBeLessThan(200);
  });

  it('retries a conflict quickly', async () => {
    const times: number[] = [];
    const q = new WorkQueue(
      async () => {
        times.push(Date.now());
        if (times.length === 1) throw new KubeApiError(409, 'Conflict', 'the object has been modified');
      },
      { baseDelayMs: 1_000 },
    );
    q.start();
    q.add('k');
    await q.drained();
    await q.stop();
    expect(times).toHaveLength(2);
    expect(times[1] - times[0]).toBeLessThan(500);
  });

  it('requeues after the delay a reconcile asks for', async () => {
    let passes = 0;
    const q = new WorkQueue(async () => {
      passes++;
      return passes < 3 ? { requeueAfterMs: 5 } : undefined;
    });
    q.start();
    q.add('k');
    await q.drained();
    await q.stop();
    expect(passes).toBe(3);
  });
});
