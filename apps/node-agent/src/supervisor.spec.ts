import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SupervisedChild, waitUntil } from './supervisor';

// Real child processes (node -e): the supervisor's job is process handling, which a fake would not show.
jest.setTimeout(60_000);
describe('SupervisedChild', () => {
  let dir: string;
  const logs: Record<string, unknown>[] = [];
  const log = (line: Record<string, unknown>) => void logs.push(line);

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'supervisor-'));
    logs.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('restarts a crashing child with doubling back-off', async () => {
    const starts = path.join(dir, 'starts');
    const sut = new SupervisedChild(
      { name: 'crasher', command: process.execPath, args: ['-e', `require('fs').appendFileSync(${JSON.stringify(starts)}, 'x'); process.exit(3)`] },
      log,
      { initialBackoffMs: 100, maxBackoffMs: 400 },
    );
    sut.start();
    // Five Node start-ups: slow on a loaded machine, hence the generous bound.
    await waitUntil('four restarts', async () => sut.starts >= 5, 40_000, 20);
    await sut.stop();
    const delays = logs.filter((l) => l.msg === 'child exited, restarting').map((l) => l.restartInMs);
    expect(delays.slice(0, 4)).toEqual([100, 200, 400, 400]);
    expect(logs.find((l) => l.msg === 'child exited, restarting')).toMatchObject({ child: 'crasher', code: 3 });
    const counted = readFileSync(starts, 'utf8').length;
    await sleep(600);
    // Stopped means stopped: no restart after stop().
    expect(readFileSync(starts, 'utf8').length).toBe(counted);
  });

  it('stops a child with SIGTERM and passes it its environment', async () => {
    const out = path.join(dir, 'out');
    const script = `require('fs').writeFileSync(${JSON.stringify(out)}, process.env.PROBE); process.on('SIGTERM', () => { require('fs').appendFileSync(${JSON.stringify(out)}, ' term'); process.exit(0); }); setInterval(() => {}, 1000);`;
    const sut = new SupervisedChild({ name: 'sleeper', command: process.execPath, args: ['-e', script], env: { PROBE: 'hello' } }, log);
    sut.start();
    await waitUntil('child wrote', async () => readFileSync(out, 'utf8').length > 0, 5_000, 20);
    await sut.stop();
    expect(readFileSync(out, 'utf8')).toBe('hello term');
    expect(logs.some((l) => l.msg === 'child exited, restarting')).toBe(false);
  });

  it('kills a child that ignores SIGTERM after the grace period', async () => {
    const ready = path.join(dir, 'ready');
    const script = `process.on('SIGTERM', () => {}); require('fs').writeFileSync(${JSON.stringify(ready)}, 'y'); setInterval(() => {}, 1000);`;
    const sut = new SupervisedChild({ name: 'stubborn', command: process.execPath, args: ['-e', script] }, log, { stopTimeoutMs: 300 });
    sut.start();
    await waitUntil('handler installed', async () => readFileSync(ready, 'utf8') === 'y', 5_000, 20);
    const started = Date.now();
    await sut.stop();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('waitUntil', () => {
  it('reports the last failure when the probe never succeeds', async () => {
    await expect(waitUntil('thing', () => Promise.reject(new Error('refused')), 100, 20)).rejects.toThrow('thing not ready within 100 ms: refused');
  });
});
