import { cpus, freemem, hostname, loadavg, release, totalmem, type as osType } from 'node:os';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Summary } from './stats';

/** One measured quantity: Cerulean's sample and the floor's, side by side. */
export interface ScenarioResult {
  id: string;
  scenario: string;
  /** What Cerulean's number measures, and what the floor's measures. */
  measures: string;
  floorMeasures?: string;
  unit: 'ms' | 'req/s' | 'MiB';
  cerulean: Summary | { value: number };
  floor?: Summary | { value: number };
  /** cerulean / floor on the median (for req/s: cerulean share of the floor's throughput). */
  ratio?: number;
  extra?: Record<string, number | string>;
}

export interface TargetResult {
  id: string;
  target: string;
  actual: string;
  pass: boolean;
}

export interface MachineInfo {
  hostname: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  freeMemoryGiB: number;
  os: string;
  kernel: string;
  node: string;
}

export interface BenchResults {
  schema: 'cerulean-bench/1';
  mode: 'full' | 'smoke';
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  machine: MachineInfo;
  loadAverage: { start: number[]; end: number[] };
  note: string;
  scenarios: ScenarioResult[];
  targets: TargetResult[];
  warnings: string[];
}

export function machineInfo(): MachineInfo {
  let os = osType();
  try {
    os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    // not Linux
  }
  const gib = (b: number): number => Math.round((b / 1024 ** 3) * 10) / 10;
  return {
    hostname: hostname(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: gib(totalmem()),
    freeMemoryGiB: gib(freemem()),
    os,
    kernel: release(),
    node: process.version,
  };
}

export const load = (): number[] => loadavg().map((x) => Math.round(x * 100) / 100);

/** The machine's CPU time so far, busy and in all (every core, in clock ticks), from /proc/stat. */
function cpuTimes(): { busy: number; total: number } {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = ticks[3] + (ticks[4] ?? 0);
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/**
 * Waits, at most `maxMs`, until the machine is quiet: under a quarter busy over two half-seconds in a row. A latency
 * scenario that starts while the previous one's clean-up still runs (27 node containers gone after a scale-in, and
 * every remaining node updating its routes) measures that clean-up, and only for whichever side it runs first.
 */
export async function settle(maxMs = 20_000): Promise<{ ms: number; quiet: boolean }> {
  const start = performance.now();
  let quietSamples = 0;
  let last = cpuTimes();
  while (performance.now() - start < maxMs) {
    await sleep(500);
    const now = cpuTimes();
    const busy = (now.busy - last.busy) / Math.max(1, now.total - last.total);
    last = now;
    quietSamples = busy < 0.25 ? quietSamples + 1 : 0;
    if (quietSamples >= 2) return { ms: Math.round(performance.now() - start), quiet: true };
  }
  return { ms: Math.round(performance.now() - start), quiet: false };
}

const fmtNum = (x: number): string => (x >= 100 ? String(Math.round(x)) : String(Math.round(x * 10) / 10));

export function fmtValue(v: Summary | { value: number } | undefined, unit: string): string {
  if (!v) return '—';
  if ('value' in v) return `${fmtNum(v.value)} ${unit}`;
  const p99 = v.p99 !== undefined ? ` / ${fmtNum(v.p99)}` : '';
  return `${fmtNum(v.median)} / ${fmtNum(v.p95)}${p99} ${unit} (n=${v.n})`;
}

/** The printed table, also used (as Markdown) in the README's Performance section. */
export function table(results: BenchResults): string {
  const rows: string[][] = [['scenario', 'Cerulean (median / p95 [/ p99])', 'floor (same run)', 'ratio']];
  for (const s of results.scenarios) {
    rows.push([s.scenario, fmtValue(s.cerulean, s.unit), fmtValue(s.floor, s.unit), s.ratio === undefined ? '—' : `${s.ratio}×`]);
  }
  const targets: string[][] = [['target', 'actual', 'result']];
  for (const t of results.targets) targets.push([t.target, t.actual, t.pass ? 'PASS' : 'MISS']);
  return `${markdown(rows)}\n\n${markdown(targets)}`;
}

function markdown(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}
