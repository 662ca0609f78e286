import type { Logger } from '@nestjs/common';
import { PeriodicPass } from './periodic';

const logger = () => {
  const errors: string[] = [];
  return { errors, logger: { error: (m: string) => errors.push(m) } as unknown as Logger };
};

describe('PeriodicPass', () => {
  it('runs one pass at a time: asked while one runs, it answers idle without starting another', async () => {
    let release!: () => void;
    let passes = 0;
    const { logger: l } = logger();
    const p = new PeriodicPass(l, 'check', -1, async () => {
      passes++;
      await new Promise<void>((r) => (release = r));
      return passes;
    });
    const first = p.run();
    expect(await p.run()).toBe(-1);
    release();
    expect(await first).toBe(1);
    const second = p.run();
    release();
    expect(await second).toBe(2);
  });

  it('logs a pass that throws and answers idle; the next pass runs', async () => {
    const { logger: l, errors } = logger();
    let fail = true;
    const p = new PeriodicPass(l, 'health check', [] as string[], async () => {
      if (fail) throw new Error('postgres went away');
      return ['n1'];
    });
    expect(await p.run()).toEqual([]);
    expect(errors).toEqual(['health check failed: postgres went away']);
    fail = false;
    expect(await p.run()).toEqual(['n1']);
  });

  it('runs on its interval until stopped, and not at all for an interval of 0', async () => {
    jest.useFakeTimers();
    try {
      let passes = 0;
      const p = new PeriodicPass(logger().logger, 'sweep', 0, async () => ++passes);
      p.start(0);
      await jest.advanceTimersByTimeAsync(1000);
      expect(passes).toBe(0);
      p.start(100, { immediately: true });
      await jest.advanceTimersByTimeAsync(350);
      expect(passes).toBe(4);
      p.stop();
      await jest.advanceTimersByTimeAsync(1000);
      expect(passes).toBe(4);
    } finally {
      jest.useRealTimers();
    }
  });
});
