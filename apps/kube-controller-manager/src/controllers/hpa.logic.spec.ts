import { applyDefaults } from '@cerulean/kube';
import { parseGoDuration } from './hpa.controller';
import {
  averageUsage,
  groupPods,
  milliValue,
  normalizeReplicas,
  podRequests,
  proposeReplicas,
  recordRescale,
  scaleDownLimit,
  scaleUpLimit,
  setCondition,
  utilizationUsage,
  type Hpa,
  type HpaHistory,
  type HpaPod,
  type PodMetric,
} from './hpa.logic';

const NOW = Date.parse('2026-12-05T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

/** A Running pod started `startedAgo` ms ago, Ready since `readyAgo` ms ago (or not Ready), requesting `cpu` per container. */
function pod(name: string, opts: { startedAgo?: number; readyAgo?: number; ready?: boolean; phase?: string; cpu?: string[]; deleting?: boolean } = {}): HpaPod {
  const { startedAgo = 600_000, readyAgo = 590_000, ready = true, phase = 'Running', cpu = ['100m'] } = opts;
  return {
    metadata: { name, ...(opts.deleting ? { deletionTimestamp: ago(0) } : {}) },
    spec: { containers: cpu.map((c, i) => ({ name: `c${i}`, resources: { requests: (c ? { cpu: c } : {}) as Record<string, string> } })) },
    status: { phase, startTime: ago(startedAgo), conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: ago(readyAgo) }] },
  };
}

const sample = (value: number, takenAgo = 1_000): PodMetric => ({ value, timestamp: NOW - takenAgo, windowMs: 15_000 });

function hpa(spec: Partial<Hpa['spec']> = {}): Hpa {
  return {
    metadata: { name: 'web', namespace: 'default', generation: 1 },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 10, ...spec },
  };
}

const emptyHistory = (): HpaHistory => ({ recommendations: [], scaleUps: [], scaleDowns: [] });

describe('milliValue', () => {
  it('reads quantities in milli-units, rounding up as MilliValue does', () => {
    expect(milliValue('250m')).toBe(250);
    expect(milliValue('1')).toBe(1000);
    expect(milliValue('1500000n')).toBe(2);
    expect(milliValue('64Mi')).toBe(64 * 2 ** 20 * 1000);
    expect(milliValue('nope')).toBeUndefined();
    expect(milliValue(undefined)).toBeUndefined();
  });
});

describe('parseGoDuration', () => {
  it('reads the windows metrics.k8s.io writes, and nothing else', () => {
    expect(parseGoDuration('15.003s')).toBeCloseTo(15_003);
    expect(parseGoDuration('1m0.5s')).toBeCloseTo(60_500);
    expect(parseGoDuration('500ms')).toBe(500);
    // Microseconds in each of Go's spellings: us, micro sign, Greek mu.
    expect(parseGoDuration('1500us')).toBeCloseTo(1.5);
    expect(parseGoDuration('1500\u00b5s')).toBeCloseTo(1.5);
    expect(parseGoDuration('1500\u03bcs')).toBeCloseTo(1.5);
    expect(parseGoDuration('15 s')).toBeUndefined();
    expect(parseGoDuration('')).toBeUndefined();
  });
});

describe('groupPods', () => {
  it('ignores deleted and failed pods, counts Pending ones as unready and pods without a sample as missing', () => {
    const pods = [pod('a'), pod('b', { deleting: true }), pod('c', { phase: 'Failed' }), pod('d', { phase: 'Pending' }), pod('e')];
    const g = groupPods(
      pods,
      new Map([
        ['a', sample(50)],
        ['b', sample(50)],
        ['c', sample(50)],
        ['d', sample(50)],
      ]),
      'cpu',
      NOW,
    );
    expect(g.readyPodCount).toBe(1);
    expect([...g.ignored]).toEqual(['b', 'c']);
    expect([...g.unready]).toEqual(['d']);
    expect([...g.missing]).toEqual(['e']);
  });

  it('for CPU, counts a pod in its initialization period as unready until its sample postdates readiness by a window', () => {
    const young = pod('young', { startedAgo: 60_000, readyAgo: 10_000 });
    const settled = pod('settled', { startedAgo: 60_000, readyAgo: 50_000 });
    const notReady = pod('notready', { startedAgo: 60_000, readyAgo: 50_000, ready: false });
    const metrics = new Map([
      ['young', sample(50)],
      ['settled', sample(50)],
      ['notready', sample(50)],
    ]);
    const g = groupPods([young, settled, notReady], metrics, 'cpu', NOW);
    expect([...g.unready].sort()).toEqual(['notready', 'young']);
    expect(g.readyPodCount).toBe(1);
    // Memory does not care about readiness.
    expect(groupPods([young, settled, notReady], metrics, 'memory', NOW).readyPodCount).toBe(3);
  });

  it('after the initialization period, counts only a pod that never became Ready within the readiness delay as unready', () => {
    const neverReady = pod('never', { startedAgo: 3_600_000, readyAgo: 3_590_000, ready: false });
    const wentUnready = pod('later', { startedAgo: 3_600_000, readyAgo: 60_000, ready: false });
    const g = groupPods(
      [neverReady, wentUnready],
      new Map([
        ['never', sample(1)],
        ['later', sample(1)],
      ]),
      'cpu',
      NOW,
    );
    expect([...g.unready]).toEqual(['never']);
    expect(g.readyPodCount).toBe(1);
  });
});

describe('podRequests', () => {
  it('sums the containers, or takes one, and names a container without a request', () => {
    expect(podRequests([pod('a', { cpu: ['100m', '150m'] })], 'cpu').get('a')).toBe(250);
    expect(podRequests([pod('a', { cpu: ['100m', '150m'] })], 'cpu', 'c1').get('a')).toBe(150);
    expect(() => podRequests([pod('a', { cpu: ['100m', ''] })], 'cpu')).toThrow('missing request for cpu in container c1 of Pod a');
  });
});

describe('proposeReplicas', () => {
  const run = (pods: HpaPod[], metrics: Map<string, PodMetric>, target: number, currentReplicas = pods.length) => {
    const requests = podRequests(pods, 'cpu');
    return proposeReplicas({
      currentReplicas,
      pods,
      metrics,
      resource: 'cpu',
      usageOf: utilizationUsage(requests, target),
      missingFallback: (p) => Math.trunc(((requests.get(p) ?? 0) * Math.max(100, target)) / 100),
      now: NOW,
    });
  };

  it('scales by the usage ratio: 2 pods at 150 % of a 50 % target become 6', () => {
    const r = run(
      [pod('a'), pod('b')],
      new Map([
        ['a', sample(150)],
        ['b', sample(150)],
      ]),
      50,
    );
    expect(r.replicas).toBe(6);
    expect(r.usage).toEqual({ ratio: 3, utilization: 150, averageMilli: 150 });
  });

  it('keeps the count within the 10 % tolerance', () => {
    expect(
      run(
        [pod('a'), pod('b')],
        new Map([
          ['a', sample(54)],
          ['b', sample(54)],
        ]),
        50,
      ).replicas,
    ).toBe(2);
    expect(
      run(
        [pod('a'), pod('b')],
        new Map([
          ['a', sample(56)],
          ['b', sample(56)],
        ]),
        50,
      ).replicas,
    ).toBe(3);
  });

  it('on a scale-down, takes a pod without a sample to use its request, which can cancel the change', () => {
    const pods = [pod('a'), pod('b'), pod('c'), pod('d')];
    // 3 measured pods at 10 % of 100m against 50 %: alone they would ask for 1; with d at 100 % the ratio is 0.65.
    const r = run(
      pods,
      new Map([
        ['a', sample(10)],
        ['b', sample(10)],
        ['c', sample(10)],
      ]),
      50,
    );
    expect(r.replicas).toBe(3);
    // At 40 % each, the missing pod's 100 % turns the ratio above 1: no change.
    expect(
      run(
        pods,
        new Map([
          ['a', sample(40)],
          ['b', sample(40)],
          ['c', sample(40)],
        ]),
        50,
      ).replicas,
    ).toBe(4);
  });

  it('on a scale-up, takes unready pods to use nothing', () => {
    const pods = [pod('a'), pod('b', { phase: 'Pending' })];
    // a alone at 200 % of 50 % asks for 4 × 1; with b at 0 the ratio is 2 over 2 pods: 4.
    expect(run(pods, new Map([['a', sample(200)]]), 50).replicas).toBe(4);
  });

  it('fails without any usable sample', () => {
    expect(() => run([pod('a', { phase: 'Pending' })], new Map(), 50)).toThrow('did not receive metrics for targeted pods (pods might be unready)');
  });

  it('scales average-value targets by the average per pod', () => {
    const pods = [pod('a'), pod('b')];
    const r = proposeReplicas({
      currentReplicas: 2,
      pods,
      metrics: new Map([
        ['a', sample(300)],
        ['b', sample(100)],
      ]),
      resource: 'memory',
      usageOf: averageUsage(100),
      missingFallback: () => 100,
      now: NOW,
    });
    expect(r).toEqual({ replicas: 4, usage: { ratio: 2, averageMilli: 200 } });
  });
});

describe('scaling limits', () => {
  const up = {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max' as const,
    policies: [
      { type: 'Pods' as const, value: 4, periodSeconds: 15 },
      { type: 'Percent' as const, value: 100, periodSeconds: 15 },
    ],
  };

  it('scale-up: the larger of +4 pods and +100 % per 15 s, less what was added within the period', () => {
    expect(scaleUpLimit(2, [], up, NOW)).toBe(6);
    expect(scaleUpLimit(10, [], up, NOW)).toBe(20);
    expect(scaleUpLimit(6, [{ at: NOW - 5_000, change: 4 }], up, NOW)).toBe(6);
    expect(scaleUpLimit(6, [{ at: NOW - 20_000, change: 4 }], up, NOW)).toBe(12);
    expect(scaleUpLimit(2, [], { ...up, selectPolicy: 'Min' }, NOW)).toBe(4);
    expect(scaleUpLimit(2, [], { ...up, selectPolicy: 'Disabled' }, NOW)).toBe(2);
  });

  it('scale-down: percent and pod policies, Max allowing the larger change', () => {
    const down = {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max' as const,
      policies: [
        { type: 'Percent' as const, value: 50, periodSeconds: 60 },
        { type: 'Pods' as const, value: 1, periodSeconds: 60 },
      ],
    };
    expect(scaleDownLimit(10, [], down, NOW)).toBe(5);
    expect(scaleDownLimit(10, [], { ...down, selectPolicy: 'Min' }, NOW)).toBe(9);
    expect(scaleDownLimit(5, [{ at: NOW - 30_000, change: 5 }], down, NOW)).toBe(5);
  });
});

describe('normalizeReplicas', () => {
  it('without behavior, keeps the highest recommendation of the last 5 minutes on the way down', () => {
    const history = emptyHistory();
    history.recommendations.push({ at: NOW - 60_000, replicas: 5 });
    const n = normalizeReplicas(hpa(), history, 5, 2, 1, NOW);
    expect(n.replicas).toBe(5);
    expect(n.ableToScale.reason).toBe('ScaleDownStabilized');
    // Five minutes later the old recommendation is gone.
    const later = normalizeReplicas(hpa(), history, 5, 2, 1, NOW + 301_000);
    expect(later.replicas).toBe(2);
    expect(later.ableToScale.reason).toBe('ReadyForNewScale');
  });

  it('without behavior, scales up to max(2 × current, 4) at once and to maxReplicas at most', () => {
    expect(normalizeReplicas(hpa(), emptyHistory(), 1, 9, 1, NOW)).toMatchObject({ replicas: 4, limited: { status: 'True', reason: 'ScaleUpLimit' } });
    expect(normalizeReplicas(hpa({ maxReplicas: 3 }), emptyHistory(), 1, 9, 1, NOW)).toMatchObject({
      replicas: 3,
      limited: { status: 'True', reason: 'TooManyReplicas' },
    });
    expect(normalizeReplicas(hpa(), emptyHistory(), 2, 3, 1, NOW)).toMatchObject({ replicas: 3, limited: { status: 'False', reason: 'DesiredWithinRange' } });
  });

  it('with behavior, a zero scale-down window goes straight to minReplicas', () => {
    const h = hpa({ minReplicas: 1, behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } });
    const history = emptyHistory();
    history.recommendations.push({ at: NOW - 1_000, replicas: 3 });
    expect(normalizeReplicas(h, history, 3, 0, 1, NOW)).toMatchObject({
      replicas: 1,
      ableToScale: { reason: 'ReadyForNewScale' },
      limited: { status: 'True', reason: 'TooFewReplicas' },
    });
  });

  it('with behavior, a scale-up window takes the lowest recent recommendation', () => {
    const h = hpa({ behavior: { scaleUp: { stabilizationWindowSeconds: 60 } } });
    const history = emptyHistory();
    history.recommendations.push({ at: NOW - 30_000, replicas: 3 });
    expect(normalizeReplicas(h, history, 2, 8, 1, NOW)).toMatchObject({ replicas: 3, ableToScale: { reason: 'ScaleUpStabilized' } });
  });

  it('with behavior, rescales recorded within a period count against its policy', () => {
    const h = hpa({ maxReplicas: 50, behavior: { scaleUp: { policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] } } });
    const history = emptyHistory();
    recordRescale(h, history, 2, 4, NOW - 10_000);
    expect(normalizeReplicas(h, history, 4, 20, 1, NOW)).toMatchObject({ replicas: 4, limited: { status: 'True', reason: 'ScaleUpLimit' } });
    expect(normalizeReplicas(h, history, 4, 20, 1, NOW + 60_000)).toMatchObject({ replicas: 6 });
  });
});

describe('setCondition', () => {
  it('moves lastTransitionTime only when the status changes', () => {
    let c = setCondition([], { type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: 'a' }, 't1');
    c = setCondition(c, { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: 'b' }, 't2');
    expect(c).toEqual([{ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: 'b', lastTransitionTime: 't1' }]);
    c = setCondition(c, { type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message: 'c' }, 't3');
    expect(c[0].lastTransitionTime).toBe('t3');
  });
});

describe('HPA defaults', () => {
  it('defaults the metrics to CPU at 80 % and fills a given behavior with upstream rules', () => {
    const o = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'x' },
      spec: { maxReplicas: 3, behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } },
    };
    applyDefaults('HorizontalPodAutoscaler', o);
    expect(o.spec).toEqual({
      maxReplicas: 3,
      minReplicas: 1,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: 'Max',
          policies: [
            { type: 'Pods', value: 4, periodSeconds: 15 },
            { type: 'Percent', value: 100, periodSeconds: 15 },
          ],
        },
        scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
      },
    });
  });
});
