import { ProbeResult, resolvePort, runLifecycleHook, runProbe } from './probes';
import * as net from 'node:net';

describe('ProbeResult', () => {
  it('readiness fails until successThreshold successes, then needs failureThreshold failures to fail again', () => {
    const r = new ProbeResult('readiness', { successThreshold: 2, failureThreshold: 2 });
    expect(r.ok).toBe(false);
    expect([r.record(true), r.ok]).toEqual([false, false]);
    expect([r.record(true), r.ok]).toEqual([true, true]);
    expect([r.record(false), r.ok]).toEqual([false, true]);
    expect([r.record(true), r.record(false), r.ok]).toEqual([false, false, true]);
    expect([r.record(false), r.ok]).toEqual([true, false]);
  });

  it('liveness passes until three failures in a row (the default threshold)', () => {
    const r = new ProbeResult('liveness', {});
    expect(r.ok).toBe(true);
    expect([r.record(false), r.record(false), r.ok]).toEqual([false, false, true]);
    expect([r.record(false), r.ok]).toEqual([true, false]);
  });
});

describe('runProbe', () => {
  const container = { name: 'c', ports: [{ name: 'web', containerPort: 0 }] };
  it('resolves named ports', () => {
    expect([resolvePort(container, 'web'), resolvePort(container, '8080'), resolvePort(container, 9090), resolvePort(container, 'nope')]).toEqual([
      0,
      8080,
      9090,
      undefined,
    ]);
  });

  it('probes exec by exit code, tcpSocket by connect, httpGet by status', async () => {
    const server = net.createServer((s) => {
      s.once('data', (d) =>
        s.end(String(d).startsWith('GET /ok') ? 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n' : 'HTTP/1.1 500 Boom\r\ncontent-length: 0\r\n\r\n'),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const t = { container, podIP: '127.0.0.1', exec: (cmd: string[]) => Promise.resolve(cmd[0] === 'true' ? 0 : 1) };
    try {
      expect(await runProbe({ exec: { command: ['true'] } }, t)).toBe(true);
      expect(await runProbe({ exec: { command: ['false'] } }, t)).toBe(false);
      expect(await runProbe({ tcpSocket: { port } }, t)).toBe(true);
      expect(await runProbe({ httpGet: { port, path: '/ok' } }, t)).toBe(true);
      expect(await runProbe({ httpGet: { port, path: '/bad' } }, t)).toBe(false);
    } finally {
      server.close();
    }
    expect(await runProbe({ tcpSocket: { port } }, t)).toBe(false);
  });
});

describe('runLifecycleHook', () => {
  const container = { name: 'c' };
  const seen: { cmd: string[]; timeout: number }[] = [];
  const t = {
    container,
    podIP: '127.0.0.1',
    exec: (cmd: string[], timeout: number) => {
      seen.push({ cmd, timeout });
      return cmd[0] === 'boom' ? Promise.reject(new Error('no such container')) : Promise.resolve(cmd[0] === 'true' ? 0 : 7);
    },
  };

  it('runs exec within the limit and fails on a non-zero exit or an error', async () => {
    expect(await runLifecycleHook({ exec: { command: ['true'] } }, 12, t)).toEqual({ ok: true });
    expect(seen.at(-1)).toEqual({ cmd: ['true'], timeout: 12 });
    expect(await runLifecycleHook({ exec: { command: ['false'] } }, 12, t)).toEqual({ ok: false, error: 'exec exited 7' });
    expect((await runLifecycleHook({ exec: { command: ['boom'] } }, 12, t)).error).toMatch(/no such container/);
  });

  it('sleeps for the action, but never past the limit', async () => {
    let t0 = Date.now();
    await runLifecycleHook({ sleep: { seconds: 0.2 } }, 30, t);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    t0 = Date.now();
    await runLifecycleHook({ sleep: { seconds: 60 } }, 0.1, t);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('fails an httpGet nobody answers', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    expect((await runLifecycleHook({ httpGet: { port, path: '/quit' } }, 1, t)).ok).toBe(false);
  });
});
