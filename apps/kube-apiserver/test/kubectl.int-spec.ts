import { Harness, startHarness } from './harness';

jest.setTimeout(120_000);

describe('kube-apiserver driven by the real kubectl', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers version and api-resources', async () => {
    const v = JSON.parse((await h.kubectl(['version', '-o', 'json'])).stdout);
    expect(v.serverVersion).toMatchObject({ major: '1', minor: '33', gitVersion: 'v1.33.2' });
    const res = (await h.kubectl(['api-resources'])).stdout;
    expect(res).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(res).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
    expect(res).toMatch(/^leases\s+coordination.k8s.io\/v1\s+true\s+Lease$/m);
  });

  it('lists the bootstrap namespaces with kubectl get', async () => {
    const out = (await h.kubectl(['get', 'namespaces'])).stdout;
    expect(out).toMatch(/^NAME\s+STATUS\s+AGE$/m);
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) expect(out).toMatch(new RegExp(`^${ns}\\s+Active\\s+\\d+s$`, 'm'));
  });
});
