/**
 * The oav traffic check: validates the ARM exchanges the integration run recorded (CERULEAN_TRAFFIC_DIR) against
 * the saved real Azure specs with oav's validate-traffic (its TrafficValidator, what `oav validate-traffic` runs),
 * prints what was validated per operation, what was skipped and why, and every error; exits 1 on any error.
 *
 *   node dist/bench/src/validate-traffic.js [traffic dir, default $CERULEAN_IT_DIR/traffic]
 *
 * Api-versions: the saved specs are AKS 2026-10-01 and deployments 2026-09-01, while the clients send others
 * (the JS SDK 25.x 2026-06-01, 24.x and az older ones). A pair sent at another version is validated against the
 * saved spec with its api-version rewritten to the spec's, and counted apart ("at spec version"): the API serves
 * every accepted version with one shape, so the newest spec is the contract it has to meet.
 *
 * Every client's pairs are validated (the responses are the API's, whoever asked); what counts as an error, and
 * what is listed apart (request issues, documented extensions), is traffic.ts's judge().
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { atSpecVersion, classify, judge, OavIssue, RecordedPair, SpecFile, specOperations, withoutPayloadRefs } from './traffic';

interface OavTrafficValidator {
  initialize(): Promise<void>;
  validate(): Promise<OavIssue[]>;
  /** Pairs oav matched to no operation (it only prints them). */
  operationUndefinedResult: number;
}

const specsRoot = (): string => process.env.CERULEAN_AZURE_SPECS ?? '/work/shared/azure-specs/specification';
const SPECS: { key: string; provider: string; rel: string; apiVersion: string }[] = [
  {
    key: 'aks',
    provider: 'Microsoft.ContainerService',
    rel: 'containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-10-01/managedClusters.json',
    apiVersion: '2026-10-01',
  },
  {
    key: 'deployments',
    provider: 'Microsoft.Resources',
    rel: 'resources/resource-manager/Microsoft.Resources/deployments/stable/2026-09-01/deployments.json',
    apiVersion: '2026-09-01',
  },
];

/**
 * The saved specs have no path for the operation status URLs (SOURCES.md) the SDKs poll on every long-running
 * operation: ARM's async contract gives their body as common-types' OperationStatusResult. This swagger says just
 * that, so those polls are validated too instead of skipped. (Operation *result* URLs answer with the resource or
 * nothing, which no schema describes: those stay skipped.)
 */
function asyncStatusSpec(dir: string, provider: string, apiVersion: string, paths: Record<string, string>): string {
  const types = relative(dir, join(specsRoot(), 'common-types/resource-management/v6/types.json'));
  const get = (template: string, operationId: string) => ({
    get: {
      operationId,
      parameters: [
        ...[...template.matchAll(/\{(\w+)\}/g)].map(([, name]) =>
          name === 'subscriptionId' ? { $ref: `${types}#/parameters/SubscriptionIdParameter` } : { name, in: 'path', required: true, type: 'string' },
        ),
        { $ref: `${types}#/parameters/ApiVersionParameter` },
      ],
      responses: {
        '200': { description: 'The status.', schema: { $ref: `${types}#/definitions/OperationStatusResult` } },
        default: { description: 'Error.', schema: { $ref: `${types}#/definitions/ErrorResponse` } },
      },
    },
  });
  const swagger = {
    swagger: '2.0',
    info: { title: `ARM async operation status (${provider})`, version: apiVersion },
    host: 'management.azure.com',
    schemes: ['https'],
    consumes: ['application/json'],
    produces: ['application/json'],
    paths: Object.fromEntries(Object.entries(paths).map(([template, operationId]) => [template, get(template, operationId)])),
  };
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'async-status.json');
  writeFileSync(path, JSON.stringify(swagger, null, 2));
  return path;
}

const AKS_LOCATION = '/subscriptions/{subscriptionId}/providers/Microsoft.ContainerService/locations/{location}';
const STATUS_PATHS: Record<string, Record<string, string>> = {
  'Microsoft.ContainerService': {
    [`${AKS_LOCATION}/operations/{operationId}`]: 'OperationStatus_Get',
    [`${AKS_LOCATION}/operationStatus/{operationId}`]: 'OperationStatus_GetAlias',
    [`${AKS_LOCATION}/operationStatuses/{operationId}`]: 'OperationStatuses_GetAlias',
  },
  'Microsoft.Resources': {
    '/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Resources/deployments/{deploymentName}/operationStatuses/{operationId}':
      'DeploymentOperationStatus_Get',
  },
};

/** The api-versions sent, the well-formed ones by name and the fuzz's others as a count. */
function versions(sent: Set<string>): string {
  const named = [...sent].filter((v) => /^\d{4}-\d{2}-\d{2}(-preview)?$/.test(v)).sort();
  const others = sent.size - named.length;
  return `${named.join(', ')}${others > 0 ? ` (+${others} malformed)` : ''}`;
}

async function main(): Promise<number> {
  const started = Date.now();
  const trafficDir = process.argv[2] ?? join(process.env.CERULEAN_IT_DIR ?? '/tmp/cerulean-it', 'traffic');
  const stage = join(trafficDir, '..', 'traffic-oav');
  rmSync(stage, { recursive: true, force: true });
  const load = (key: string, path: string, apiVersion: string): SpecFile => ({
    key,
    path,
    apiVersion,
    operations: specOperations(JSON.parse(readFileSync(path, 'utf8')) as Parameters<typeof specOperations>[0]),
  });
  const specs: SpecFile[] = [
    ...SPECS.map(({ key, rel, apiVersion }) => load(key, join(specsRoot(), rel), apiVersion)),
    // oav finds an operation's spec file by its path naming the provider and the api-version.
    ...SPECS.map(({ key, provider, apiVersion }) =>
      load(`${key}-status`, asyncStatusSpec(join(stage, 'specs', provider, apiVersion), provider, apiVersion, STATUS_PATHS[provider]), apiVersion),
    ),
  ];
  const files = readdirSync(trafficDir)
    .filter((f) => f.endsWith('.json'))
    .sort();

  const skipped = new Map<string, number>();
  const validated = new Map<string, { exact: number; atSpec: number; real: number; sent: Set<string> }>();
  const staged = new Map<string, { spec: SpecFile; files: Map<string, string> }>();
  const sent = new Map<string, { status: number; realClient: boolean; method: string }>();
  for (const file of files) {
    const pair = JSON.parse(readFileSync(join(trafficDir, file), 'utf8')) as RecordedPair;
    const verdict = classify(pair, specs);
    if (verdict.kind === 'skip') {
      skipped.set(verdict.reason, (skipped.get(verdict.reason) ?? 0) + 1);
      continue;
    }
    const { spec, operationId, sentVersion } = verdict;
    const exact = sentVersion === spec.apiVersion;
    const count = validated.get(`${spec.key} ${operationId}`) ?? { exact: 0, atSpec: 0, real: 0, sent: new Set<string>() };
    count[exact ? 'exact' : 'atSpec'] += 1;
    if (verdict.realClient) count.real += 1;
    count.sent.add(sentVersion);
    validated.set(`${spec.key} ${operationId}`, count);
    const dir = join(stage, spec.key);
    mkdirSync(dir, { recursive: true });
    // Always at one api-version (fuzz repeats it), and ASCII only: oav's JSON reader stops at a raw DEL or C1 control
    // character (fuzzed headers), and with it the validation of every later pair.
    const text = JSON.stringify(atSpecVersion(withoutPayloadRefs(pair), spec.apiVersion)).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    writeFileSync(join(dir, file), text);
    const entry = staged.get(spec.key) ?? { spec, files: new Map<string, string>() };
    entry.files.set(join(dir, file), operationId);
    sent.set(join(dir, file), { status: Number(pair.liveResponse.statusCode), realClient: verdict.realClient, method: pair.liveRequest.method });
    staged.set(spec.key, entry);
  }

  // oav is a devDependency; loaded here so the rest of bench/ builds and runs without it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { TrafficValidator } = require('oav') as { TrafficValidator: new (specPath: string, trafficPath: string) => OavTrafficValidator };
  // Its warnings are about the specs (paths without a provider segment), not the traffic: errors are reported below.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('oav/dist/lib/util/logging') as { log: { consoleLogLevel: string } }).log.consoleLogLevel = 'error';
  const issues: OavIssue[] = [];
  let undefinedOps = 0;
  for (const { spec } of staged.values()) {
    const validator = new TrafficValidator(spec.path, join(stage, spec.key));
    await validator.initialize();
    issues.push(...(await validator.validate()));
    undefinedOps += validator.operationUndefinedResult;
  }

  const total = [...validated.values()].reduce((n, c) => n + c.exact + c.atSpec, 0);
  console.log(`oav validate-traffic: ${files.length} recorded pairs in ${trafficDir}`);
  console.log(
    `validated ${total} (exact: sent at the spec's api-version; at spec: sent at another, checked at the spec's; real: by an Azure SDK or az, the rest by the tests' raw HTTP):`,
  );
  for (const [op, c] of [...validated.entries()].sort()) {
    console.log(
      `  ${op.padEnd(60)} ${String(c.exact).padStart(5)} exact ${String(c.atSpec).padStart(5)} at spec ${String(c.real).padStart(5)} real   sent: ${versions(c.sent)}`,
    );
  }
  console.log(`skipped ${files.length - total}:`);
  for (const [reason, n] of [...skipped.entries()].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(5)}  ${reason}`);

  let errors = 0;
  let failedPairs = 0;
  // Request issues, by who sent them: the real clients' each (few, and worth reading), the raw suites' as counts.
  const clientIssues: string[] = [];
  const rawIssues = new Map<string, number>();
  const extensions = new Map<string, number>();
  for (const issue of issues) {
    const pair = sent.get(issue.payloadFilePath ?? '');
    const verdict = judge(issue, pair?.method);
    const where = `${issue.operationInfo?.operationId ?? '?'} ${pair?.realClient ? 'real client' : 'raw HTTP'} ${pair?.status ?? ''} ${issue.payloadFilePath ?? ''}`;
    if (verdict.requestIssues.length > 0 && pair?.realClient) clientIssues.push(`  ${where}: ${verdict.requestIssues.join('; ').slice(0, 300)}`);
    else if (verdict.requestIssues.length > 0)
      rawIssues.set(issue.operationInfo?.operationId ?? '?', (rawIssues.get(issue.operationInfo?.operationId ?? '?') ?? 0) + 1);
    for (const why of verdict.extensions) extensions.set(why, (extensions.get(why) ?? 0) + 1);
    if (verdict.errors.length === 0) continue;
    errors += verdict.errors.length;
    failedPairs += 1;
    console.log(`ERROR ${where}`);
    for (const line of verdict.errors) console.log(`    ${line}`);
  }
  if (clientIssues.length > 0) {
    console.log(`${clientIssues.length} real-client request(s) the spec does not allow (the client's input, not counted; the API's answers are):`);
    for (const line of clientIssues) console.log(line);
  }
  if (rawIssues.size > 0) {
    const n = [...rawIssues.values()].reduce((a, b) => a + b, 0);
    console.log(`${n} raw-HTTP test request(s) the spec does not allow (bad input on purpose, not counted; the API's answers are), by operation:`);
    console.log(`  ${[...rawIssues.entries()].map(([op, k]) => `${op} ${k}`).join(', ')}`);
  }
  for (const [why, n] of extensions) console.log(`${n} issue(s) from a documented extension, not counted: ${why}`);
  if (undefinedOps > 0) {
    // oav skips a pair it matches to no operation, printing it above; here that is an error, never a silent drop.
    console.log(`ERROR oav matched ${undefinedOps} pair(s) to no operation ("Undefined operation" above)`);
    errors += undefinedOps;
  }
  console.log(`${errors} error(s) in ${failedPairs + undefinedOps} pair(s); ${Date.now() - started} ms`);
  if (total === 0) {
    console.log('no pair was validated: the recording is missing or empty (CERULEAN_TRAFFIC_DIR)');
    return 1;
  }
  return errors > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
