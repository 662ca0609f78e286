import { setTimeout as sleep } from 'node:timers/promises';
import { DeploymentController } from '../src/controllers/deployment.controller';
import { startLaggingController, type Lag, type LaggingBed } from './lagging-cache';
import { waitFor } from './stand-in-kubelet';

jest.setTimeout(60_000);

const HIDDEN_MS = 2000;

/** The ReplicaSet cache shows each set only HIDDEN_MS after it first holds it: an informer that lags behind. */
const hideNewSets: Lag = (informer) => {
  const firstHeld = new Map<string, number>();
  const shown = (rs: { metadata: { uid?: unknown } }) => {
    const uid = String(rs.metadata.uid);
    if (!firstHeld.has(uid)) firstHeld.set(uid, Date.now());
    return Date.now() - firstHeld.get(uid)! >= HIDDEN_MS;
  };
  const [list, listNamespace, get] = [informer.list.bind(informer), informer.listNamespace.bind(informer), informer.get.bind(informer)];
  informer.list = () => list().filter(shown);
  informer.listNamespace = (namespace) => listNamespace(namespace).filter(shown);
  informer.get = (namespace, name) => {
    const rs = get(namespace, name);
    return rs && shown(rs) ? rs : undefined;
  };
};

/**
 * The Deployment controller syncing again before its cache shows the ReplicaSet it just created (its own writes to
 * the Deployment bring it back at once). Its create then meets AlreadyExists; it must find that set is its own and use
 * it, as upstream does. Taking the cache's silence for a hash collision, it made a second set of the same template,
 * and the Deployment's first revision came out as 2 (the CI of b7ae349 failed so).
 */
describe('Deployment controller with a cache behind its own ReplicaSet creates', () => {
  let bed: LaggingBed;

  beforeAll(async () => {
    bed = await startLaggingController('replicasets', hideNewSets, (context) => new DeploymentController(context));
  });

  afterAll(() => bed?.close());

  it('keeps one ReplicaSet, revision 1 and no collision for a new Deployment', async () => {
    const { h, client } = bed;
    await h.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'lag' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'lag' } },
          template: { metadata: { labels: { app: 'lag' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } },
        },
      }),
    });
    type Set = { metadata: { name: string; annotations: Record<string, string> } };
    const sets = async () => (await client.list<Set>('/apis/apps/v1/namespaces/default/replicasets')).items;
    await waitFor('the first ReplicaSet', async () => (await sets()).length > 0);
    // Past the time the cache hides the set, so every sync the controller's own writes brought has run.
    await sleep(HIDDEN_MS + 1000);
    const d = await client.get<{ metadata: { annotations?: Record<string, string> }; status?: { collisionCount?: number } }>(
      '/apis/apps/v1/namespaces/default/deployments/lag',
    );
    expect((await sets()).map((rs) => rs.metadata.annotations['deployment.kubernetes.io/revision'])).toEqual(['1']);
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(d.status?.collisionCount).toBeUndefined();
  });
});
