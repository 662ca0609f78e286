import { setTimeout as sleep } from 'node:timers/promises';
import { WorkQueue } from './work-queue';

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await sleep(5);
  expect(check()).toBe(true);
};

describe('WorkQueue', () => {
  it('queues a key once however often it is added, and runs it again when added during its reconcile', async () => {
    const runs: string[] = [];
    let release: () => void = () => undefined;
    const q = new WorkQueue(async (key) => {
      runs.push(key);
      if (runs.length === 1) await new Promise<void>((r) => (release = r));
    });
    q.add('a');
    q.start();
    await until(() => runs.length === 1);
    q.add('a'); // while running: once more afterwards
    q.add('a');
    release();
    await until(() => runs.length === 2);
    await sleep(20);
    expect(runs).toEqual(['a', 'a']);
    q.add('b');
    q.add('b');
    await until(() => runs.length === 3);
    await sleep(20);
    expect(runs).toEqual(['a', 'a', 'b']);
    await q.stop();
  });

  it('retries a failing key with growing back-off and forgets the failures after a success', async () => {
    const times: number[] = [];
    const errors: string[] = [];
    const q = new WorkQueue(
      async () => {
        times.push(Date.now());
        if (times.length < 4) throw new Error(`fail ${times.length}`);
      },
      { baseBackoffMs: 10, onError: (_k, e) => errors.push((e as Error).message) },
    );
    q.start();
    q.add('k');
    await until(() => times.length === 4);
    expect(errors).toEqual(['fail 1', 'fail 2', 'fail 3']);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(gaps[0]).toBeGreaterThanOrEqual(9);
    expect(gaps[2]).toBeGreaterThanOrEqual(39);
    await q.stop();
  });

  it('never reconciles one key twice at once, even with several workers', async () => {
    let inside = 0;
    let overlap = false;
    let runs = 0;
    const q = new WorkQueue(
      async () => {
        inside++;
        if (inside > 1) overlap = true;
        await sleep(2);
        inside--;
        runs++;
      },
      { concurrency: 4 },
    );
    q.start();
    for (let i = 0; i < 50; i++) {
      q.add('same');
      await sleep(1);
    }
    await until(() => q.length === 0 && inside === 0);
    expect(overlap).toBe(false);
    expect(runs).toBeGreaterThan(1);
    await q.stop();
  });
});
