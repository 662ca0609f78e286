import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { arm, dockerNodes, RES_API, rgPath, startWorker, state, WorkerProcess } from '../../../test-support/platform';

jest.setTimeout(120_000);

const CLI = resolve(__dirname, '../../../bin/cerulean');
const fixture = (name: string) => join(__dirname, 'fixtures', name);

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI against the test platform, as a user would (no terminal: no colours). */
function cerulean(...args: string[]): Promise<CliRun> {
  const s = state();
  return new Promise((res, rej) => {
    const child = spawn(CLI, [...args, '--interval', '0.2'], {
      // Signs in as the test run's bootstrap principal, the way the CLI does on `npm start`'s data folder.
      env: {
        ...process.env,
        CERULEAN_ENDPOINT: s.apiUrl,
        CERULEAN_CA: s.caPath,
        CERULEAN_DATA_DIR: join(s.dir, 'data'),
        CERULEAN_SUBSCRIPTION_ID: s.subscriptionId,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', rej);
    child.on('close', (code) => res({ code, stdout, stderr }));
  });
}

describe('the cerulean CLI: deploy, what-if, validate', () => {
  let worker: WorkerProcess;
  const rg = `cli-${Date.now().toString(36)}`;
  const cluster = 'clik1';

  beforeAll(async () => {
    worker = await startWorker();
    expect((await arm('PUT', `${rgPath(rg)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
  });

  afterAll(async () => {
    await arm('DELETE', `${rgPath(rg)}?${RES_API}`).catch(() => undefined);
    await worker?.stop();
  });

  it('validates a template with its parameters file: exit 0 and the validated resources', async () => {
    const sut = await cerulean(
      'validate',
      '-g',
      rg,
      '-f',
      fixture('cluster-with-pool.json'),
      '-p',
      fixture('cluster-with-pool.parameters.json'),
      '-p',
      `clusterName=${cluster}`,
    );

    expect(sut.stderr).toBe('');
    expect(sut.code).toBe(0);
    expect(sut.stdout).toContain('Validation succeeded.');
    expect(sut.stdout).toContain(`/managedClusters/${cluster}/agentPools/user`);
  });

  it('fails validation with exit 1 and the ARM error code when a parameter breaks its constraint', async () => {
    const sut = await cerulean('validate', '-g', rg, '-f', fixture('cluster-with-pool.json'), '-p', `clusterName=${cluster}`, '-p', 'userCount=9');

    expect(sut.code).toBe(1);
    expect(sut.stdout).toContain('Validation failed.');
    expect(sut.stdout).toMatch(/InvalidTemplate|DeploymentParameterValidationFailed/);
    expect(sut.stdout).toContain('userCount');
  });

  it('deploys with live progress of every resource, prints the outputs and exits 0', async () => {
    const sut = await cerulean(
      'deploy',
      '-g',
      rg,
      '-f',
      fixture('cluster-with-pool.json'),
      '-p',
      fixture('cluster-with-pool.parameters.json'),
      '-p',
      `clusterName=${cluster}`,
    );

    expect(sut.stderr).toBe('');
    expect(sut.code).toBe(0);
    const lines = sut.stdout.split('\n');
    expect(lines[0]).toBe(`Deployment 'cluster-with-pool' accepted in resource group '${rg}' (Incremental).`);
    expect(lines.some((l) => l.includes(`Microsoft.ContainerService/managedClusters/${cluster} `) && /Create\s+Running/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes(`Microsoft.ContainerService/managedClusters/${cluster}/agentPools/user `) && /Create\s+Succeeded/.test(l))).toBe(true);
    expect(sut.stdout).toMatch(/Deployment 'cluster-with-pool' Succeeded after \d+\.\ds\./);
    expect(sut.stdout).toMatch(new RegExp(`fqdn \\(String\\): "${cluster}-dns-[a-z0-9]+\\.hcp\\.eastus\\.`));
    expect((await dockerNodes(cluster)).map((n) => n.name).sort()).toEqual([
      expect.stringMatching(/^aks-sys-\d+-vmss000000$/),
      expect.stringMatching(/^aks-user-\d+-vmss000000$/),
    ]);
  });

  it('what-if of the same template shows every resource unchanged', async () => {
    const sut = await cerulean(
      'what-if',
      '-g',
      rg,
      '-f',
      fixture('cluster-with-pool.json'),
      '-p',
      fixture('cluster-with-pool.parameters.json'),
      '-p',
      `clusterName=${cluster}`,
    );

    expect(sut.code).toBe(0);
    expect(sut.stdout).toContain(`Scope: ${rgPath(rg)}`);
    expect(sut.stdout).toContain(`  = Microsoft.ContainerService/managedClusters/${cluster}`);
    expect(sut.stdout).toContain(`  = Microsoft.ContainerService/managedClusters/${cluster}/agentPools/user`);
    expect(sut.stdout).toMatch(/Resource changes: 2 no change\.$/m);
  });

  it('what-if of another parameter value shows exactly that property change', async () => {
    const sut = await cerulean('what-if', '-g', rg, '-f', fixture('cluster-with-pool.json'), '-p', `clusterName=${cluster}`, '-p', 'userCount=2');

    expect(sut.code).toBe(0);
    expect(sut.stdout).toContain(`  ~ Microsoft.ContainerService/managedClusters/${cluster}/agentPools/user [2026-06-01]\n\n    ~ properties.count: 1 => 2\n`);
    expect(sut.stdout).toMatch(/Resource changes: 1 to modify, 1 no change\.$/m);
  });

  it('exits 1 with the per-resource error when the deployment fails', async () => {
    // What only live state decides fails at deploy time: a pool of a cluster that exists nowhere.
    const sut = await cerulean('deploy', '-g', rg, '-f', fixture('missing-cluster.json'));

    expect(sut.code).toBe(1);
    expect(sut.stdout).toMatch(/pool1\s+\S+\s+Failed/);
    expect(sut.stdout).toContain("Deployment 'missing-cluster' Failed");
    expect(sut.stdout).toContain('DeploymentFailed');
    expect(sut.stdout).toContain('ResourceNotFound');
  });

  it("exits 1 with ARM's preflight error when a resource would be refused (nothing is deployed)", async () => {
    const sut = await cerulean('deploy', '-g', rg, '-f', fixture('bad-version.json'));

    expect(sut.code).toBe(1);
    expect(sut.stderr).toMatch(/Version 1\.0\.0 is not supported/);
    expect((await arm('GET', `${rgPath(rg)}/providers/Microsoft.ContainerService/managedClusters/clibadver?api-version=2026-06-01`)).status).toBe(404);
  });

  it('exits 2 with a usage message when a required flag is missing, and 1 when the group does not exist', async () => {
    const usage = await cerulean('deploy', '-f', fixture('bad-version.json'));
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--resource-group (-g) and --template-file (-f) are required');

    const missing = await cerulean('what-if', '-g', 'no-such-group', '-f', fixture('bad-version.json'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ERROR: (ResourceGroupNotFound)');
  });
});
