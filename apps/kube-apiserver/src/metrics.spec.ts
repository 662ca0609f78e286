import { formatCpu, formatMemory, goDuration, parsePrometheusText, podRates, rateBetween, scrapeFromText } from './metrics';

const KUBELET_TEXT = `# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds
# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{container="burn",namespace="default",pod="busy"} 10.5 1700000000000
container_cpu_usage_seconds_total{container="side",namespace="default",pod="busy"} 1 1700000000000
# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes
# TYPE container_memory_working_set_bytes gauge
container_memory_working_set_bytes{container="burn",namespace="default",pod="busy"} 1048576 1700000000000
container_memory_working_set_bytes{container="side",namespace="default",pod="busy"} 2048 1700000000000
# TYPE node_cpu_usage_seconds_total counter
node_cpu_usage_seconds_total 100 1700000000000
node_memory_working_set_bytes 524288000 1700000000000
resource_scrape_error 0
`;

describe('parsePrometheusText', () => {
  it('reads names, labels (escapes included), values and timestamps, skipping comments', () => {
    const samples = parsePrometheusText('# HELP x y\nx{a="1",b="q\\"uo\\\\te"} 1.5 42\ny 3\n\nbad line here\nz{} NaN\n');
    expect(samples).toEqual([
      { name: 'x', labels: { a: '1', b: 'q"uo\\te' }, value: 1.5, timestampMs: 42 },
      { name: 'y', labels: {}, value: 3 },
      { name: 'z', labels: {}, value: NaN },
    ]);
  });

  it('turns kubelet resource metrics into a node and its containers', () => {
    const s = scrapeFromText(KUBELET_TEXT, 5);
    expect(s.node).toEqual({ cpuSeconds: 100, memoryBytes: 524288000, timestampMs: 1700000000000 });
    expect([...s.containers.keys()]).toEqual(['default/busy/burn', 'default/busy/side']);
    expect(s.containers.get('default/busy/burn')).toMatchObject({ cpuSeconds: 10.5, memoryBytes: 1048576, pod: 'busy', container: 'burn' });
  });
});

describe('rates', () => {
  it('is the CPU used over the window between two samples, in nanocores', () => {
    const rate = rateBetween({ cpuSeconds: 10, memoryBytes: 1, timestampMs: 1000 }, { cpuSeconds: 10.25, memoryBytes: 7, timestampMs: 3000 });
    expect(rate).toEqual({ nanocores: 125_000_000, memoryBytes: 7, timestampMs: 3000, windowMs: 2000 });
  });

  it('has none for a single sample, a counter that went back, or no time between', () => {
    expect(rateBetween(undefined, { cpuSeconds: 1, memoryBytes: 1, timestampMs: 1 })).toBeUndefined();
    expect(rateBetween({ cpuSeconds: 5, memoryBytes: 1, timestampMs: 1 }, { cpuSeconds: 1, memoryBytes: 1, timestampMs: 2 })).toBeUndefined();
    expect(rateBetween({ cpuSeconds: 1, memoryBytes: 1, timestampMs: 2 }, { cpuSeconds: 2, memoryBytes: 1, timestampMs: 2 })).toBeUndefined();
  });

  it('gives a pod metrics only once every container of it was seen twice', () => {
    const first = scrapeFromText(KUBELET_TEXT, 0);
    expect(podRates(undefined, first)).toEqual([]);
    const second = scrapeFromText(
      KUBELET_TEXT.replace(/1700000000000/g, '1700000010000')
        .replace('} 10.5', '} 15.5')
        .replace('pod="busy"} 1 ', 'pod="busy"} 1.1 '),
      0,
    );
    expect(podRates(first, second)).toEqual([
      {
        namespace: 'default',
        pod: 'busy',
        timestampMs: 1700000010000,
        windowMs: 10000,
        containers: [
          { name: 'burn', nanocores: 500_000_000, memoryBytes: 1048576 },
          { name: 'side', nanocores: 10_000_000, memoryBytes: 2048 },
        ],
      },
    ]);
    // A container that restarted (its counter went back) leaves its pod without metrics.
    const restarted = scrapeFromText(KUBELET_TEXT.replace(/1700000000000/g, '1700000020000').replace('} 10.5', '} 0.5'), 0);
    expect(podRates(second, restarted)).toEqual([]);
  });
});

describe('quantities', () => {
  it('writes CPU as metrics-server does, in the largest SI unit that keeps an integer', () => {
    expect(formatCpu(12_345_678)).toBe('12345678n');
    expect(formatCpu(250_000_000)).toBe('250m');
    expect(formatCpu(2_000_000_000)).toBe('2');
    expect(formatCpu(1_500)).toBe('1500n');
    expect(formatCpu(0)).toBe('0');
  });

  it('writes memory in binary units when they divide it, else in bytes', () => {
    expect(formatMemory(12_641_280)).toBe('12345Ki');
    expect(formatMemory(2 * 1024 * 1024)).toBe('2Mi');
    expect(formatMemory(1000)).toBe('1000');
    expect(formatMemory(0)).toBe('0');
  });

  it("writes the window as Go's Duration", () => {
    expect(goDuration(15_003)).toBe('15.003s');
    expect(goDuration(10_000)).toBe('10s');
    expect(goDuration(60_500)).toBe('1m0.5s');
    expect(goDuration(3_661_000)).toBe('1h1m1s');
    expect(goDuration(250)).toBe('250ms');
  });
});
