import { asVersion, conversionFor } from './conversion';
import { matchesFields, parseFieldSelector } from './field-selector';
import { RESOURCE_TYPES } from './resource-types';

const rt = (group: string, plural: string) => {
  const found = RESOURCE_TYPES.find((r) => r.group === group && r.plural === plural);
  if (!found) throw new Error(`no ${group}/${plural}`);
  return found;
};

describe('conversionFor', () => {
  const events = conversionFor(rt('events.k8s.io', 'events'));

  it('stores events.k8s.io/v1 Events as core/v1 Events; every other resource as itself', () => {
    expect(events?.storage).toEqual({ group: '', version: 'v1', kind: 'Event', plural: 'events' });
    expect(conversionFor(rt('', 'events'))).toBeUndefined();
    expect(conversionFor(rt('apps', 'deployments'))).toBeUndefined();
  });

  it('renames the fields both ways and round-trips an object that uses all of them', () => {
    const served = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'e', namespace: 'default' },
      eventTime: '2026-12-06T10:00:00.000001Z',
      series: { count: 3, lastObservedTime: '2026-12-06T10:00:01.000000Z' },
      reportingController: 'kubelet',
      reportingInstance: 'node-1',
      action: 'Pulling',
      reason: 'Pulling',
      regarding: { kind: 'Pod', name: 'p' },
      related: { kind: 'Node', name: 'node-1' },
      note: 'Pulling image',
      type: 'Normal',
      deprecatedSource: { component: 'kubelet' },
      deprecatedFirstTimestamp: '2026-12-06T10:00:00Z',
      deprecatedLastTimestamp: '2026-12-06T10:00:01Z',
      deprecatedCount: 3,
    };
    const stored = events!.toStorage(served);
    expect(stored).toEqual({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: served.metadata,
      eventTime: served.eventTime,
      series: served.series,
      reportingComponent: 'kubelet',
      reportingInstance: 'node-1',
      action: 'Pulling',
      reason: 'Pulling',
      involvedObject: served.regarding,
      related: served.related,
      message: 'Pulling image',
      type: 'Normal',
      source: served.deprecatedSource,
      firstTimestamp: served.deprecatedFirstTimestamp,
      lastTimestamp: served.deprecatedLastTimestamp,
      count: 3,
    });
    expect(events!.fromStorage(stored)).toEqual(served);
  });

  it("drops a field of the other version's name, which the version read or written does not have", () => {
    const metadata = { name: 'e' };
    expect(events!.toStorage({ metadata, note: 'kept', message: 'dropped' })).toEqual({ apiVersion: 'v1', kind: 'Event', metadata, message: 'kept' });
    expect(events!.fromStorage({ metadata, message: 'kept', note: 'dropped' })).toEqual({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata,
      note: 'kept',
    });
  });
});

describe('parseFieldSelector on Events', () => {
  it("takes each version's own field names (events.k8s.io/v1's as upstream maps them to core/v1's)", () => {
    expect(parseFieldSelector('involvedObject.name=p,type=Warning', 'Event')).toHaveLength(2);
    expect(parseFieldSelector('regarding.name=p,reportingController=kubelet,source=kubelet', 'Event', 'events.k8s.io')).toHaveLength(3);
    expect(() => parseFieldSelector('involvedObject.name=p', 'Event', 'events.k8s.io')).toThrow('field label not supported: involvedObject.name');
    expect(() => parseFieldSelector('regarding.name=p', 'Event')).toThrow('field label not supported: regarding.name');
  });

  it('selects on the reporting component by `source` in either version', () => {
    const [source] = parseFieldSelector('source=kubelet', 'Event', 'events.k8s.io');
    expect(matchesFields([source], { metadata: {}, deprecatedSource: { component: 'kubelet' } })).toBe(true);
    expect(matchesFields([source], { metadata: {}, source: { component: 'kubelet' } })).toBe(true);
    expect(matchesFields([source], { metadata: {}, deprecatedSource: { component: 'scheduler' } })).toBe(false);
  });
});

describe('asVersion', () => {
  const coreEvent = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, involvedObject: { kind: 'Pod', name: 'p' }, message: 'm' };
  const hpaV2 = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'h' },
    spec: {
      scaleTargetRef: { kind: 'Deployment', name: 'd' },
      maxReplicas: 3,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }],
    },
  };
  const hpa = (version: string) => RESOURCE_TYPES.find((r) => r.plural === 'horizontalpodautoscalers' && r.version === version)!;

  it('shows an object in another served version of the same objects, either way round, and in its own as itself', () => {
    expect(asVersion(rt('', 'events'), coreEvent, 'events.k8s.io/v1')).toMatchObject({ regarding: { name: 'p' }, note: 'm' });
    expect(asVersion(rt('events.k8s.io', 'events'), { ...coreEvent, apiVersion: 'events.k8s.io/v1', note: 'n' }, 'v1')).toMatchObject({ message: 'n' });
    expect(asVersion(hpa('v2'), hpaV2, 'autoscaling/v1')).toMatchObject({ spec: { targetCPUUtilizationPercentage: 60 } });
    expect(
      asVersion(
        hpa('v1'),
        { ...hpaV2, apiVersion: 'autoscaling/v1', spec: { ...hpaV2.spec, metrics: undefined, targetCPUUtilizationPercentage: 70 } },
        'autoscaling/v2',
      ),
    ).toMatchObject({ spec: { metrics: [{ resource: { target: { averageUtilization: 70 } } }] } });
    expect(asVersion(hpa('v2'), hpaV2, 'autoscaling/v2')).toBe(hpaV2);
  });

  it('answers undefined where no conversion links the versions', () => {
    expect(asVersion(rt('apps', 'deployments'), { apiVersion: 'apps/v1', kind: 'Deployment', metadata: {} }, 'apps/v1beta2')).toBeUndefined();
    expect(asVersion(hpa('v2'), hpaV2, 'events.k8s.io/v1')).toBeUndefined();
  });
});
