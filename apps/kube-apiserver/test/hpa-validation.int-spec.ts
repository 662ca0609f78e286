import { Harness, startHarness } from './harness';

jest.setTimeout(120_000);

const hpa = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 3, ...spec },
});

/**
 * HorizontalPodAutoscalers through the real kubectl: upstream's defaults (CPU at 80 %, a given behavior completed)
 * and its validation (422 with each field's cause, nothing stored), on create and on update.
 */
describe('HorizontalPodAutoscaler defaults and validation', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('defaults an HPA without metrics to CPU at 80 % and minReplicas 1', async () => {
    await h.kubectl(['create', '-f', '-'], { input: JSON.stringify(hpa('plain', {})) });
    const spec = JSON.parse((await h.kubectl(['get', 'hpa', 'plain', '-o', 'jsonpath={.spec}'])).stdout) as Record<string, unknown>;
    expect(spec).toMatchObject({
      minReplicas: 1,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
    });
    expect(spec.behavior).toBeUndefined();
    expect((await h.kubectl(['get', 'hpa', 'plain', '--no-headers'])).stdout).toMatch(/^plain\s+Deployment\/web\s+cpu: <unknown>\/80%\s+1\s+3\s+0\s+\d+s/);
  });

  it.each([
    [{ maxReplicas: 0 }, 'spec.maxReplicas: Invalid value: 0: must be greater than 0'],
    [{ minReplicas: 5 }, 'spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`'],
    [{ minReplicas: 0 }, 'spec.minReplicas: Invalid value: 0: must be greater than or equal to 1'],
    [{ scaleTargetRef: { kind: 'Deployment' } }, 'spec.scaleTargetRef.name: Required value'],
    [
      { metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } }] },
      'spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization',
    ],
    [
      { metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0 } } }] },
      'spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
    ],
    [
      { metrics: [{ type: 'Pods', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
      'spec.metrics[0].pods: Required value: must populate information for the given metric source',
    ],
    [
      { metrics: [{ type: 'Custom' }] },
      'spec.metrics[0].type: Unsupported value: "Custom": supported values: "ContainerResource", "External", "Object", "Pods", "Resource"',
    ],
    [
      { behavior: { scaleDown: { stabilizationWindowSeconds: 7200 } } },
      'spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: 7200: must be less than or equal to 3600',
    ],
    [
      { behavior: { scaleUp: { policies: [{ type: 'Pods', value: 0, periodSeconds: 15 }] } } },
      'spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero',
    ],
  ])('refuses %j: %s', async (spec, message) => {
    const r = await h.kubectl(['create', '-f', '-'], { input: JSON.stringify(hpa('bad', spec)), allowFail: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('is invalid');
    expect(r.stderr).toContain(message);
    expect((await h.kubectl(['get', 'hpa', 'bad'], { allowFail: true })).stderr).toContain('horizontalpodautoscalers.autoscaling "bad" not found');
  });

  it('completes a given behavior with upstream rules, and refuses an update that breaks a rule', async () => {
    await h.kubectl(['create', '-f', '-'], { input: JSON.stringify(hpa('tuned', { behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } })) });
    const behavior = JSON.parse((await h.kubectl(['get', 'hpa', 'tuned', '-o', 'jsonpath={.spec.behavior}'])).stdout) as unknown;
    expect(behavior).toEqual({
      scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max',
        policies: [
          { type: 'Pods', value: 4, periodSeconds: 15 },
          { type: 'Percent', value: 100, periodSeconds: 15 },
        ],
      },
    });
    const r = await h.kubectl(['patch', 'hpa', 'tuned', '--type=merge', '-p', '{"spec":{"minReplicas":9}}'], { allowFail: true });
    expect(r.stderr).toContain('spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`');
    expect((await h.kubectl(['get', 'hpa', 'tuned', '-o', 'jsonpath={.spec.minReplicas}'])).stdout).toBe('1');
  });
});
