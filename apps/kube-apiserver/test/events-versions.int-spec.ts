import { type Harness, startHarness } from './harness';

jest.setTimeout(60_000);

const CORE = '/api/v1/namespaces/default/events';
const EVENTS = '/apis/events.k8s.io/v1/namespaces/default/events';

/** core/v1 and events.k8s.io/v1 Events are one storage (as upstream): each API reads and writes the other's objects. */
describe('Events through core/v1 and events.k8s.io/v1', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('serves a core/v1 Event under events.k8s.io/v1 field names, and back', async () => {
    const core = await h.call('POST', CORE, {
      metadata: { name: 'from-core' },
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'web-0', uid: 'u-1' },
      reason: 'Started',
      message: 'Started container web',
      source: { component: 'kubelet', host: 'node-1' },
      firstTimestamp: '2026-12-06T10:00:00Z',
      lastTimestamp: '2026-12-06T10:01:00Z',
      count: 2,
      type: 'Normal',
      reportingComponent: 'kubelet',
      reportingInstance: 'node-1',
    });
    expect(core.code).toBe(201);

    const v1 = await h.call<Record<string, unknown>>('GET', `${EVENTS}/from-core`);
    expect(v1.code).toBe(200);
    expect(v1.json).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'from-core', namespace: 'default', uid: (core.json.metadata as { uid: string }).uid },
      regarding: { kind: 'Pod', name: 'web-0', uid: 'u-1' },
      reason: 'Started',
      note: 'Started container web',
      deprecatedSource: { component: 'kubelet', host: 'node-1' },
      deprecatedFirstTimestamp: '2026-12-06T10:00:00Z',
      deprecatedLastTimestamp: '2026-12-06T10:01:00Z',
      deprecatedCount: 2,
      type: 'Normal',
      reportingController: 'kubelet',
      reportingInstance: 'node-1',
    });
    for (const coreName of ['involvedObject', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'reportingComponent'])
      expect(v1.json).not.toHaveProperty(coreName);

    // The same object, read back through core/v1 unchanged.
    const again = await h.call<Record<string, unknown>>('GET', `${CORE}/from-core`);
    expect(again.json).toMatchObject({ apiVersion: 'v1', message: 'Started container web', count: 2, reportingComponent: 'kubelet' });
    expect(again.json).not.toHaveProperty('note');
  });

  it('stores an events.k8s.io/v1 Event where core/v1 lists it, and updates it through either', async () => {
    const made = await h.call('POST', EVENTS, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'from-events' },
      eventTime: '2026-12-06T10:00:00.123456Z',
      reportingController: 'example.com/controller',
      reportingInstance: 'controller-0',
      action: 'Scaling',
      reason: 'ScaledUp',
      regarding: { kind: 'Deployment', namespace: 'default', name: 'web' },
      note: 'Scaled up to 3',
      type: 'Normal',
    });
    expect(made.code).toBe(201);
    expect(made.json).toMatchObject({ apiVersion: 'events.k8s.io/v1', note: 'Scaled up to 3', regarding: { name: 'web' } });

    const listed = await h.call<{ items: Record<string, unknown>[] }>('GET', CORE);
    const item = listed.json.items.find((e) => (e.metadata as { name: string }).name === 'from-events');
    expect(item).toMatchObject({
      apiVersion: 'v1',
      involvedObject: { kind: 'Deployment', name: 'web' },
      message: 'Scaled up to 3',
      reportingComponent: 'example.com/controller',
      eventTime: '2026-12-06T10:00:00.123456Z',
      action: 'Scaling',
    });

    // A merge patch in events.k8s.io's names; core/v1 sees the change under its own.
    const patched = await h.call(
      'PATCH',
      `${EVENTS}/from-events`,
      { note: 'Scaled up to 4', series: { count: 2, lastObservedTime: '2026-12-06T10:02:00.000000Z' } },
      'application/merge-patch+json',
    );
    expect(patched.code).toBe(200);
    expect(patched.json).toMatchObject({ note: 'Scaled up to 4', series: { count: 2 } });
    const core = await h.call<Record<string, unknown>>('GET', `${CORE}/from-events`);
    expect(core.json).toMatchObject({ message: 'Scaled up to 4', series: { count: 2 } });

    // A core/v1 update with the resourceVersion just read; events.k8s.io/v1 reads it at the same resourceVersion.
    const updated = await h.call<Record<string, unknown>>('PUT', `${CORE}/from-events`, { ...core.json, message: 'Scaled up to 5' });
    expect(updated.code).toBe(200);
    const read = await h.call<Record<string, unknown>>('GET', `${EVENTS}/from-events`);
    expect(read.json).toMatchObject({
      note: 'Scaled up to 5',
      metadata: { resourceVersion: (updated.json.metadata as { resourceVersion: string }).resourceVersion },
    });

    // A field of the other version's name is not one of this version's: it is not stored.
    const foreign = await h.call('PATCH', `${EVENTS}/from-events`, { message: 'not a field here' }, 'application/merge-patch+json');
    expect(foreign.code).toBe(200);
    expect((await h.call<Record<string, unknown>>('GET', `${CORE}/from-events`)).json).toMatchObject({ message: 'Scaled up to 5' });

    expect((await h.call('DELETE', `${EVENTS}/from-events`)).code).toBe(200);
    expect((await h.call('GET', `${CORE}/from-events`)).code).toBe(404);
  });

  it('lists and watches core/v1 writes as events.k8s.io/v1 objects; field selectors by the names of each version', async () => {
    const list = await h.call<{ apiVersion: string; kind: string; metadata: { resourceVersion: string }; items: Record<string, unknown>[] }>('GET', EVENTS);
    expect(list.json).toMatchObject({ apiVersion: 'events.k8s.io/v1', kind: 'EventList' });
    expect(list.json.items.length).toBeGreaterThan(0);
    for (const e of list.json.items) {
      expect(e.apiVersion).toBe('events.k8s.io/v1');
      expect(e).not.toHaveProperty('involvedObject');
    }

    const rv = list.json.metadata.resourceVersion;
    const watching = h.raw('GET', `${EVENTS}?watch=true&resourceVersion=${rv}&timeoutSeconds=2`);
    const written = await h.call('POST', CORE, {
      metadata: { name: 'watched' },
      involvedObject: { kind: 'Node', name: 'node-2' },
      reason: 'NodeReady',
      message: 'Node node-2 status is now: NodeReady',
      type: 'Normal',
    });
    expect(written.code).toBe(201);
    const lines = (await watching).text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; object: Record<string, unknown> });
    expect(lines).toContainEqual({
      type: 'ADDED',
      object: expect.objectContaining({
        apiVersion: 'events.k8s.io/v1',
        note: 'Node node-2 status is now: NodeReady',
        regarding: { kind: 'Node', name: 'node-2' },
      }),
    });

    // Each version selects on its own field names (events.k8s.io/v1's as upstream maps them onto core/v1's).
    const bad = await h.call<{ message: string }>('GET', `${EVENTS}?fieldSelector=involvedObject.name%3Dnode-2`);
    expect(bad.code).toBe(400);
    expect(bad.json.message).toBe('field label not supported: involvedObject.name');
    const regarding = await h.call<{ items: Record<string, unknown>[] }>('GET', `${EVENTS}?fieldSelector=regarding.name%3Dnode-2,regarding.kind%3DNode`);
    expect(regarding.json.items.map((e) => e.note)).toEqual(['Node node-2 status is now: NodeReady']);
    const byController = await h.call<{ items: Record<string, unknown>[] }>('GET', `${EVENTS}?fieldSelector=reportingController%3Dkubelet`);
    expect(byController.json.items.map((e) => (e.metadata as { name: string }).name)).toEqual(['from-core']);
    const core = await h.call<{ items: Record<string, unknown>[] }>('GET', `${CORE}?fieldSelector=involvedObject.name%3Dnode-2`);
    expect(core.json.items.map((e) => (e.metadata as { name: string }).name)).toEqual(['watched']);
  });

  it('shows each API the Events written through the other, with the real kubectl', async () => {
    const v1 = JSON.parse((await h.kubectl(['get', 'events.v1.events.k8s.io', '-n', 'default', '-o', 'json'])).stdout) as { items: Record<string, unknown>[] };
    const byName = new Map(v1.items.map((e) => [(e.metadata as { name: string }).name, e]));
    expect(byName.get('from-core')).toMatchObject({ apiVersion: 'events.k8s.io/v1', note: 'Started container web' });
    const table = (await h.kubectl(['get', 'events', '-n', 'default', '--field-selector', 'metadata.name=watched'])).stdout;
    expect(table).toMatch(/NodeReady\s+node\/node-2\s+Node node-2 status is now: NodeReady/);
  });
});
