import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import {
  AKS_API,
  RES_API,
  arm,
  clusterBody,
  clusterPath,
  dockerNodes,
  rgPath,
  startWorker,
  state,
  waitForOperation,
  WorkerProcess,
} from '../../../test-support/platform';

jest.setTimeout(300_000);

const ROOT = resolve(__dirname, '../../..');
const ARTIFACTS = join(ROOT, 'test-artifacts/dashboard');
const UI_TIMEOUT = 90_000;

/**
 * Chromium trusts the run's own TLS certificates, and nothing else extra: the SPKI hashes of the platform's CA
 * and server certificate (Chromium honours the list because playwright gives it its own profile directory).
 */
function spkiHashes(): string {
  const dir = join(state().dir, 'data/tls');
  return ['ca.pem', 'server.pem']
    .map((f) => new X509Certificate(readFileSync(join(dir, f))).publicKey.export({ type: 'spki', format: 'der' }))
    .map((der) => createHash('sha256').update(der).digest('base64'))
    .join(',');
}

/** Poll counts the page keeps (window.__ceruleanReadStats). */
async function readStats(page: Page): Promise<{ ok: number; notModified: number; other: number }> {
  // Browser-side expressions are strings: this file is compiled without the DOM library.
  return JSON.parse(await page.evaluate<string>('JSON.stringify(window.__ceruleanReadStats)')) as { ok: number; notModified: number; other: number };
}

async function measure(page: Page, seconds: number): Promise<{ ok: number; notModified: number; other: number; ratio304: number }> {
  const before = await readStats(page);
  await sleep(seconds * 1000);
  const after = await readStats(page);
  const ok = after.ok - before.ok;
  const notModified = after.notModified - before.notModified;
  const other = after.other - before.other;
  return { ok, notModified, other, ratio304: Math.round((notModified / Math.max(1, ok + notModified)) * 1000) / 1000 };
}

/** The API server port of a cluster, from its admin kubeconfig (a public API call). */
async function apiServerPort(rg: string, name: string): Promise<number> {
  const r = await arm<{ kubeconfigs: { value: string }[] }>('POST', `${clusterPath(rg, name)}/listClusterAdminCredential?${AKS_API}`);
  const yaml = Buffer.from(r.body.kubeconfigs[0].value, 'base64').toString('utf8');
  const m = /server:\s*https:\/\/[^\s:]+:(\d+)/.exec(yaml);
  if (!m) throw new Error(`no server in kubeconfig: ${yaml}`);
  return Number(m[1]);
}

describe('operator dashboard in a real browser', () => {
  const rg = `dash-${process.pid}`;
  const name = 'dash1';
  const clusterId = () => `/subscriptions/${state().subscriptionId}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`;
  let worker: WorkerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let blocker: Server | undefined;
  const figures: Record<string, unknown> = {};
  /** What Chromium reports the page's Content-Security-Policy blocked (the API serves it with a strict one). */
  const cspViolations: string[] = [];
  /**
   * page.goto, made again (up to 3 more times) when Chromium saw the host's network change during the navigation
   * (Docker adding or removing another cluster's bridge): it fails the load with net::ERR_NETWORK_CHANGED, and a user
   * would simply reload. Chromium then commits its error page (chrome-error://chromewebdata/); a navigation started
   * before that page has loaded is interrupted by it, so each try waits for the error page first.
   */
  const goto = async (url: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await page.goto(url);
      } catch (err) {
        const networkChanged = /ERR_NETWORK_CHANGED|interrupted by another navigation to "chrome-error:/.test(String(err));
        if (!networkChanged || attempt === 4) throw err;
        await page.waitForLoadState('load').catch(() => undefined);
        await sleep(250 * attempt);
      }
    }
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    worker = await startWorker();
    expect((await arm('PUT', `${rgPath(rg)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', `--ignore-certificate-errors-spki-list=${spkiHashes()}`],
    });
    // A zone far from UTC, so "local time" is visible in the assertions.
    context = await browser.newContext({ viewport: { width: 1366, height: 768 }, timezoneId: 'Asia/Tokyo', locale: 'en-GB' });
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  });

  afterAll(async () => {
    writeFileSync(join(ARTIFACTS, 'poll-304.json'), JSON.stringify(figures, null, 2));
    blocker?.close();
    await browser?.close();
    const del = await arm('DELETE', `${clusterPath(rg, name)}?${AKS_API}`);
    if (del.status === 202) await waitForOperation(String(del.headers['azure-asyncoperation']), 120_000).catch(() => undefined);
    await worker?.stop();
  });

  it('serves the app without a token and asks the user to sign in', async () => {
    const res = await goto(`${state().apiUrl}/dashboard`);

    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res?.headers()['x-frame-options']).toBe('DENY');
    await expect(page.getByRole('heading', { name: 'Sign in to Cerulean' }).isVisible()).resolves.toBe(true);
    expect(await page.getByLabel('Client secret').count()).toBe(1);
    // Any other path under /dashboard is the same single-page app.
    expect((await goto(`${state().apiUrl}/dashboard/no/such/page`))?.status()).toBe(200);
    await page.getByRole('heading', { name: 'Sign in to Cerulean' }).waitFor();
  });

  it('signs in as a service principal (client credentials at the token endpoint); the token stays in sessionStorage, never in the URL', async () => {
    const { tenantId, clientId, clientSecret } = state().bootstrap;
    await page.getByLabel('Tenant').fill(tenantId);
    await page.getByLabel('Client ID').fill(clientId);
    await page.getByLabel('Client secret').fill(clientSecret);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const stored = await page.evaluate<string>("Object.values(sessionStorage).join(' ')");
    const token = /eyJ[\w-]+\.[\w-]+\.[\w-]+/.exec(stored)?.[0] ?? '';
    expect(token).not.toBe('');
    expect(page.url()).not.toContain(token.slice(0, 20));
    expect(stored).not.toContain(clientSecret);
    await expect(page.getByText(`Signed in as ${clientId}`).isVisible()).resolves.toBe(true);
  });

  it('shows a cluster created through the API and its create operation reaching Succeeded', async () => {
    const put = await arm('PUT', `${clusterPath(rg, name)}?${AKS_API}`, { body: clusterBody([{ name: 'np1', count: 1 }]) });
    expect(put.status).toBe(201);

    await goto(`${state().apiUrl}/dashboard/#/cluster${clusterId()}`);
    await page.getByRole('heading', { name: `Cluster ${name}` }).waitFor();
    const created = page.getByRole('list', { name: 'Operation timeline' }).getByRole('listitem', { name: 'Create or update cluster Succeeded' });
    await created.waitFor({ timeout: UI_TIMEOUT });
    await page.getByLabel('Cluster provisioning state: Succeeded').waitFor({ timeout: UI_TIMEOUT });
    const nodes = page.getByRole('table', { name: 'Nodes of pool np1' }).getByRole('row');
    await expect(nodes.count()).resolves.toBe(2); // header + one node
    await page.screenshot({ path: join(ARTIFACTS, 'cluster.png'), fullPage: true });

    await goto(`${state().apiUrl}/dashboard/#/`);
    const row = page.getByRole('row', { name: `Cluster ${name}` });
    await row.getByLabel('Provisioning state: Succeeded').waitFor({ timeout: UI_TIMEOUT });
    await row.getByRole('cell', { name: '1/1' }).waitFor({ timeout: UI_TIMEOUT });
    await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: true });
  });

  it('costs little to keep open: most polls of an idle cluster are answered 304', async () => {
    const idle = await measure(page, 15);
    figures.idleOverview = idle;
    console.log(`dashboard overview, idle cluster, 15 s: ${JSON.stringify(idle)}`);

    expect(idle.other).toBe(0);
    expect(idle.notModified).toBeGreaterThan(idle.ok);
  });

  it('scales a pool from the UI and lists the new node', async () => {
    await goto(`${state().apiUrl}/dashboard/#/cluster${clusterId()}`);
    await page.getByLabel('Node count for pool np1').fill('3');
    await page.getByRole('button', { name: 'Scale np1' }).click();

    // While the scale runs the page keeps polling: what a busy cluster costs.
    const busy = await measure(page, 6);
    figures.busyClusterPage = busy;
    console.log(`dashboard cluster page, scaling, 6 s: ${JSON.stringify(busy)}`);
    const rows = page.getByRole('table', { name: 'Nodes of pool np1' }).getByRole('row');
    // Polled from here: waitForFunction evaluates its string inside the page, which the dashboard's CSP (no eval) refuses.
    const nodeRows = () => page.evaluate<number>(`document.querySelectorAll('table[aria-label="Nodes of pool np1"] tbody tr').length`);
    for (const deadline = Date.now() + UI_TIMEOUT; (await nodeRows()) !== 3; await sleep(250)) {
      if (Date.now() > deadline) throw new Error(`pool np1 did not list 3 nodes within ${UI_TIMEOUT} ms`);
    }
    await page
      .getByRole('list', { name: 'Operation timeline' })
      .getByRole('listitem', { name: 'Create or update pool Succeeded' })
      .waitFor({ timeout: UI_TIMEOUT });

    expect(await rows.count()).toBe(4);
    expect((await dockerNodes(name)).filter((n) => n.running)).toHaveLength(3);
    const activity = page.getByRole('complementary', { name: 'Activity' });
    await activity
      .getByRole('listitem', { name: 'Scale np1 to 3 operation' })
      .getByLabel('Operation status: Succeeded')
      .waitFor({ timeout: UI_TIMEOUT })
      .catch(async (err: unknown) => {
        throw new Error(`${String(err)}\nActivity panel: ${await activity.innerText().catch(() => '(none)')}`);
      });

    // The same page once the cluster is idle again. Node heartbeats change the machine lists every few seconds.
    const idle = await measure(page, 10);
    figures.idleClusterPage = idle;
    console.log(`dashboard cluster page, idle, 10 s: ${JSON.stringify(idle)}`);
    expect(idle.other).toBe(0);
  });

  it("shows times in the viewer's zone and fits a laptop screen and a wide monitor", async () => {
    const started = await page.locator('.timeline time').first().textContent();
    expect(started).toMatch(/GMT\+9|JST/);

    for (const viewport of [
      { width: 1366, height: 768 },
      { width: 2560, height: 1440 },
    ]) {
      await page.setViewportSize(viewport);
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect({ viewport, overflow }).toEqual({ viewport, overflow: 0 });
    }
    await page.screenshot({ path: join(ARTIFACTS, 'cluster-2560.png') });
    await page.setViewportSize({ width: 1366, height: 768 });
  });

  it('upgrades the cluster to a version its upgrade profile offers', async () => {
    const profile = await arm<{ properties: { controlPlaneProfile: { kubernetesVersion: string; upgrades: { kubernetesVersion: string }[] } } }>(
      'GET',
      `${clusterPath(rg, name)}/upgradeProfiles/default?${AKS_API}`,
    );
    const target = profile.body.properties.controlPlaneProfile.upgrades[0].kubernetesVersion;

    await page.getByRole('combobox', { name: 'Upgrade to' }).selectOption(target);
    await page.getByRole('button', { name: 'Upgrade', exact: true }).click();

    await page
      .getByRole('complementary', { name: 'Activity' })
      .getByRole('listitem', { name: `Upgrade ${name} to ${target} operation` })
      .getByLabel('Operation status: Succeeded')
      .waitFor({ timeout: UI_TIMEOUT });
    await page.getByRole('row', { name: 'Pool np1' }).getByRole('cell', { name: target, exact: true }).waitFor({ timeout: UI_TIMEOUT });
    const cluster = await arm<{ properties: { currentKubernetesVersion: string; agentPoolProfiles: { currentOrchestratorVersion: string }[] } }>(
      'GET',
      `${clusterPath(rg, name)}?${AKS_API}`,
    );
    expect(cluster.body.properties.currentKubernetesVersion).toBe(target);
    expect(cluster.body.properties.agentPoolProfiles[0].currentOrchestratorVersion).toBe(target);
  });

  it('stops the cluster from the UI and shows the power state change', async () => {
    await page.getByRole('button', { name: 'Stop cluster' }).click();

    await page.getByLabel('Cluster power state: Stopped').waitFor({ timeout: UI_TIMEOUT });
    await page.getByRole('list', { name: 'Operation timeline' }).getByRole('listitem', { name: 'Stop cluster Succeeded' }).waitFor({ timeout: UI_TIMEOUT });
    expect((await dockerNodes(name)).filter((n) => n.running)).toEqual([]);
    await page.getByRole('button', { name: 'Start cluster' }).waitFor();
  });

  it('opens a failed operation and reads its ARM error', async () => {
    // A real failure: another process holds the cluster's API server port, and the worker's port range
    // (CERULEAN_API_SERVER_PORTS) holds no other port to move the cluster to, so it cannot start it.
    const port = await apiServerPort(rg, name);
    blocker = createServer();
    await new Promise<void>((res, rej) => blocker!.once('error', rej).listen(port, '127.0.0.1', () => res()));
    await worker.stop();
    worker = await startWorker({ CERULEAN_API_SERVER_PORTS: `${port}-${port}` });

    await page.getByRole('button', { name: 'Start cluster' }).click();
    await page.getByRole('list', { name: 'Operation timeline' }).getByRole('listitem', { name: 'Start cluster Failed' }).waitFor({ timeout: UI_TIMEOUT });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Operations' }).click();
    await page.getByRole('heading', { name: 'Operations' }).waitFor();
    await page.getByRole('combobox', { name: 'Status' }).selectOption('Failed');
    await page.getByRole('combobox', { name: 'Cluster' }).selectOption(clusterId());
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const failed = page.getByRole('table', { name: 'Operations' }).getByRole('row').filter({ hasText: 'Start cluster' });
    await failed.first().waitFor({ timeout: UI_TIMEOUT });
    await expect(page.getByRole('table', { name: 'Operations' }).getByLabel('Status: Succeeded').count()).resolves.toBe(0);
    await failed.first().getByRole('button', { name: 'Show error' }).click();

    const alert = page.getByRole('table', { name: 'Operations' }).getByRole('alert');
    await expect(alert.textContent()).resolves.toMatch(/ApiServerPortsExhausted: No free API server port was found for managed cluster 'dash1'/);
    await alert.getByText('Full ARM error').click();
    const full = JSON.parse((await alert.locator('pre').textContent()) ?? '{}') as { error: { code: string; message: string } };
    expect(full.error.code).toBe('ApiServerPortsExhausted');
    await page.screenshot({ path: join(ARTIFACTS, 'operations.png'), fullPage: true });
  });

  it('deletes the cluster after a confirmation', async () => {
    blocker?.close();
    blocker = undefined;
    await goto(`${state().apiUrl}/dashboard/#/cluster${clusterId()}`);
    await page.getByRole('button', { name: 'Delete cluster' }).click();
    const confirm = page.getByRole('alertdialog', { name: `Delete managed cluster ${name} and all its nodes?` });
    await confirm.getByRole('button', { name: `Yes, delete ${name}` }).click();

    await page
      .getByRole('complementary', { name: 'Activity' })
      .getByRole('listitem', { name: `Delete ${name} operation` })
      .getByLabel('Operation status: Succeeded')
      .waitFor({ timeout: UI_TIMEOUT });
    expect((await arm('GET', `${clusterPath(rg, name)}?${AKS_API}`)).status).toBe(404);
    expect(await dockerNodes(name)).toEqual([]);
  });

  it('ran every page above without breaking its Content-Security-Policy', () => {
    expect(cspViolations).toEqual([]);
  });
});
