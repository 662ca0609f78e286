import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Container, LifecycleHandler, Probe } from './pod-types';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/**
 * One probe's verdict over its runs, by upstream's rules: it turns to success after successThreshold consecutive
 * successes and to failure after failureThreshold consecutive failures (defaults 1 and 3); before either, readiness
 * and startup are failing and liveness is passing.
 */
export class ProbeResult {
  private successes = 0;
  private failures = 0;
  private verdict: boolean | undefined;

  constructor(
    readonly kind: ProbeKind,
    private readonly probe: Probe,
  ) {}

  /** The current verdict: true (passing) or false. */
  get ok(): boolean {
    return this.verdict ?? this.kind === 'liveness';
  }

  /** Records one run; returns whether the verdict changed. */
  record(ok: boolean): boolean {
    const before = this.ok;
    if (ok) {
      this.successes++;
      this.failures = 0;
      if (this.successes >= (this.kind === 'readiness' ? (this.probe.successThreshold ?? 1) : 1)) this.verdict = true;
    } else {
      this.failures++;
      this.successes = 0;
      if (this.failures >= (this.probe.failureThreshold ?? 3)) this.verdict = false;
    }
    return before !== this.ok;
  }
}

/** A named port (`http`) as the container declares it, or the number. */
export function resolvePort(container: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

export interface ProbeTarget {
  container: Container;
  podIP: string;
  exec: (cmd: string[], timeoutSeconds: number) => Promise<number>;
}

/**
 * Runs a lifecycle hook (preStop, postStart) within `limitSeconds`: exec must exit 0, httpGet answer 200–399, sleep
 * sleeps (cut short at the limit); tcpSocket is deprecated upstream and does nothing, as there.
 */
export async function runLifecycleHook(hook: LifecycleHandler, limitSeconds: number, t: ProbeTarget): Promise<{ ok: boolean; error?: string }> {
  const limitMs = Math.max(0, limitSeconds) * 1000;
  if (hook.sleep) {
    await sleep(Math.min(Math.max(0, hook.sleep.seconds) * 1000, limitMs));
    return { ok: true };
  }
  if (hook.exec) {
    const code = await t.exec(hook.exec.command, Math.max(1, limitSeconds)).catch((err: unknown) => String(err));
    return code === 0 ? { ok: true } : { ok: false, error: typeof code === 'number' ? `exec exited ${code}` : code };
  }
  if (hook.httpGet) {
    const ok = await runProbe({ httpGet: hook.httpGet, timeoutSeconds: Math.max(1, limitSeconds) }, t);
    return ok ? { ok } : { ok, error: `HTTP GET ${hook.httpGet.path ?? '/'} failed` };
  }
  return { ok: true };
}

/** Runs a probe once: exec exits 0, TCP connects, or HTTP answers 200–399 within its timeout. */
export async function runProbe(probe: Probe, t: ProbeTarget): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.exec) return (await t.exec(probe.exec.command, probe.timeoutSeconds ?? 1)) === 0;
    if (probe.tcpSocket) {
      const port = resolvePort(t.container, probe.tcpSocket.port);
      if (port === undefined) return false;
      return await tcpConnects(probe.tcpSocket.host || t.podIP, port, timeoutMs);
    }
    if (probe.httpGet) {
      const port = resolvePort(t.container, probe.httpGet.port);
      if (port === undefined) return false;
      return await httpOk(probe.httpGet, probe.httpGet.host || t.podIP, port, timeoutMs);
    }
  } catch {
    return false;
  }
  return false;
}

function tcpConnects(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function httpOk(get: NonNullable<Probe['httpGet']>, host: string, port: number, timeoutMs: number): Promise<boolean> {
  const mod = get.scheme === 'HTTPS' ? https : http;
  const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.33', accept: '*/*' };
  for (const h of get.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
  return new Promise((resolve) => {
    const req = mod.request({ host, port, path: get.path || '/', method: 'GET', headers, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(code >= 200 && code < 400);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}
