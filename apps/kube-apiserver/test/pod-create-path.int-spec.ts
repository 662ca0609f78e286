import { Agent, request as httpsRequest } from 'node:https';
import { Harness, startHarness } from './harness';

jest.setTimeout(120_000);

/**
 * What pod create and pods/binding read and write: namespace and service-account admission answer from memory (kept by
 * a watch) yet never from older state than this server's own last write, and a binding is one write.
 */
describe('pod create and binding', () => {
  let h: Harness;
  let agent: Agent;
  beforeAll(async () => {
    h = await startHarness();
    agent = new Agent({ keepAlive: true, ca: h.ca.certPem, cert: h.admin.certPem, key: h.admin.keyPem });
  });
  afterAll(async () => {
    agent?.destroy();
    await h?.close();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const call = (method: string, path: string, body?: unknown): Promise<{ code: number; json: any }> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = httpsRequest(
        new URL(path, h.server.url),
        { method, agent, headers: { Accept: 'application/json', ...(payload ? { 'Content-Type': 'application/json' } : {}) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ code: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const pod = (name: string, spec: object = {}) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec },
  });

  it('accepts pods in a namespace created a moment ago and refuses them once its deletion was answered', async () => {
    for (let i = 0; i < 8; i++) {
      const ns = `churn-${i}`;
      expect((await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).code).toBe(201);
      expect((await call('POST', `/api/v1/namespaces/${ns}/pods`, pod('first', { automountServiceAccountToken: false }))).code).toBe(201);
      expect((await call('DELETE', `/api/v1/namespaces/${ns}`)).code).toBe(200);
      const late = await call('POST', `/api/v1/namespaces/${ns}/pods`, pod('late', { automountServiceAccountToken: false }));
      // Terminating (403 NamespaceTerminating) or already gone (404): never created.
      expect([403, 404]).toContain(late.code);
    }
  });

  it("sees a service account's change in the very next pod", async () => {
    for (let i = 0; i < 5; i++) {
      const sa = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'rotating' }, imagePullSecrets: [{ name: `cred-${i}` }] };
      const put =
        i === 0
          ? await call('POST', '/api/v1/namespaces/default/serviceaccounts', sa)
          : await call('PUT', '/api/v1/namespaces/default/serviceaccounts/rotating', sa);
      expect(put.code).toBeLessThan(300);
      const created = await call('POST', '/api/v1/namespaces/default/pods', pod(`rot-${i}`, { serviceAccountName: 'rotating' }));
      expect(created.code).toBe(201);
      expect(created.json.spec.imagePullSecrets).toEqual([{ name: `cred-${i}` }]);
    }
    expect((await call('DELETE', '/api/v1/namespaces/default/serviceaccounts/rotating')).code).toBe(200);
    // Gone: the next pod naming it is refused, as upstream's admission refuses a missing service account.
    const after = await call('POST', '/api/v1/namespaces/default/pods', pod('rot-gone', { serviceAccountName: 'rotating' }));
    expect(after.code).toBe(403);
    expect(after.json).toMatchObject({ kind: 'Status', reason: 'Forbidden', details: { name: 'rot-gone', kind: 'pods' } });
  });

  it('binds in one write (nodeName and PodScheduled together, no managedFields entry) and checks the pod uid', async () => {
    const created = (await call('POST', '/api/v1/namespaces/default/pods', pod('to-bind'))).json;
    const binding = (uid: string) => ({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'to-bind', uid }, target: { kind: 'Node', name: 'node-a' } });
    const wrong = await call('POST', '/api/v1/namespaces/default/pods/to-bind/binding', binding('00000000-0000-0000-0000-000000000000'));
    expect(wrong.code).toBe(409);
    expect(wrong.json.message).toContain('Precondition failed: UID in precondition');
    expect((await call('POST', '/api/v1/namespaces/default/pods/to-bind/binding', binding(created.metadata.uid))).code).toBe(201);
    const bound = (await call('GET', '/api/v1/namespaces/default/pods/to-bind')).json;
    expect(bound.spec.nodeName).toBe('node-a');
    expect(bound.status.conditions).toEqual([{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: expect.any(String) }]);
    expect(bound.metadata.managedFields).toEqual(created.metadata.managedFields);
    // One write: the revision moved once, so a watch from the create sees a single MODIFIED.
    const events = await new Promise<string[]>((resolve, reject) => {
      const seen: string[] = [];
      const req = httpsRequest(
        new URL(
          `/api/v1/namespaces/default/pods?watch=true&fieldSelector=metadata.name%3Dto-bind&resourceVersion=${created.metadata.resourceVersion}&timeoutSeconds=1`,
          h.server.url,
        ),
        { agent: false, ca: h.ca.certPem, cert: h.admin.certPem, key: h.admin.keyPem },
        (res) => {
          let buf = '';
          res.on('data', (c: Buffer) => (buf += c.toString('utf8')));
          res.on('end', () => {
            for (const line of buf.split('\n').filter(Boolean)) seen.push(JSON.parse(line).type);
            resolve(seen);
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(events).toEqual(['MODIFIED']);
    expect((await call('POST', '/api/v1/namespaces/default/pods/to-bind/binding', binding(created.metadata.uid))).code).toBe(409);
  });
});
