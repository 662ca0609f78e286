import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { arm, clusterPath, dockerNodes, RES_API, AKS_API, rgPath, startWorker, state, tokenOf, WorkerProcess } from '../../../test-support/platform';

jest.setTimeout(900_000);

const README = resolve(__dirname, '../../../README.md');
const PRINTED_ENDPOINT = 'B=https://127.0.0.1:8443';

/** The README's curl walkthrough: the first bash block under "### With curl", as printed. */
export function curlWalkthrough(readme: string): string {
  const section = readme.indexOf('### With curl');
  if (section < 0) throw new Error('README.md has no "### With curl" section');
  const block = /```bash\n([\s\S]*?)```/.exec(readme.slice(section));
  if (!block) throw new Error('the "With curl" section has no bash block');
  return block[1] as string;
}

function bash(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((res, rej) => {
    const child = spawn('bash', ['-c', script], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? -1, out }));
  });
}

/**
 * The README walkthrough runs exactly as printed (issue 16), so the README cannot drift from what works: the block is
 * taken from README.md and run by bash in a directory laid out like a checkout (`.data/tls/ca.pem`), with the token
 * the README's previous block obtains. Only the printed endpoint is pointed at the test platform's port.
 */
describe('README walkthrough (curl), as printed', () => {
  let worker: WorkerProcess;
  let dir = '';

  beforeAll(async () => {
    worker = await startWorker();
    dir = mkdtempSync(join(tmpdir(), 'cerulean-readme-'));
    mkdirSync(join(dir, '.data/tls'), { recursive: true });
    copyFileSync(state().caPath, join(dir, '.data/tls/ca.pem'));
  });

  afterAll(async () => {
    await worker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every request succeeds, every operation it waits for succeeds, and it leaves nothing behind', async () => {
    const printed = curlWalkthrough(readFileSync(README, 'utf8'));
    expect(printed).toContain(PRINTED_ENDPOINT);
    const script = printed.replace(PRINTED_ENDPOINT, `B=${state().apiUrl.replace(/\/$/, '')}`);
    const { code, out } = await bash(script, dir, { TOKEN: await tokenOf() });
    console.log(`README walkthrough output:\n${out}`);
    expect(code).toBe(0);

    const statuses = [...out.matchAll(/HTTP\/[\d.]+ (\d{3})/g)].map((m) => m[1]);
    expect(statuses.length).toBeGreaterThanOrEqual(10);
    for (const status of statuses) expect(['200', '201', '202', '204']).toContain(status);
    expect(out).not.toMatch(/"error"\s*:/);
    const operations = [...out.matchAll(/^ {2}operation (\S*)$/gm)].map((m) => m[1]);
    expect(operations.length).toBeGreaterThanOrEqual(6);
    for (const status of operations) expect(status).toBe('Succeeded');
    expect(out).toMatch(/"provisioningState":"Succeeded"/); // the run command's result
    expect(out).toMatch(/aks-nodepool1-\d{8}-vmss000002/); // docker ps while the cluster runs

    expect(existsSync(join(dir, 'kubeconfig'))).toBe(true);
    expect(readFileSync(join(dir, 'kubeconfig'), 'utf8')).toMatch(/apiVersion: v1/);
    expect((await arm('GET', `${clusterPath('demo', 'c1')}?${AKS_API}`)).status).toBe(404);
    expect((await arm('GET', `${rgPath('demo')}?${RES_API}`)).status).toBe(404);
    expect(await dockerNodes('c1')).toEqual([]);
  });
});
