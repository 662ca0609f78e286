import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import {
  ArmErrorWire,
  createGroup,
  deleteGroup,
  dep,
  deploymentBody,
  DeploymentWire,
  headerOf,
  waitForDeployment,
  whatIfResult,
} from '../../../test-support/deployments';
import { arm, ArmResponse, RES_API, rgPath, startWorker, state, WorkerProcess } from '../../../test-support/platform';

jest.setTimeout(240_000);

/**
 * Hostile templates against the real API: ARM's template limits answer with ARM's codes, quickly, while other
 * callers are served; secure parameter values never reach a response, an error, the activity log, a log file or a
 * Postgres row in plaintext; reference()/list*() never reach a host or port outside the platform.
 */

const SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
const template = (parts: Record<string, unknown> = {}) => ({ $schema: SCHEMA, contentVersion: '1.0.0.0', resources: [], ...parts });
const many = (n: number, make: (i: number) => unknown) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, make(i)]));
const cluster = (name: string, extra: Record<string, unknown> = {}) => ({
  type: 'Microsoft.ContainerService/managedClusters',
  apiVersion: '2026-06-01',
  name,
  location: 'eastus',
  properties: { dnsPrefix: name, agentPoolProfiles: [{ name: 'sys', count: 1, vmSize: 'Standard_D2s_v3', mode: 'System' }] },
  ...extra,
});

/**
 * Heavy but within every limit: 800 × 250 property-copy evaluations of string(range()), about a third of the work budget
 * (seconds of CPU; the same at 800 × 800 is the bench's worst case).
 */
const HEAVY_ALLOWED = template({
  variables: { copy: [{ name: 'v', count: 800, input: { copy: [{ name: 'w', count: 250, input: '[length(string(range(0, 5)))]' }] } }] },
  outputs: { n: { type: 'int', value: "[length(variables('v'))]" } },
});

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await run();
  return { value, ms: performance.now() - start };
}

describe('template limits and hostile templates', () => {
  const rg = `lim-${Date.now().toString(36)}`;
  const path = (name: string) => `${rgPath(rg)}/providers/Microsoft.Resources/deployments/${name}`;
  const validate = (name: string, t: unknown, parameters: unknown = {}, headers: Record<string, string> = {}) =>
    arm<ArmErrorWire>('POST', dep(`${path(name)}/validate`), { body: deploymentBody(t, parameters), headers });
  const groupGet = () => arm('GET', `${rgPath(rg)}?${RES_API}`);

  beforeAll(async () => {
    await createGroup(rg);
  });

  afterAll(async () => {
    await deleteGroup(rg).catch(() => undefined);
  });

  describe('ARM limits answer with ARM error codes, quickly', () => {
    const cases: [string, unknown, number, string, RegExp][] = [
      [
        'parameters',
        template({ parameters: many(257, () => ({ type: 'string', defaultValue: 'x' })) }),
        400,
        'InvalidTemplate',
        /The number of template parameters limit exceeded\. Limit: '256' and actual: '257'/,
      ],
      [
        'variables',
        template({ variables: many(257, (i) => i) }),
        400,
        'InvalidTemplate',
        /The number of template variables limit exceeded\. Limit: '256' and actual: '257'/,
      ],
      [
        'outputs',
        template({ outputs: many(65, () => ({ type: 'int', value: 1 })) }),
        400,
        'InvalidTemplate',
        /The number of template outputs limit exceeded\. Limit: '64' and actual: '65'/,
      ],
      [
        'resources',
        template({ resources: [0, 1, 2].map((i) => cluster(`[concat('c${i}-', copyIndex())]`, { copy: { name: `l${i}`, count: 300 } })) }),
        400,
        'InvalidTemplate',
        /The number of template resources limit exceeded\. Limit: '800' and actual: '900'/,
      ],
      [
        'copy count',
        template({ resources: [cluster("[concat('c', copyIndex())]", { copy: { name: 'l', count: 801 } })] }),
        400,
        'InvalidTemplate',
        /has an invalid copy count\. The copy count must be a positive integer value and cannot exceed '800'/,
      ],
      [
        'expression length',
        template({ variables: { v: `[concat('${'a'.repeat(24_576)}')]` } }),
        400,
        'InvalidTemplate',
        /The template language expression length limit exceeded\. Limit: '24576'/,
      ],
      ['padLeft', template({ variables: { v: "[padLeft('a', 500000000)]" } }), 400, 'InvalidTemplate', /exceeds the maximum length limit of 131072 characters/],
      [
        'range in a copy of 300',
        template({ variables: { copy: [{ name: 'v', count: 300, input: '[string(concat(range(0, 10000), range(0, 10000), range(0, 10000)))]' }] } }),
        400,
        'InvalidTemplate',
        /exceeds the maximum (length|size) limit/,
      ],
      [
        'nested copies',
        template({ variables: { copy: [{ name: 'v', count: 800, input: { copy: [{ name: 'w', count: 800, input: '[string(range(0, 500))]' }] } }] } }),
        400,
        'InvalidTemplate',
        /exceed the maximum amount of work|exceeds the maximum size limit|did not finish within the allowed time of '10' seconds/,
      ],
      [
        'expanded size',
        template({ variables: { copy: [{ name: 'v', count: 40, input: "[padLeft('a', 131072, 'b')]" }] } }),
        400,
        'InvalidTemplate',
        /exceeds the size limit of 4 MB after expansion/,
      ],
    ];

    it.each(cases)('%s', async (_label, t, status, code, message) => {
      const { value: r, ms } = await timed(() => validate('limits', t));
      expect(r.status).toBe(status);
      expect(r.body.error.code).toBe(code);
      expect(r.body.error.message).toMatch(message);
      // Generous: the bound is the 10 s evaluation budget (plus the pool's 2 s grace); these stop far earlier.
      expect(ms).toBeLessThan(15_000);
    });

    it('answers a body over 4 MB with 413 RequestContentTooLarge', async () => {
      const r = await arm<ArmErrorWire>('POST', dep(`${path('big')}/validate`), {
        body: deploymentBody(template({ metadata: { pad: 'x'.repeat(4 * 1024 * 1024) } })),
      });
      expect(r.status).toBe(413);
      expect(r.body.error).toEqual({ code: 'RequestContentTooLarge', message: 'The request content size exceeds the maximum size of 4 MB.' });
    });

    it('also refuses a hostile template on PUT and what-if, before anything is stored or queued', async () => {
      const t = template({ variables: { v: "[padLeft('a', 500000000)]" } });
      const put = await arm<ArmErrorWire>('PUT', dep(path('hostile-put')), { body: deploymentBody(t) });
      expect(put.status).toBe(400);
      expect(put.body.error.code).toBe('InvalidTemplate');
      expect((await arm('GET', dep(path('hostile-put')))).status).toBe(404);
      const whatIf = await arm<ArmErrorWire>('POST', dep(`${path('hostile-wi')}/whatIf`), { body: deploymentBody(t) });
      expect(whatIf.status).toBe(400);
      expect(whatIf.body.error.code).toBe('InvalidTemplate');
    });

    it('keeps other requests fast while the heaviest allowed templates are being evaluated', async () => {
      // Baseline GET latency first, then the same GETs while three heavy validations run at once.
      const baseline: number[] = [];
      for (let i = 0; i < 10; i++) {
        baseline.push((await timed(groupGet)).ms);
        await new Promise((res) => setTimeout(res, 100));
      }
      const heavy = [1, 2, 3].map((i) => timed(() => validate(`heavy${i}`, HEAVY_ALLOWED)));
      const during: number[] = [];
      let settled = false;
      const all = Promise.all(heavy).finally(() => {
        settled = true;
      });
      while (!settled) {
        const { value, ms } = await timed(groupGet);
        expect(value.status).toBe(200);
        during.push(ms);
        // Below the read throttle (25 per second).
        await new Promise((res) => setTimeout(res, 100));
      }
      const results = await all;
      for (const { value } of results) expect(value.status).toBe(200);
      const max = Math.max(...during);
      const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] as number;
      console.log(
        `template-limits: 3 heavy validations took ${results.map((r) => r.ms.toFixed(0)).join('/')} ms; ` +
          `GET ${rgPath(rg)} baseline p50 ${p(baseline, 0.5).toFixed(1)} ms, during: n=${during.length} p50 ${p(during, 0.5).toFixed(1)} ms p95 ${p(during, 0.95).toFixed(1)} ms max ${max.toFixed(1)} ms`,
      );
      expect(during.length).toBeGreaterThan(2);
      expect(max).toBeLessThan(1_000);
    });
  });

  describe('reference() and list*() reach platform resources only', () => {
    const redisPort = () => new URL(state().redisUrl).port;

    it.each([
      ['reference(//host:port)', (port: string) => `[reference('//127.0.0.1:${port}/x', '2026-06-01')]`],
      ['listKeys(//host:port)', (port: string) => `[listKeys('//127.0.0.1:${port}/x', '2026-06-01')]`],
      ['reference(https URL)', (port: string) => `[reference('https://127.0.0.1:${port}/subscriptions/x', '2026-06-01')]`],
      ['reference(id with ..)', (port: string) => `[reference(concat('/subscriptions/x/../../', '127.0.0.1:${port}'), '2026-06-01')]`],
    ])('refuses %s as InvalidTemplate on validate and PUT, saying nothing about the port', async (_label, make) => {
      const t = template({ resources: [cluster('refc', { tags: { probe: make(redisPort()) } })] });
      for (const r of [await validate('ssrf', t), await arm<ArmErrorWire>('PUT', dep(path('ssrf')), { body: deploymentBody(t) })]) {
        expect(r.status).toBe(400);
        expect(r.body.error.code).toBe('InvalidTemplate');
        expect(r.text).not.toMatch(/ECONNREFUSED|ECONNRESET|socket|timed? ?out|refused|hang up|TLS|SSL|EPROTO/i);
      }
      expect((await arm('GET', dep(path('ssrf')))).status).toBe(404);
    });
  });

  describe('secure parameter values are never disclosed', () => {
    const SECRET = `S3cure-${Date.now().toString(36)}-Value`;
    const correlation = `00000000-0000-4000-8000-${Date.now().toString(16).padStart(12, '0').slice(-12)}`;
    let db: Client;
    let worker: WorkerProcess | undefined;

    beforeAll(async () => {
      db = new Client({ connectionString: state().databaseUrl });
      await db.connect();
    });

    afterAll(async () => {
      await worker?.stop();
      await db.end();
    });

    /** Every row of the tables a deployment writes to, as text, that contains `needle`. */
    async function rowsContaining(needle: string): Promise<string[]> {
      const hits: string[] = [];
      for (const table of ['deployments', 'deployment_operations', 'operations', 'activity_log', 'what_if_results']) {
        const r = await db.query<{ row: string }>(`SELECT t::text AS row FROM ${table} t WHERE t::text LIKE $1`, [`%${needle}%`]);
        hits.push(...r.rows.map((x) => `${table}: ${x.row.slice(0, 200)}`));
      }
      return hits;
    }

    it('does not echo a secure value that is not allowed, in the response or the activity log', async () => {
      const t = template({ parameters: { pwd: { type: 'securestring', allowedValues: ['one', 'two'] } } });
      const r = await validate('secure-allowed', t, { pwd: { value: SECRET } }, { 'x-ms-correlation-request-id': correlation });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('InvalidTemplate');
      expect(r.body.error.message).toContain("The provided value for the template parameter 'pwd' is not valid.");
      expect(r.text).not.toContain(SECRET);
      // The activity log records the failed action with its error (after the answer is sent).
      let logged: { error: { code: string; message: string } | null }[] = [];
      for (let i = 0; i < 50 && logged.length === 0; i++) {
        logged = (await db.query('SELECT error FROM activity_log WHERE correlation_id = $1', [correlation])).rows;
        if (logged.length === 0) await new Promise((res) => setTimeout(res, 100));
      }
      expect(logged).toHaveLength(1);
      expect(logged[0]?.error?.code).toBe('InvalidTemplate');
      expect(JSON.stringify(logged)).not.toContain(SECRET);
    });

    it('keeps the plan sealed in Postgres while the deployment waits to run, and the failing output withholds the value', async () => {
      const t = template({
        parameters: { pwd: { type: 'securestring' }, bag: { type: 'secureObject' } },
        variables: { derived: "[concat('derived-', parameters('pwd'))]" },
        outputs: {
          asInt: { type: 'int', value: "[int(parameters('pwd'))]" },
          fromVariable: { type: 'object', value: "[json(variables('derived'))]" },
          secret: { type: 'securestring', value: "[parameters('pwd')]" },
        },
      });
      // No worker yet: the deployment stays Accepted with its plan stored.
      const put: ArmResponse<DeploymentWire> = await arm<DeploymentWire>('PUT', dep(path('secure-run')), {
        body: deploymentBody(t, { pwd: { value: SECRET }, bag: { value: { key: SECRET } } }),
      });
      expect(put.status).toBe(201);
      expect(put.text).not.toContain(SECRET);
      const stored = await db.query<{ plan: string; parameters: string }>(
        "SELECT plan::text AS plan, parameters::text AS parameters FROM deployments WHERE name = 'secure-run'",
      );
      expect(stored.rows).toHaveLength(1);
      expect(stored.rows[0]?.plan).toMatch(/^\{"sealed":"v1\./);
      expect(await rowsContaining(SECRET)).toEqual([]);

      worker = await startWorker();
      expect(await waitForDeployment(headerOf(put, 'azure-asyncoperation'))).toBe('Failed');
      const got = await arm<DeploymentWire>('GET', dep(path('secure-run')));
      expect(got.body.properties.error?.code).toBe('DeploymentOutputEvaluationFailed');
      expect(got.text).toContain('The details are withheld because the expression uses a secure value.');
      expect(got.text).not.toContain(SECRET);
      expect(got.body.properties.parameters).toEqual({ pwd: { type: 'SecureString' }, bag: { type: 'SecureObject' } });
      const status = await arm('GET', headerOf(put, 'azure-asyncoperation'));
      expect(status.text).not.toContain(SECRET);
      expect(await rowsContaining(SECRET)).toEqual([]);
      expect(await rowsContaining(Buffer.from(SECRET).toString('base64'))).toEqual([]);
    });

    it('what-if of a template over a secure value does not store or answer the failure detail with it', async () => {
      const t = template({ parameters: { pwd: { type: 'securestring' } }, resources: [cluster("[concat('c', int(parameters('pwd')))]")] });
      const r = await arm<ArmErrorWire>('POST', dep(`${path('secure-wi')}/whatIf`), { body: deploymentBody(t, { pwd: { value: SECRET } }) });
      expect(r.status).toBe(400);
      expect(r.text).not.toContain(SECRET);
      const withSecret = template({
        parameters: { pwd: { type: 'securestring' } },
        resources: [cluster('wicluster', { tags: { token: "[parameters('pwd')]", derived: "[toUpper(parameters('pwd'))]", plain: 'visible' } })],
      });
      const ok = await whatIfResult(dep(`${path('secure-wi2')}/whatIf`), deploymentBody(withSecret, { pwd: { value: SECRET } }));
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('(secure value)');
      expect(ok.text).toContain('visible');
      expect(ok.text).not.toContain(SECRET);
      expect(ok.text).not.toContain(SECRET.toUpperCase());
      expect(await rowsContaining(SECRET)).toEqual([]);
    });

    it('writes no secure value to the API or worker logs', () => {
      const dir = state().dir;
      const logs = readdirSync(dir)
        .filter((f) => f.endsWith('.log'))
        .map((f) => join(dir, f))
        .filter(existsSync);
      expect(logs.length).toBeGreaterThan(0);
      for (const log of logs) expect(readFileSync(log, 'utf8')).not.toContain(SECRET);
    });
  });
});
