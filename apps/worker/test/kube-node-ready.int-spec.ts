import type { Env } from '@cerulean/config';
import type { ClusterCredentialRepository, ClusterCredentials } from '@cerulean/domain';
import type { EntityManager } from 'typeorm';
import { startHarness, type Harness } from '../../kube-apiserver/test/harness';
import { KubeApiClient } from '../src/handlers/kube-api.client';

jest.setTimeout(60_000);

/**
 * How an operation waits for a new node to be Ready in its cluster's Kubernetes API (a create or scale succeeds only
 * then): a list of the one Node, then a watch from there, against a real API server.
 */
describe('KubeApiClient.waitNodeReady', () => {
  let h: Harness;
  let client: KubeApiClient;
  let cluster: { id: string; name: string; fqdn: string; apiServerPort: number };

  beforeAll(async () => {
    h = await startHarness();
    // The cluster's credentials as the repository would load them: the harness's CA and admin certificate.
    const creds = { ca: h.ca, admin: h.admin } as unknown as ClusterCredentials;
    const credentials = { load: () => Promise.resolve(creds) } as unknown as ClusterCredentialRepository;
    client = new KubeApiClient(undefined as unknown as EntityManager, credentials, { NODE_PUBLISH_HOST: '127.0.0.1' } as Env);
    cluster = { id: 'c1', name: 'it', fqdn: 'localhost', apiServerPort: h.server.port };
  });

  afterAll(async () => {
    await h?.close();
  });

  const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
  const setReady = async (name: string, status: 'True' | 'False', reason: string) => {
    const r = await h.call(
      'PATCH',
      `/api/v1/nodes/${name}/status`,
      { status: { conditions: [{ type: 'Ready', status, reason, message: reason }] } },
      'application/merge-patch+json',
    );
    expect(r.code).toBe(200);
  };

  it('returns once a node registered after the wait began reports Ready', async () => {
    const waiting = client.waitNodeReady(cluster, 'late', Date.now() + 20_000);
    let settled = false;
    void waiting.then(() => (settled = true)).catch(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    expect((await h.call('POST', '/api/v1/nodes', node('late'))).code).toBe(201);
    await setReady('late', 'False', 'KubeletNotReady');
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    await setReady('late', 'True', 'KubeletReady');
    await expect(waiting).resolves.toBeUndefined();
  });

  it('returns at once for a node that is Ready already', async () => {
    expect((await h.call('POST', '/api/v1/nodes', node('early'))).code).toBe(201);
    await setReady('early', 'True', 'KubeletReady');
    await expect(client.waitNodeReady(cluster, 'early', Date.now() + 5_000)).resolves.toBeUndefined();
  });

  it('fails with NodesNotReady and the last state it saw at the deadline', async () => {
    expect((await h.call('POST', '/api/v1/nodes', node('stuck'))).code).toBe(201);
    await setReady('stuck', 'False', 'KubeletNotReady');
    await expect(client.waitNodeReady(cluster, 'stuck', Date.now() + 1_500)).rejects.toMatchObject({
      code: 'NodesNotReady',
      message: "Node stuck did not become Ready in the cluster's Kubernetes API: Ready=False (KubeletNotReady).",
    });
  });

  it('stops waiting with the reason of an aborted signal (the node died)', async () => {
    const died = new AbortController();
    const waiting = client.waitNodeReady(cluster, 'never', Date.now() + 20_000, died.signal);
    await new Promise((r) => setTimeout(r, 300));
    died.abort(new Error('node never stopped'));
    await expect(waiting).rejects.toThrow('node never stopped');
  });
});
