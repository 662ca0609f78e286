import { readFileSync } from 'node:fs';
import type { NodeCgroupLimits } from '@cerulean/node-provider';

/** Returns a file's trimmed text, or undefined when it cannot be read. */
export type ReadText = (path: string) => string | undefined;

export const readText: ReadText = (path) => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};

// cgroup v1 reports "no limit" as a page-rounded int64 max; anything this large is unlimited.
const V1_UNLIMITED = 2 ** 60;

/** Reads this container's CPU and memory limits: cgroup v2 first, then v1's two usual layouts. */
export function readCgroupLimits(read: ReadText = readText, root = '/sys/fs/cgroup'): NodeCgroupLimits {
  const v2cpu = read(`${root}/cpu.max`);
  const v2mem = read(`${root}/memory.max`);
  if (v2cpu !== undefined || v2mem !== undefined) {
    return { version: 'v2', ...parseCpuMax(v2cpu), memoryMaxBytes: parseV2Memory(v2mem) };
  }
  const quota = read(`${root}/cpu/cpu.cfs_quota_us`) ?? read(`${root}/cpu,cpuacct/cpu.cfs_quota_us`);
  const period = read(`${root}/cpu/cpu.cfs_period_us`) ?? read(`${root}/cpu,cpuacct/cpu.cfs_period_us`);
  const mem = read(`${root}/memory/memory.limit_in_bytes`);
  if (quota === undefined && mem === undefined) return { version: null, cpuMax: null, cpus: null, memoryMaxBytes: null };
  const cpuMax = quota !== undefined && period !== undefined ? `${quota === '-1' ? 'max' : quota} ${period}` : undefined;
  return { version: 'v1', ...parseCpuMax(cpuMax), memoryMaxBytes: parseV1Memory(mem) };
}

export function parseCpuMax(text: string | undefined): Pick<NodeCgroupLimits, 'cpuMax' | 'cpus'> {
  const m = text === undefined ? null : /^(max|\d+)\s+(\d+)$/.exec(text);
  if (!m) return { cpuMax: null, cpus: null };
  const period = Number(m[2]);
  return { cpuMax: `${m[1]} ${m[2]}`, cpus: m[1] === 'max' || period === 0 ? null : Number(m[1]) / period };
}

function parseV2Memory(text: string | undefined): number | null {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : null;
}

function parseV1Memory(text: string | undefined): number | null {
  if (text === undefined || !/^\d+$/.test(text)) return null;
  const bytes = Number(text);
  return bytes >= V1_UNLIMITED ? null : bytes;
}
