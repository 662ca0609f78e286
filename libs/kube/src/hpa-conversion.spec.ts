import {
  HPA_BEHAVIOR_ANNOTATION,
  HPA_CONDITIONS_ANNOTATION,
  HPA_CURRENT_METRICS_ANNOTATION,
  HPA_METRICS_ANNOTATION,
  hpaV1ToV2,
  hpaV2ToV1,
} from './hpa-conversion';
import { KubeError } from './status';

const meta = { name: 'h', namespace: 'default' };
const target = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };

describe('autoscaling/v1 <-> v2 HorizontalPodAutoscaler conversion', () => {
  const v2 = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta,
    spec: {
      scaleTargetRef: target,
      minReplicas: 1,
      maxReplicas: 5,
      metrics: [
        {
          type: 'Object',
          object: {
            describedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main' },
            metric: { name: 'hits', selector: { matchLabels: { a: 'b' } } },
            target: { type: 'Value', value: '2k' },
          },
        },
        { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'AverageValue', averageValue: '30' } } },
        { type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target: { type: 'Utilization', averageUtilization: 60 } } },
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 75 } } },
      ],
      behavior: { scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } },
    },
    status: {
      desiredReplicas: 2,
      currentMetrics: [{ type: 'External', external: { metric: { name: 'queue' }, current: { averageValue: '12' } } }],
    },
  };

  it('writes every metric but the CPU utilization target in v1 annotation shapes', () => {
    const v1 = hpaV2ToV1(v2);
    expect(v1.spec).toEqual({ scaleTargetRef: target, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 75 });
    expect(v1.status).toEqual({ currentReplicas: 0, desiredReplicas: 2 });
    const a = v1.metadata.annotations as Record<string, string>;
    expect(JSON.parse(a[HPA_METRICS_ANNOTATION])).toEqual([
      {
        type: 'Object',
        object: {
          target: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main' },
          metricName: 'hits',
          targetValue: '2k',
          selector: { matchLabels: { a: 'b' } },
        },
      },
      { type: 'External', external: { metricName: 'queue', targetAverageValue: '30' } },
      { type: 'ContainerResource', containerResource: { name: 'cpu', targetAverageUtilization: 60, container: 'app' } },
    ]);
    // A non-pointer quantity of v1's status is the zero quantity when v2 has none.
    expect(JSON.parse(a[HPA_CURRENT_METRICS_ANNOTATION])).toEqual([
      { type: 'External', external: { metricName: 'queue', currentValue: '0', currentAverageValue: '12' } },
    ]);
    expect(a[HPA_CONDITIONS_ANNOTATION]).toBeUndefined();
    expect(JSON.parse(a[HPA_BEHAVIOR_ANNOTATION])).toEqual({
      ScaleUp: { StabilizationWindowSeconds: 0, SelectPolicy: 'Max', Policies: [{ Type: 'Percent', Value: 100, PeriodSeconds: 15 }], Tolerance: null },
      ScaleDown: null,
    });
    // The served object is a new one: the stored object's metadata is untouched.
    expect(v2.metadata).toEqual(meta);
  });

  it('round-trips the spec through v1, the CPU target moved last', () => {
    const back = hpaV1ToV2(hpaV2ToV1(v2));
    const m = v2.spec.metrics;
    expect(back.spec).toEqual({ ...v2.spec, metrics: [m[0], m[1], m[2], m[3]] });
    expect(back.metadata).toEqual(meta);
    // Upstream's v1 form of an object metric always has a value target; a status value comes back as zero.
    expect((back.status as { currentMetrics: unknown[] }).currentMetrics).toEqual([
      { type: 'External', external: { metric: { name: 'queue' }, current: { value: '0', averageValue: '12' } } },
    ]);
  });

  it('reads a behavior annotation as Go does (any letter case), and ignores one that does not decode', () => {
    const served = (annotation: string) => ({
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: { ...meta, annotations: { [HPA_BEHAVIOR_ANNOTATION]: annotation } },
      spec: { scaleTargetRef: target, maxReplicas: 3, targetCPUUtilizationPercentage: 50 },
    });
    const parsed = hpaV1ToV2(
      served('{"scaledown":{"stabilizationWindowSeconds":30,"POLICIES":[{"type":"Pods","value":1,"periodSeconds":60}]},"ScaleUp":null}'),
    );
    expect((parsed.spec as Record<string, unknown>).behavior).toEqual({
      scaleDown: { stabilizationWindowSeconds: 30, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
    });
    expect(parsed.metadata.annotations).toBeUndefined();
    const ignored = hpaV1ToV2(served('nope'));
    expect(ignored.spec).not.toHaveProperty('behavior');
    expect(ignored.metadata.annotations).toBeUndefined();
  });

  it('writes v1 targets out: the implicit 80 % CPU without any, and a 400 for a metrics annotation that is not a list', () => {
    const bare = hpaV1ToV2({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: meta, spec: { scaleTargetRef: target, maxReplicas: 3 } });
    expect((bare.spec as { metrics: unknown }).metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
    ]);
    expect(bare.status).toEqual({ desiredReplicas: 0 });
    const bad = () =>
      hpaV1ToV2({
        apiVersion: 'autoscaling/v1',
        kind: 'HorizontalPodAutoscaler',
        metadata: { ...meta, annotations: { [HPA_METRICS_ANNOTATION]: '{"type":"Pods"}' } },
        spec: { scaleTargetRef: target, maxReplicas: 3 },
      });
    expect(bad).toThrow(KubeError);
    expect(bad).toThrow(/cannot be handled as a HorizontalPodAutoscaler/);
  });
});
