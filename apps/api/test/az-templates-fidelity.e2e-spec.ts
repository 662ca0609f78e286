import { copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { azOk as ok, useAzSuite } from '../../../test-support/az';
import { AKS_API, arm, clusterBody, clusterPath, dockerNodes, startWorker, WorkerProcess } from '../../../test-support/platform';

jest.setTimeout(900_000);

const REAL_WORLD = resolve(__dirname, 'fixtures/real-world');

interface WhatIfChange {
  resourceId: string;
  changeType: string;
}

/**
 * Templates as the public writes them, through the real az (issue 16): an unmodified public AKS quickstart
 * (fixtures/real-world, source and commit in its README) deploys and answers its output; and validate / what-if
 * refuse what the deployment's PUT would refuse, with the PUT's own error, before anything is written.
 */
describe('az deployment group with public templates', () => {
  let worker: WorkerProcess;
  const suite = useAzSuite('templates', { login: true });
  const run = suite.run;
  const rg = 'aztpl-rg';
  const quickstart = (cluster: string, ...extra: string[]) => [
    '--template-file',
    'quickstart-101-aks.azuredeploy.json',
    '--parameters',
    `clusterName=${cluster}`,
    `dnsPrefix=${cluster}`,
    'agentCount=1',
    'linuxAdminUsername=azureuser',
    'sshRSAPublicKey=ssh-rsa AAAAB3NzaC1yc2E azureuser@linuxvm',
    ...extra,
  ];

  beforeAll(async () => {
    worker = await startWorker();
    copyFileSync(join(REAL_WORLD, 'quickstart-101-aks.azuredeploy.json'), join(suite.workDir, 'quickstart-101-aks.azuredeploy.json'));
    ok(await run('group', 'create', '-n', rg, '-l', 'eastus'));
  });

  afterAll(async () => {
    await run('aks', 'delete', '-g', rg, '-n', 'azqs1', '--yes');
    await worker?.stop();
  });

  it('the unmodified 101-aks quickstart validates, deploys, answers controlPlaneFQDN, and then what-if changes nothing', async () => {
    ok(await run('deployment', 'group', 'validate', '-g', rg, '-n', 'qs-validate', ...quickstart('azqs1')));
    const created = ok(await run('deployment', 'group', 'create', '-g', rg, '-n', 'qs1', ...quickstart('azqs1'))).json as {
      properties: { provisioningState: string; outputs: { controlPlaneFQDN: { type: string; value: string } } };
    };
    expect(created.properties.provisioningState).toBe('Succeeded');
    const live = await arm<{ properties: { fqdn: string } }>('GET', `${clusterPath(rg, 'azqs1')}?${AKS_API}`);
    expect(created.properties.outputs.controlPlaneFQDN).toEqual({ type: 'String', value: live.body.properties.fqdn });
    expect((await dockerNodes('azqs1')).filter((n) => n.running)).toHaveLength(1);

    const same = ok(await run('deployment', 'group', 'what-if', '-g', rg, '-n', 'qs-whatif', ...quickstart('azqs1'), '--no-pretty-print')).json as {
      changes: WhatIfChange[];
    };
    expect(same.changes.map((c) => [c.resourceId.split('/').pop(), c.changeType])).toEqual([['azqs1', 'NoChange']]);
  });

  // The PUT's own answer to the same mistake, for comparison.
  const putError = async (body: object) => {
    const r = await arm<{ error: { code: string; message: string } }>('PUT', `${clusterPath(rg, 'azqsput')}?${AKS_API}`, { body });
    expect(r.status).toBe(400);
    return r.body.error;
  };

  it.each([
    ['an unknown VM size', ['agentVMSize=Standard_Nope'], clusterBody([{ name: 'agentpool', count: 1, vmSize: 'Standard_Nope' }])],
    ['an unknown location', ['location=marsnorth'], { ...clusterBody([{ name: 'agentpool', count: 1 }]), location: 'marsnorth' }],
  ])('validate and what-if refuse %s with the error the PUT gives; nothing is created', async (_what, params, body) => {
    const expected = await putError(body);
    for (const command of ['validate', 'what-if']) {
      const refused = await run('deployment', 'group', command, '-g', rg, '-n', 'qs-bad', ...quickstart('azqsbad', ...params));
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('InvalidTemplateDeployment');
      expect(refused.stderr).toContain(expected.code);
      expect(refused.stderr).toContain(expected.message);
    }
    expect((await arm('GET', `${clusterPath(rg, 'azqsbad')}?${AKS_API}`)).status).toBe(404);
  });
});
