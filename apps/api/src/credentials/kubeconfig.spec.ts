import { renderKubeconfig, toYaml } from './kubeconfig';

// js-yaml comes with jest (istanbul): an independent reader for what we write.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { safeLoad(text: string): unknown };

const CA = '-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n';

describe('renderKubeconfig', () => {
  it('writes the admin kubeconfig as AKS lays it out, with base64 CA, certificate and key', () => {
    const text = renderKubeconfig({
      clusterName: 'demo',
      contextName: 'demo-admin',
      userName: 'clusterAdmin_rg.1_demo',
      server: 'https://demo-1a2b.hcp.eastus.cerulean.localhost:20001',
      caPem: CA,
      user: { kind: 'certificate', certPem: 'CERT', keyPem: 'KEY' },
    });
    expect(yaml.safeLoad(text)).toEqual({
      apiVersion: 'v1',
      clusters: [
        {
          cluster: { 'certificate-authority-data': Buffer.from(CA).toString('base64'), server: 'https://demo-1a2b.hcp.eastus.cerulean.localhost:20001' },
          name: 'demo',
        },
      ],
      contexts: [{ context: { cluster: 'demo', user: 'clusterAdmin_rg.1_demo' }, name: 'demo-admin' }],
      'current-context': 'demo-admin',
      kind: 'Config',
      preferences: {},
      users: [{ name: 'clusterAdmin_rg.1_demo', user: { 'client-certificate-data': 'Q0VSVA==', 'client-key-data': 'S0VZ' } }],
    });
    expect(text).toContain('current-context: demo-admin\n');
  });

  it('writes kubelogin exec users for Azure AD clusters', () => {
    const parsed = yaml.safeLoad(
      renderKubeconfig({
        clusterName: 'c',
        contextName: 'c',
        userName: 'clusterUser_rg_c',
        server: 'https://x:1',
        caPem: CA,
        user: { kind: 'exec', tenantId: 't-1' },
      }),
    ) as { users: { user: { exec: { command: string; args: string[]; env: null } } }[] };
    expect(parsed.users[0].user.exec.command).toBe('kubelogin');
    expect(parsed.users[0].user.exec.args).toContain('t-1');
    expect(parsed.users[0].user.exec.env).toBeNull();
  });
});

describe('toYaml', () => {
  it.each([['true'], ['1.33'], ['007'], ['a: b'], ['-x'], [''], ["it's"], ['line\nbreak'], ['null'], ['#x'], ['x:']])('keeps %j a string', (s) => {
    expect(yaml.safeLoad(toYaml({ k: s }))).toEqual({ k: s });
  });

  it('round-trips nested lists and empty containers', () => {
    const v = { a: [{ b: [1, 'two', { c: null }] }, []], d: {}, e: [] };
    expect(yaml.safeLoad(toYaml(v))).toEqual(v);
  });
});
