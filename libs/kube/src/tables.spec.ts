import { humanDuration, toTable } from './tables';

describe('tables', () => {
  it.each([
    [5_000, '5s'],
    [119_000, '119s'],
    [125_000, '2m5s'],
    [600_000, '10m'],
    [3 * 3600_000 + 5 * 60_000, '3h5m'],
    [30 * 3600_000, '30h'],
    [3 * 86400_000 + 2 * 3600_000, '3d2h'],
    [40 * 86400_000, '40d'],
  ])('prints %d ms as %s (upstream HumanDuration)', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  it('prints pods as NAME READY STATUS RESTARTS AGE with wide columns at priority 1', () => {
    const now = Date.parse('2026-01-01T00:01:00Z');
    const pod = {
      metadata: { name: 'p', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { containers: [{ name: 'a' }, { name: 'b' }], nodeName: 'n1' },
      status: {
        phase: 'Running',
        podIP: '10.1.0.5',
        containerStatuses: [
          { ready: true, restartCount: 2, state: { running: {} } },
          { ready: false, restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } } },
        ],
      },
    };
    const t = toTable('Pod', [pod], { include: 'None', now });
    expect(t.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    expect(t.rows[0].cells.slice(0, 7)).toEqual(['p', '1/2', 'CrashLoopBackOff', 3, '60s', '10.1.0.5', 'n1']);
    expect(t.rows[0].object).toBeUndefined();
  });

  it('prints deployments as NAME READY UP-TO-DATE AVAILABLE AGE and carries metadata by default', () => {
    const d = {
      metadata: { name: 'web', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } } },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    const t = toTable('Deployment', [d], { include: 'Metadata', now: Date.parse('2026-01-01T00:00:30Z') });
    expect(t.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age']);
    expect(t.rows[0].cells.slice(0, 5)).toEqual(['web', '2/3', 3, 2, '30s']);
    expect(t.rows[0].object).toEqual({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: d.metadata });
  });

  it("prints an HPA's TARGETS as kubectl does: current/target per metric, <unknown> before a measurement, two at most", () => {
    const resource = (name: string, target: Record<string, unknown>) => ({ type: 'Resource', resource: { name, target } });
    const hpa = (metrics: unknown[], currentMetrics?: unknown[]) => ({
      metadata: { name: 'web', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, metrics },
      status: { currentReplicas: 2, ...(currentMetrics ? { currentMetrics } : {}) },
    });
    const cells = (x: ReturnType<typeof hpa>) =>
      toTable('HorizontalPodAutoscaler', [x], { include: 'None', now: Date.parse('2026-01-01T00:01:00Z') }).rows[0].cells;
    const cpu = resource('cpu', { type: 'Utilization', averageUtilization: 50 });
    const memory = resource('memory', { type: 'AverageValue', averageValue: '100Mi' });
    expect(cells(hpa([cpu]))).toEqual(['web', 'Deployment/web', 'cpu: <unknown>/50%', '1', 5, 2, '60s']);
    expect(
      cells(hpa([cpu, memory], [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 230, averageValue: '46m' } } }, { type: '' }]))[2],
    ).toBe('cpu: 230%/50%, memory: <unknown>/100Mi');
    expect(cells(hpa([cpu, memory, cpu]))[2]).toBe('cpu: <unknown>/50%, memory: <unknown>/100Mi + 1 more...');
    expect(cells(hpa([]))[2]).toBe('<none>');
  });
});
