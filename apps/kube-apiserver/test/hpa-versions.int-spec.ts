import { type Harness, startHarness } from './harness';

jest.setTimeout(60_000);

const V1 = '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers';
const V2 = '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers';
const METRICS = 'autoscaling.alpha.kubernetes.io/metrics';
const CURRENT = 'autoscaling.alpha.kubernetes.io/current-metrics';
const CONDITIONS = 'autoscaling.alpha.kubernetes.io/conditions';
const BEHAVIOR = 'autoscaling.alpha.kubernetes.io/behavior';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The manifest of AKS's scaling tutorial (aks-store-quickstart-hpa.yaml): an autoscaling/v1 HPA. */
const TUTORIAL = `apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: store-front-hpa
spec:
  maxReplicas: 10
  minReplicas: 3
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: store-front
  targetCPUUtilizationPercentage: 50
`;

/** autoscaling/v1 and autoscaling/v2 HorizontalPodAutoscalers are one storage (v2), as upstream. */
describe('HorizontalPodAutoscalers through autoscaling/v1 and autoscaling/v2', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });

  afterAll(async () => {
    await h?.close();
  });

  it("applies AKS's autoscaling/v1 manifest with the real kubectl and serves it through both versions", async () => {
    await h.kubectl(['apply', '-n', 'default', '-f', '-'], { input: TUTORIAL });
    const v2 = await h.call<Obj>('GET', `${V2}/store-front-hpa`);
    expect(v2.code).toBe(200);
    expect(v2.json.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'store-front' },
      minReplicas: 3,
      maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
    });
    // kubectl's last-applied annotation is the v1 manifest; no conversion annotation is stored.
    expect(Object.keys(v2.json.metadata.annotations)).toEqual(['kubectl.kubernetes.io/last-applied-configuration']);

    const v1 = JSON.parse(
      (await h.kubectl(['get', 'horizontalpodautoscalers.v1.autoscaling', 'store-front-hpa', '-n', 'default', '-o', 'json'])).stdout,
    ) as Obj;
    expect(v1).toMatchObject({
      apiVersion: 'autoscaling/v1',
      spec: { minReplicas: 3, maxReplicas: 10, targetCPUUtilizationPercentage: 50 },
      status: { currentReplicas: 0, desiredReplicas: 0 },
    });
    expect(v1.spec).not.toHaveProperty('metrics');

    // kubectl's preferred version is v2; the v1 table prints the same targets (printed from the stored form).
    expect(JSON.parse((await h.kubectl(['get', 'hpa', 'store-front-hpa', '-n', 'default', '-o', 'json'])).stdout)).toMatchObject({
      apiVersion: 'autoscaling/v2',
    });
    for (const resource of ['hpa', 'horizontalpodautoscalers.v1.autoscaling']) {
      const table = (await h.kubectl(['get', resource, '-n', 'default'])).stdout;
      expect(table).toMatch(/store-front-hpa\s+Deployment\/store-front\s+cpu: <unknown>\/50%\s+3\s+10\s+0/);
    }

    // Applying the manifest again with another target patches through v1 (a strategic merge patch of v1's schema).
    await h.kubectl(['apply', '-n', 'default', '-f', '-'], {
      input: TUTORIAL.replace('targetCPUUtilizationPercentage: 50', 'targetCPUUtilizationPercentage: 65'),
    });
    const patched = await h.call<Obj>('GET', `${V2}/store-front-hpa`);
    expect(patched.json.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 65 } } }]);
    expect(patched.json.metadata.generation).toBe(2);
  });

  it('keeps what v1 cannot say in annotations, and a v1 update loses none of it', async () => {
    const behavior = {
      scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Min', policies: [{ type: 'Pods', value: 2, periodSeconds: 30 }] },
    };
    const made = await h.call<Obj>('POST', V2, {
      metadata: { name: 'web', annotations: { team: 'a' } },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 2,
        maxReplicas: 6,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
          { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
          { type: 'Pods', pods: { metric: { name: 'requests_per_second' }, target: { type: 'AverageValue', averageValue: '10' } } },
        ],
        behavior,
      },
    });
    expect(made.code).toBe(201);
    const stored = made.json;
    // The controller's status, through v2's status subresource.
    const status = {
      currentReplicas: 2,
      desiredReplicas: 3,
      currentMetrics: [
        { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 85, averageValue: '170m' } } },
        { type: 'Resource', resource: { name: 'memory', current: { averageValue: '300Mi' } } },
      ],
      conditions: [{ type: 'AbleToScale', status: 'True', lastTransitionTime: '2026-12-06T10:00:00Z', reason: 'SucceededRescale', message: 'ok' }],
    };
    const withStatus = await h.call<Obj>('PUT', `${V2}/web/status`, { ...stored, status });
    expect(withStatus.code).toBe(200);

    const v1 = await h.call<Obj>('GET', `${V1}/web`);
    expect(v1.code).toBe(200);
    expect(v1.json.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 2,
      maxReplicas: 6,
      targetCPUUtilizationPercentage: 70,
    });
    expect(v1.json.status).toEqual({ currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 85 });
    const annotations = v1.json.metadata.annotations as Record<string, string>;
    expect(annotations.team).toBe('a');
    // upstream's v1 shapes: the other metrics and every metric status, v2beta1-like.
    expect(JSON.parse(annotations[METRICS])).toEqual([
      { type: 'Resource', resource: { name: 'memory', targetAverageValue: '500Mi' } },
      { type: 'Pods', pods: { metricName: 'requests_per_second', targetAverageValue: '10' } },
    ]);
    expect(JSON.parse(annotations[CURRENT])).toEqual([
      { type: 'Resource', resource: { name: 'cpu', currentAverageUtilization: 85, currentAverageValue: '170m' } },
      { type: 'Resource', resource: { name: 'memory', currentAverageValue: '300Mi' } },
    ]);
    expect(JSON.parse(annotations[CONDITIONS])).toEqual(status.conditions);
    // The behavior annotation is upstream's internal type: Go field names, unset fields null.
    expect(JSON.parse(annotations[BEHAVIOR])).toMatchObject({
      ScaleUp: { StabilizationWindowSeconds: 0, SelectPolicy: 'Max' },
      ScaleDown: { StabilizationWindowSeconds: 60, SelectPolicy: 'Min', Policies: [{ Type: 'Pods', Value: 2, PeriodSeconds: 30 }] },
    });

    // A v1 update of the spec, sent with a stale status annotation: the spec changes, nothing else does.
    const edited = structuredClone(v1.json);
    edited.spec.maxReplicas = 8;
    edited.metadata.annotations[CURRENT] = '[]';
    edited.status = { currentReplicas: 9, desiredReplicas: 9 };
    const put = await h.call<Obj>('PUT', `${V1}/web`, edited);
    expect(put.code).toBe(200);
    expect(put.json.metadata.annotations[CURRENT]).toBe(annotations[CURRENT]);
    const after = (await h.call<Obj>('GET', `${V2}/web`)).json;
    expect(after.spec.maxReplicas).toBe(8);
    // v1's CPU target is put back last among the metrics, as upstream's conversion does.
    expect(after.spec.metrics).toEqual([stored.spec.metrics[1], stored.spec.metrics[2], stored.spec.metrics[0]]);
    expect(after.spec.behavior).toEqual(stored.spec.behavior);
    expect(after.status).toEqual(status);
    expect(after.metadata.annotations).toEqual({ team: 'a' });

    // A v1 status write: what it says replaces the status (v1 status writers send no metrics annotation).
    const v1Again = (await h.call<Obj>('GET', `${V1}/web`)).json;
    delete v1Again.metadata.annotations[CURRENT];
    delete v1Again.metadata.annotations[CONDITIONS];
    v1Again.status = { currentReplicas: 3, desiredReplicas: 4, currentCPUUtilizationPercentage: 95 };
    expect((await h.call('PUT', `${V1}/web/status`, v1Again)).code).toBe(200);
    const afterStatus = (await h.call<Obj>('GET', `${V2}/web`)).json;
    expect(afterStatus.status).toEqual({
      currentReplicas: 3,
      desiredReplicas: 4,
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 95 } } }],
    });
    expect(afterStatus.spec.maxReplicas).toBe(8);

    // A v1 write that changes only the metrics annotation changes the spec: the generation counts it.
    const v1Metrics = (await h.call<Obj>('GET', `${V1}/web`)).json;
    const generation = v1Metrics.metadata.generation as number;
    v1Metrics.metadata.annotations[METRICS] = JSON.stringify([{ type: 'Resource', resource: { name: 'memory', targetAverageValue: '600Mi' } }]);
    const metricsPut = await h.call<Obj>('PUT', `${V1}/web`, v1Metrics);
    expect(metricsPut.code).toBe(200);
    expect(metricsPut.json.metadata.generation).toBe(generation + 1);
    expect((await h.call<Obj>('GET', `${V2}/web`)).json.spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '600Mi' } } },
      stored.spec.metrics[0],
    ]);
  });

  it("keeps each manager's fields across versions: managedFields are read in the version they were written in", async () => {
    // JSON is YAML: the applied configuration, as kubectl apply --server-side sends it.
    const applied = {
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'ssa' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'ssa' }, maxReplicas: 4, targetCPUUtilizationPercentage: 50 },
    };
    expect((await h.call('PATCH', `${V1}/ssa?fieldManager=tutorial`, applied, 'application/apply-patch+yaml')).code).toBe(201);
    // The controller's status, written in v2 by its own manager.
    const v2 = (await h.call<Obj>('GET', `${V2}/ssa`)).json;
    const status = { desiredReplicas: 1, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 20 } } }] };
    expect((await h.call('PUT', `${V2}/ssa/status?fieldManager=hpa-controller`, { ...v2, status })).code).toBe(200);
    // Another manager changes maxReplicas through v1.
    expect((await h.call('PATCH', `${V1}/ssa?fieldManager=editor`, { spec: { maxReplicas: 5 } }, 'application/merge-patch+json')).code).toBe(200);

    const entries = (await h.call<Obj>('GET', `${V1}/ssa`)).json.metadata.managedFields as Obj[];
    const entry = (manager: string) => entries.find((e) => e.manager === manager) as Obj;
    expect(entry('tutorial')).toMatchObject({ apiVersion: 'autoscaling/v1', operation: 'Apply' });
    expect(Object.keys(entry('tutorial').fieldsV1['f:spec']).sort()).toEqual(['f:scaleTargetRef', 'f:targetCPUUtilizationPercentage']);
    expect(entry('hpa-controller')).toMatchObject({ apiVersion: 'autoscaling/v2', operation: 'Update', subresource: 'status' });
    expect(Object.keys(entry('hpa-controller').fieldsV1['f:status'])).toContain('f:currentMetrics');
    expect(entry('editor')).toMatchObject({ apiVersion: 'autoscaling/v1', fieldsV1: { 'f:spec': { 'f:maxReplicas': {} } } });

    // The same manager, now through v2: its entry records v2, and keeps what the same path names in both.
    expect((await h.call('PATCH', `${V2}/ssa?fieldManager=editor`, { spec: { minReplicas: 2 } }, 'application/merge-patch+json')).code).toBe(200);
    const after = ((await h.call<Obj>('GET', `${V2}/ssa`)).json.metadata.managedFields as Obj[]).filter((e) => e.manager === 'editor');
    expect(after).toEqual([expect.objectContaining({ apiVersion: 'autoscaling/v2', fieldsV1: { 'f:spec': { 'f:maxReplicas': {}, 'f:minReplicas': {} } } })]);
  });

  it('defaults and validates v1 objects as the stored version', async () => {
    // No target at all: v1's implicit CPU target of 80 % is written out, minReplicas defaults to 1.
    const bare = await h.call<Obj>('POST', V1, { metadata: { name: 'bare' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3 } });
    expect(bare.code).toBe(201);
    expect(bare.json.spec).toEqual({ scaleTargetRef: { kind: 'Deployment', name: 'x' }, minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 80 });
    expect((await h.call<Obj>('GET', `${V2}/bare`)).json.spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
    ]);

    const zero = await h.call<Obj>('POST', V1, {
      metadata: { name: 'zero' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3, targetCPUUtilizationPercentage: 0 },
    });
    expect(zero.code).toBe(422);
    expect(zero.json).toMatchObject({ kind: 'Status', reason: 'Invalid', details: { kind: 'HorizontalPodAutoscaler', group: 'autoscaling' } });
    expect(zero.json.message).toContain('spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0');

    const badAnnotation = await h.call<Obj>('POST', V1, {
      metadata: { name: 'bad', annotations: { [METRICS]: '{not json' } },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3 },
    });
    expect(badAnnotation.code).toBe(400);
    expect(badAnnotation.json).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    expect((await h.call('GET', `${V2}/bad`)).code).toBe(404);

    // v1's own schema: a v2 field is unknown there.
    const strict = await h.call<Obj>('POST', `${V1}?fieldValidation=Strict`, {
      metadata: { name: 'strict' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3, metrics: [] },
    });
    expect(strict.code).toBe(400);
    expect(strict.json.message).toContain('unknown field "spec.metrics"');
  });

  it('lists v1 in discovery after v2, with one storage version hash; a v1 watch sees v2 writes converted', async () => {
    const group = await h.call<Obj>('GET', '/apis/autoscaling');
    expect(group.json.versions).toEqual([
      { groupVersion: 'autoscaling/v2', version: 'v2' },
      { groupVersion: 'autoscaling/v1', version: 'v1' },
    ]);
    expect(group.json.preferredVersion).toEqual({ groupVersion: 'autoscaling/v2', version: 'v2' });
    const hashOf = async (v: string) =>
      ((await h.call<Obj>('GET', `/apis/autoscaling/${v}`)).json.resources as Obj[]).find((r) => r.name === 'horizontalpodautoscalers')?.storageVersionHash;
    expect(await hashOf('v1')).toBeDefined();
    expect(await hashOf('v1')).toBe(await hashOf('v2'));

    const list = await h.call<Obj>('GET', V1);
    const rv = list.json.metadata.resourceVersion as string;
    const watching = h.raw('GET', `${V1}?watch=true&resourceVersion=${rv}&timeoutSeconds=2`);
    await new Promise((r) => setTimeout(r, 200));
    await h.call('POST', V2, {
      metadata: { name: 'watched' },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'w' },
        maxReplicas: 4,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 40 } } }],
      },
    });
    const events = (await watching).text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Obj);
    expect(events).toEqual([
      expect.objectContaining({
        type: 'ADDED',
        object: expect.objectContaining({ apiVersion: 'autoscaling/v1', spec: expect.objectContaining({ targetCPUUtilizationPercentage: 40 }) }),
      }),
    ]);

    const explained = (await h.kubectl(['explain', 'hpa.spec.targetCPUUtilizationPercentage', '--api-version=autoscaling/v1'])).stdout;
    expect(explained).toContain('targetCPUUtilizationPercentage');
  });
});
