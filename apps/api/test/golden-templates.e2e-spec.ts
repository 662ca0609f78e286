import { armGuid, uniqueString } from '@cerulean/templates';
import {
  DeltaLeaf,
  GOLDEN_SUITE,
  GoldenDeployable,
  GoldenError,
  GoldenFunctions,
  goldenParameters,
  goldenTemplate,
} from '../../../libs/templates/test/golden-suite';
import {
  ArmErrorWire,
  createGroup,
  deleteGroup,
  dep,
  DeltaWire,
  DeploymentOperationWire,
  deploymentBody,
  DeploymentWire,
  headerOf,
  waitForDeployment,
  whatIfResult,
  WhatIfWire,
} from '../../../test-support/deployments';
import { AKS_API, arm, clusterPath, dockerNodes, rgPath, startWorker, sub, WorkerProcess } from '../../../test-support/platform';

jest.setTimeout(600_000);

/**
 * The golden template suite against the real platform (Postgres, Redis, Docker, a worker). Each deployable template
 * is deployed once into its own resource group (all groups in parallel); then what-if of the same template and
 * parameters must be NoChange for every resource (the noise figure, summed over the suite, must be 0), one
 * changed parameter must give exactly the expected Modify, and Complete mode without a resource exactly the
 * expected Delete. Error templates are rejected by validate with ARM's exact code and create nothing.
 * The expectations live in libs/templates/test/golden-suite.ts (shared with the pure unit suite).
 */

const RUN = Date.now().toString(36);
const LOCATION = 'eastus';
/** Deployments running at once (the worker runs 8 jobs at a time; each deployment takes one while it waits). */
const DEPLOY_PARALLELISM = 4;

const deploymentPath = (rg: string, name: string) => `${rgPath(rg)}/providers/Microsoft.Resources/deployments/${name}`;
const body = deploymentBody;
const groupOf = (file: string) => `golden-${file.replace(/\.json$/, '')}-${RUN}`;
const stem = (file: string) => file.replace(/\.json$/, '').slice(0, 40);

/** Every leaf of a delta (array elements and nested objects flattened to the properties that change). */
const leaves = (delta: DeltaWire[] = []): DeltaLeaf[] =>
  delta.flatMap((d) =>
    d.children?.length ? leaves(d.children) : [{ path: d.path, propertyChangeType: d.propertyChangeType, before: d.before as never, after: d.after as never }],
  );

/** `cluster` or `cluster/pool` from a resource id (the manifest's keys). */
const shortName = (id: string) => (id.split('/managedClusters/')[1] ?? id).replace('/agentPools/', '/');

/** What-if through the shared 202 + Location helper; the WhatIfOperationResult, or an error naming the status. */
async function whatIf(rg: string, name: string, payload: unknown): Promise<WhatIfWire> {
  const r = await whatIfResult<WhatIfWire>(dep(`${deploymentPath(rg, name)}/whatIf`), payload);
  if (r.status !== 200) throw new Error(`whatIf result answered ${r.status}: ${r.text}`);
  return r.body;
}

const deployables = GOLDEN_SUITE.filter((c): c is GoldenDeployable => c.kind === 'deployable');
const functions = GOLDEN_SUITE.filter((c): c is GoldenFunctions => c.kind === 'functions');
const errors = GOLDEN_SUITE.filter((c): c is GoldenError => c.kind === 'error');
const ERRORS_GROUP = `golden-errors-${RUN}`;

/** Non-NoChange entries of what-if on redeploy, over the whole suite. */
const noise: { file: string; resourceId: string; changeType: string; delta?: DeltaWire[] }[] = [];
let redeployWhatIfs = 0;

describe('golden templates on the platform', () => {
  let worker: WorkerProcess;
  const outcome = new Map<string, { status: string; deployment?: DeploymentWire }>();

  beforeAll(async () => {
    worker = await startWorker();
    const deployed = [...deployables, ...functions];
    await Promise.all([...deployed.map((c) => createGroup(groupOf(c.file), LOCATION)), createGroup(ERRORS_GROUP, LOCATION)]);
    // One deployment per template, DEPLOY_PARALLELISM at a time: a running deployment holds a worker slot while
    // its resources' operations need slots of their own (see the report: as many deployments as slots deadlock).
    const queue = [...deployed];
    const deployNext = async (): Promise<void> => {
      for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
        const rg = groupOf(c.file);
        try {
          const put = await arm('PUT', dep(deploymentPath(rg, stem(c.file))), { body: body(goldenTemplate(c.file), goldenParameters(c.file)) });
          if (put.status !== 201) throw new Error(`PUT answered ${put.status}: ${put.text}`);
          const status = await waitForDeployment(headerOf(put, 'azure-asyncoperation'), 240_000);
          const got = await arm<DeploymentWire>('GET', dep(deploymentPath(rg, stem(c.file))));
          outcome.set(c.file, { status, deployment: got.body });
        } catch (err) {
          outcome.set(c.file, { status: `not deployed: ${(err as Error).message}`, deployment: undefined });
        }
      }
    };
    await Promise.all(Array.from({ length: DEPLOY_PARALLELISM }, deployNext));
  });

  afterAll(async () => {
    await Promise.all([...deployables, ...functions].map((c) => deleteGroup(groupOf(c.file), 120_000).catch(() => undefined)));
    await deleteGroup(ERRORS_GROUP, 120_000).catch(() => undefined);
    await worker?.stop();
  });

  describe.each(deployables.map((c) => [c.file, c] as const))('%s', (_file, c) => {
    const rg = groupOf(c.file);
    const parameters = () => goldenParameters(c.file);
    const clusterGet = (name: string) =>
      arm<{ id: string; properties: { fqdn: string; provisioningState: string } }>('GET', `${clusterPath(rg, name)}?${AKS_API}`);

    it('deploys to Succeeded: its clusters, one Docker node per pool, and its outputs', async () => {
      const { status, deployment } = outcome.get(c.file) ?? { status: 'not run', deployment: undefined };
      expect({ status, error: deployment?.properties.error }).toEqual({ status: 'Succeeded', error: undefined });
      for (const name of c.clusters) {
        expect((await clusterGet(name)).body.properties.provisioningState).toBe('Succeeded');
        expect((await dockerNodes(name)).map((n) => n.pool).sort()).toEqual([...(c.pools[name] ?? [])].sort());
      }
      const outputs = deployment?.properties.outputs ?? {};
      if (c.outputs) expect(outputs).toMatchObject(c.outputs);
      const fqdn = async (name: string) => (await clusterGet(name)).body.properties.fqdn;
      switch (c.file) {
        case 'params-all-types.json':
          // Secure values are never echoed: not in the parameters view, not in the outputs.
          expect(deployment?.properties.parameters['adminPassword']).toEqual({ type: 'SecureString' });
          expect(deployment?.properties.parameters['ssh']).toEqual({ type: 'SecureObject' });
          expect(outputs['password']).toEqual({ type: 'SecureString' });
          break;
        case 'dependson-chain.json': {
          expect(outputs).toEqual({ fqdnA: { type: 'String', value: await fqdn('gchaina') }, fqdnB: { type: 'String', value: await fqdn('gchainb') } });
          // Three waves: each resource's deployment operation starts after the one it depends on has finished.
          const ops: DeploymentOperationWire[] = [];
          for (let next = dep(`${rgPath(rg)}/deployments/${stem(c.file)}/operations`); next;) {
            const page = await arm<{ value: DeploymentOperationWire[]; nextLink?: string }>('GET', next);
            ops.push(...page.body.value);
            next = page.body.nextLink ?? '';
          }
          const span = (name: string) => {
            const o = ops.find((x) => shortName(x.properties.targetResource.id) === name)?.properties;
            const start = Date.parse(o?.timestamp ?? '');
            return { start, end: start + Number(/^PT([\d.]+)S$/.exec(o?.duration ?? '')?.[1]) * 1000 };
          };
          const [a, pool, b] = [span('gchaina'), span('gchaina/user'), span('gchainb')];
          expect(pool.start).toBeGreaterThanOrEqual(a.end - 1);
          expect(b.start).toBeGreaterThanOrEqual(pool.end - 1);
          break;
        }
        case 'outputs-reference.json':
          expect(outputs).toEqual({
            fqdn: { type: 'String', value: await fqdn('gref') },
            state: { type: 'String', value: 'Succeeded' },
            location: { type: 'String', value: LOCATION },
            fullId: { type: 'String', value: (await clusterGet('gref')).body.id },
            poolNames: { type: 'Array', value: ['system'] },
            versionPrefix: { type: 'Bool', value: true },
          });
          break;
        case 'nested-pool.json':
          expect(outputs['userPoolId']).toEqual({ type: 'String', value: `${clusterPath(rg, 'gnest')}/agentPools/user` });
          break;
        case 'outputs-credentials.json':
          expect(outputs).toEqual({
            adminKubeconfigName: { type: 'String', value: 'clusterAdmin' },
            userKubeconfigName: { type: 'String', value: 'clusterUser' },
            adminKubeconfig: { type: 'SecureString' },
          });
          break;
        default:
      }
    });

    it('what-if of the same template and parameters: NoChange for every resource', async () => {
      const sut = await whatIf(rg, 'golden-whatif', body(goldenTemplate(c.file), parameters()));

      expect(sut.status).toBe('Succeeded');
      redeployWhatIfs++;
      const noisy = sut.properties.changes.filter((x) => x.changeType !== 'NoChange');
      noise.push(...noisy.map((x) => ({ file: c.file, ...x })));
      expect(noisy).toEqual([]);
      expect(sut.properties.changes.map((x) => shortName(x.resourceId)).filter((n) => !n.includes('/'))).toEqual(c.clusters);
    });

    it('what-if with one parameter changed: exactly the expected Modify and delta', async () => {
      const sut = await whatIf(rg, 'golden-whatif', body(goldenTemplate(c.file), { ...parameters(), ...c.change.parameters }));

      const modified = sut.properties.changes.filter((x) => x.changeType !== 'NoChange');
      expect(modified.map((x) => x.changeType)).toEqual(Object.keys(c.change.modify).map(() => 'Modify'));
      expect(Object.fromEntries(modified.map((x) => [shortName(x.resourceId), leaves(x.delta)]))).toEqual(c.change.modify);
    });

    it('what-if in Complete mode without a resource: exactly the expected Delete', async () => {
      const template = c.complete.template ? c.complete.template(goldenTemplate(c.file)) : goldenTemplate(c.file);
      const sut = await whatIf(rg, 'golden-whatif', body(template, { ...parameters(), ...(c.complete.parameters ?? {}) }, 'Complete'));

      const changed = sut.properties.changes.filter((x) => x.changeType !== 'NoChange');
      expect(changed.map((x) => [shortName(x.resourceId), x.changeType])).toEqual(c.complete.deletes.map((n) => [n, 'Delete']));
    });
  });

  describe.each(functions.map((c) => [c.file, c] as const))('%s', (_file, c) => {
    const rg = groupOf(c.file);

    it('deploys (no resources) with every output equal to its known value', () => {
      const got = outcome.get(c.file);
      expect(got?.status).toBe('Succeeded');
      expect(got?.deployment?.properties.outputs).toEqual(
        c.outputs({ subscriptionId: sub(), resourceGroup: rg, location: LOCATION, deploymentName: stem(c.file), uniqueString, guid: armGuid }),
      );
    });

    it('keeps the order of the template: outputs in declaration order, exportTemplate as sent', async () => {
      const template = goldenTemplate(c.file);
      expect(Object.keys(outcome.get(c.file)?.deployment?.properties.outputs ?? {})).toEqual(Object.keys(template['outputs'] as object));
      const exported = await arm<{ template: unknown }>('POST', dep(`${deploymentPath(rg, stem(c.file))}/exportTemplate`));
      expect(JSON.stringify(exported.body.template)).toBe(JSON.stringify(template));
    });

    it('what-if of the same template: no changes at all', async () => {
      const sut = await whatIf(rg, 'golden-whatif', body(goldenTemplate(c.file), goldenParameters(c.file)));
      expect(sut.status).toBe('Succeeded');
      redeployWhatIfs++;
      noise.push(...sut.properties.changes.filter((x) => x.changeType !== 'NoChange').map((x) => ({ file: c.file, ...x })));
      expect(sut.properties.changes).toEqual([]);
    });
  });

  describe('error templates', () => {
    it.each(errors.map((c) => [c.file, c] as const))('validate rejects %s with its exact ARM code', async (_file, c) => {
      const sut = await arm<ArmErrorWire>('POST', dep(`${deploymentPath(ERRORS_GROUP, stem(c.file))}/validate`), {
        body: body(goldenTemplate(c.file), goldenParameters(c.file)),
      });

      expect(sut.status).toBe(400);
      expect(sut.body.error.code).toBe(c.code);
      expect(sut.body.error.message).toContain(c.message);
    });

    it.each(errors.map((c) => [c.file, c] as const))('PUT of %s is rejected the same way and creates nothing', async (_file, c) => {
      const sut = await arm<ArmErrorWire>('PUT', dep(deploymentPath(ERRORS_GROUP, stem(c.file))), {
        body: body(goldenTemplate(c.file), goldenParameters(c.file)),
      });

      expect([sut.status, sut.body.error.code]).toEqual([400, c.code]);
      expect((await arm('GET', dep(deploymentPath(ERRORS_GROUP, stem(c.file))))).status).toBe(404);
      const clusters = await arm<{ value: unknown[] }>('GET', `${rgPath(ERRORS_GROUP)}/providers/Microsoft.ContainerService/managedClusters?${AKS_API}`);
      expect(clusters.body.value).toEqual([]);
    });
  });

  it('the what-if noise figure over the suite (non-NoChange entries on redeploy) is 0', () => {
    console.log(
      `golden what-if noise figure: ${noise.length} non-NoChange entries over ${redeployWhatIfs} redeploy what-ifs (${deployables.length + functions.length} templates)`,
      JSON.stringify(noise, null, 1),
    );
    expect(redeployWhatIfs).toBe(deployables.length + functions.length);
    expect(noise).toEqual([]);
  });
});
