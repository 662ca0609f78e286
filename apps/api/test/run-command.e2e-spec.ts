import { setTimeout as sleep } from 'node:timers/promises';
import {
  AKS_API,
  RES_API,
  arm,
  ArmResponse,
  clusterBody,
  clusterPath,
  dockerNodes,
  rgPath,
  startWorker,
  state,
  sub,
  testCredential,
  waitForOperation,
  WorkerProcess,
} from '../../../test-support/platform';
import { sdkGenerations } from '../../../test-support/sdk-generations';
import { zipOf } from '../../../test-support/zip';

jest.setTimeout(180_000);

// Short, so the timeout test is quick; every other command here (a pod start included) ends well within it.
const TIMEOUT_SECONDS = 15;

interface CommandResultWire {
  id: string;
  properties: { provisioningState: string; exitCode?: number; startedAt?: string; finishedAt?: string; logs?: string; reason?: string };
}

interface ArmErrorWire {
  error: { code: string; message: string; target?: string };
}

const rg = 'runcmd-rg';
const runCommandUrl = (cluster: string): string => `${clusterPath(rg, cluster)}/runCommand?${AKS_API}`;

/** POSTs runCommand, expects 202 + Location, and follows Location until it answers 200. */
async function runToEnd(cluster: string, body: unknown): Promise<{ location: string; polls: number[]; result: CommandResultWire }> {
  const post = await arm('POST', runCommandUrl(cluster), { body });
  if (post.status !== 202) throw new Error(`runCommand answered ${post.status}: ${post.text}`);
  expect(post.text).toBe('');
  expect(post.headers['retry-after']).toBe('1');
  const location = String(post.headers.location);
  const polls: number[] = [];
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r: ArmResponse<CommandResultWire> = await arm<CommandResultWire>('GET', location);
    polls.push(r.status);
    if (r.status === 200) return { location, polls, result: r.body };
    expect(r.status).toBe(202);
    expect(r.headers.location).toBe(location);
    // The 202 carries the command as it stands (az's poller reads provisioningState from every poll).
    expect(r.body).toMatchObject({ id: location.split('/commandResults/')[1].split('?')[0], properties: { provisioningState: 'Running' } });
    if (Date.now() > deadline) throw new Error(`command still running after 60 s: ${location}`);
    await sleep(100);
  }
}

describe('managedClusters runCommand and commandResults (R10.5)', () => {
  let worker: WorkerProcess;
  let nodeName: string;

  beforeAll(async () => {
    worker = await startWorker({ CERULEAN_RUN_COMMAND_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS) });
    expect((await arm('PUT', `${rgPath(rg)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
    const put = await arm('PUT', `${clusterPath(rg, 'cmd1')}?${AKS_API}`, { body: clusterBody([{ name: 'system', count: 1 }]) });
    expect(put.status).toBe(201);
    expect((await waitForOperation(String(put.headers['azure-asyncoperation']))).status).toBe('Succeeded');
    nodeName = (await dockerNodes('cmd1'))[0].name;
  });

  afterAll(async () => {
    const del = await arm('DELETE', `${rgPath(rg)}?${RES_API}`);
    if (del.status === 202) {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && (await arm('GET', String(del.headers.location))).status === 202) await sleep(200);
    }
    await worker.stop();
  });

  it("runs the command in a pod of the cluster and returns its exit code, output and times in the AKS example's shape", async () => {
    // The sleep keeps the command running long enough for the first poll to see it in progress.
    const sut = await runToEnd('cmd1', { command: 'sleep 1; echo hello; hostname; exit 3', context: '', clusterToken: '' });
    const id = sut.location.split('/commandResults/')[1].split('?')[0];
    expect(sut.polls[0]).toBe(202);
    expect(sut.polls.at(-1)).toBe(200);
    expect(sut.location).toMatch(new RegExp(`/managedClusters/cmd1/commandResults/[0-9a-f]{32}\\?api-version=2026-06-01$`));
    expect(sut.result.id).toBe(sut.location.split('/commandResults/')[1].split('?')[0]);
    const p = sut.result.properties;
    expect(p.provisioningState).toBe('Succeeded');
    expect(p.exitCode).toBe(3);
    // A pod's hostname is its name: command-<id>, in namespace aks-command, as on AKS.
    expect(p.logs).toBe(`hello\ncommand-${id}\n`);
    expect(p.reason).toBeUndefined();
    expect(Date.parse(p.startedAt ?? '')).toBeLessThanOrEqual(Date.parse(p.finishedAt ?? ''));
    expect(Date.parse(p.finishedAt ?? '') - Date.parse(p.startedAt ?? '')).toBeGreaterThanOrEqual(900);

    // The result stays readable, under either spelling of its id.
    const again = await arm<CommandResultWire>('GET', sut.location);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(sut.result);
  });

  // Each generation's poller has its own idea of a POST's final state: both must land on the command result.
  it.each(sdkGenerations)('works with the $label Azure SDK poller (beginRunCommandAndWait follows Location to the result)', async ({ client }) => {
    const aks = client(testCredential, sub(), { endpoint: state().apiUrl, updateIntervalInMs: 200 });
    const sut = await aks.managedClusters.beginRunCommandAndWait(rg, 'cmd1', { command: 'echo from-sdk >&2; exit 0' }, { updateIntervalInMs: 200 });
    expect(sut).toMatchObject({ provisioningState: 'Succeeded', exitCode: 0, logs: 'from-sdk\n' });
    expect(sut.id).toMatch(/^[0-9a-f]{32}$/);
    const again = await aks.managedClusters.getCommandResult(rg, 'cmd1', sut.id ?? '');
    expect(again).toMatchObject({ provisioningState: 'Succeeded', exitCode: 0 });
  });

  it('unpacks the context zip into the working directory of the command', async () => {
    const context = zipOf({ 'script.sh': 'echo from-script\ncat data/input.txt\n', 'data/input.txt': 'payload-42\n' }).toString('base64');
    const sut = await runToEnd('cmd1', { command: 'sh script.sh && ls', context });
    expect(sut.result.properties).toMatchObject({ provisioningState: 'Succeeded', exitCode: 0 });
    expect(sut.result.properties.logs).toBe('from-script\npayload-42\ndata\nscript.sh\n');
  });

  it('has kubectl with the cluster-admin rights of the command pod (in-cluster credentials), and a missing command exits 127', async () => {
    const sut = await runToEnd('cmd1', { command: `kubectl get nodes -o name; kubectl auth can-i '*' '*'; kubectl get pods -n aks-command -o name` });
    const id = sut.location.split('/commandResults/')[1].split('?')[0];
    expect(sut.result.properties).toMatchObject({ provisioningState: 'Succeeded', exitCode: 0 });
    expect(sut.result.properties.logs).toBe(`node/${nodeName}\nyes\npod/command-${id}\n`);

    const missing = await runToEnd('cmd1', { command: 'helm version' });
    expect(missing.result.properties).toMatchObject({ provisioningState: 'Succeeded', exitCode: 127 });
    expect(missing.result.properties.logs).toMatch(/helm: not found/);
  });

  it('kills a command (with its children) that outlives the timeout and reports it failed with a reason', async () => {
    const sut = await runToEnd('cmd1', { command: 'echo started; sleep 300 & sleep 301; echo never' });
    const p = sut.result.properties;
    expect(p.provisioningState).toBe('Failed');
    expect(p.reason).toBe(`The command did not finish within ${TIMEOUT_SECONDS} seconds and was stopped.`);
    expect(p.logs).toBe('started\n');
    expect(p.exitCode).toBeUndefined();
    // Its pod is gone (with every process in it): the next command's pod is the only one.
    const next = await runToEnd('cmd1', { command: 'kubectl get pods -n aks-command -o name' });
    const id = next.location.split('/commandResults/')[1].split('?')[0];
    expect(next.result.properties.logs).toBe(`pod/command-${id}\n`);
  });

  it.each([
    ['no body', undefined, 'command'],
    ['no command', { context: '' }, 'command'],
    ['a blank command', { command: '   ' }, 'command'],
    ['a command that is not a string', { command: 42 }, 'command'],
    ['a context that is not base64', { command: 'ls', context: '%%% not base64 %%%' }, 'context'],
    ['a context that is not a zip', { command: 'ls', context: Buffer.from('plain text').toString('base64') }, 'context'],
  ])('answers %s with 400 InvalidParameter', async (_, body, target) => {
    const sut = await arm<ArmErrorWire>('POST', runCommandUrl('cmd1'), body === undefined ? { headers: { 'content-type': 'application/json' } } : { body });
    expect(sut.status).toBe(400);
    expect(sut.body.error.code).toBe('InvalidParameter');
    expect(sut.body.error.target).toBe(target);
  });

  it('neither blocks nor is blocked by a scale of the cluster (no 409 either way)', async () => {
    const poolUrl = `${clusterPath(rg, 'cmd1')}/agentPools/system?${AKS_API}`;
    const before = await arm('POST', runCommandUrl('cmd1'), { body: { command: 'sleep 1; echo first' } });
    expect(before.status).toBe(202);
    const scale = await arm('PUT', poolUrl, { body: { properties: { count: 2, mode: 'System', vmSize: 'Standard_DS2_v2' } } });
    expect(scale.status).toBe(200);
    const during = await runToEnd('cmd1', { command: 'echo second' });
    expect(during.result.properties).toMatchObject({ provisioningState: 'Succeeded', exitCode: 0, logs: 'second\n' });

    expect((await waitForOperation(String(scale.headers['azure-asyncoperation']))).status).toBe('Succeeded');
    expect(await dockerNodes('cmd1')).toHaveLength(2);
    let first: ArmResponse<CommandResultWire>;
    do {
      await sleep(100);
      first = await arm<CommandResultWire>('GET', String(before.headers.location));
    } while (first.status === 202);
    expect(first.status).toBe(200);
    expect(first.body.properties).toMatchObject({ provisioningState: 'Succeeded', exitCode: 0, logs: 'first\n' });
  });

  it('answers 404 for an unknown command id, a malformed one, and a command of another cluster', async () => {
    const done = await runToEnd('cmd1', { command: 'true' });
    const id = done.result.id;
    const put = await arm('PUT', `${clusterPath(rg, 'cmd2')}?${AKS_API}`, { body: clusterBody([{ name: 'system', count: 1 }]) });
    expect(put.status).toBe(201);

    for (const path of [
      `${clusterPath(rg, 'cmd1')}/commandResults/00000000000000000000000000000000?${AKS_API}`,
      `${clusterPath(rg, 'cmd1')}/commandResults/not-a-command?${AKS_API}`,
      `${clusterPath(rg, 'cmd2')}/commandResults/${id}?${AKS_API}`,
    ]) {
      const sut = await arm<ArmErrorWire>('GET', path);
      expect(sut.status).toBe(404);
      expect(sut.body.error.code).toBe('ResourceNotFound');
    }
    expect((await arm('GET', `${clusterPath(rg, 'nosuchcluster')}/commandResults/${id}?${AKS_API}`)).status).toBe(404);
    expect((await arm('POST', runCommandUrl('nosuchcluster'), { body: { command: 'ls' } })).status).toBe(404);

    // cmd2 is still being created: it has no node to run on yet.
    const early = await arm<ArmErrorWire>('POST', runCommandUrl('cmd2'), { body: { command: 'ls' } });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('OperationNotAllowed');
    await waitForOperation(String(put.headers['azure-asyncoperation']));
  });
});
