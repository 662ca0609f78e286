import { parseCpuMax, readCgroupLimits, type ReadText } from './cgroup';

const files =
  (map: Record<string, string>): ReadText =>
  (p) =>
    map[p];

describe('readCgroupLimits', () => {
  it('reads cgroup v2 limits', () => {
    const sut = readCgroupLimits(files({ '/cg/cpu.max': '50000 100000', '/cg/memory.max': '268435456' }), '/cg');
    expect(sut).toEqual({ version: 'v2', cpuMax: '50000 100000', cpus: 0.5, memoryMaxBytes: 268435456 });
  });

  it('reports v2 "max" as no limit', () => {
    const sut = readCgroupLimits(files({ '/cg/cpu.max': 'max 100000', '/cg/memory.max': 'max' }), '/cg');
    expect(sut).toEqual({ version: 'v2', cpuMax: 'max 100000', cpus: null, memoryMaxBytes: null });
  });

  it('falls back to cgroup v1 and synthesizes cpu.max', () => {
    const sut = readCgroupLimits(
      files({
        '/cg/cpu,cpuacct/cpu.cfs_quota_us': '150000',
        '/cg/cpu,cpuacct/cpu.cfs_period_us': '100000',
        '/cg/memory/memory.limit_in_bytes': '536870912',
      }),
      '/cg',
    );
    expect(sut).toEqual({ version: 'v1', cpuMax: '150000 100000', cpus: 1.5, memoryMaxBytes: 536870912 });
  });

  it('reports v1 unlimited values as null', () => {
    const sut = readCgroupLimits(
      files({
        '/cg/cpu/cpu.cfs_quota_us': '-1',
        '/cg/cpu/cpu.cfs_period_us': '100000',
        '/cg/memory/memory.limit_in_bytes': '9223372036854771712',
      }),
      '/cg',
    );
    expect(sut).toEqual({ version: 'v1', cpuMax: 'max 100000', cpus: null, memoryMaxBytes: null });
  });

  it('returns nulls when nothing is readable', () => {
    expect(readCgroupLimits(files({}), '/cg')).toEqual({ version: null, cpuMax: null, cpus: null, memoryMaxBytes: null });
  });

  it('ignores a malformed cpu.max', () => {
    expect(parseCpuMax('garbage')).toEqual({ cpuMax: null, cpus: null });
  });
});
