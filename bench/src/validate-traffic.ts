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
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { atSpecVersion, classify, RecordedPair, SpecFile, specOperations } from './traffic';

interface OavIssue {
  payloadFilePath?: string;
  errors?: { code: string; message: string; issueSource?: string; jsonPathsInPayload?: string[] }[];
  runtimeExceptions?: { code: string; message: string }[];
  operationInfo?: { operationId?: string };
}
interface OavTrafficValidator {
  initialize(): Promise<void>;
  validate(): Promise<OavIssue[]>;
}

const specsRoot = (): string => process.env.CERULEAN_AZURE_SPECS ?? '/work/shared/azure-specs/specification';
const SPECS: { key: string; rel: string; apiVersion: string }[] = [
  { key: 'aks', rel: 'containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-10-01/managedClusters.json', apiVersion: '2026-10-01' },
  { key: 'deployments', rel: 'resources/resource-manager/Microsoft.Resources/deployments/stable/2026-09-01/deployments.json', apiVersion: '2026-09-01' },
];

/**
 * The AKS spec has no path for the operation status URL (SOURCES.md): the SDKs poll it on every long-running
 * operation, and ARM's async contract gives its body as common-types' OperationStatusResult. This swagger says
 * just that, so those polls are validated too instead of skipped.
 */
function asyncStatusSpec(dir: string, apiVersion: string): string {
  const types = relative(dir, join(specsRoot(), 'common-types/resource-management/v6/types.json'));
  const location = '/subscriptions/{subscriptionId}/providers/Microsoft.ContainerService/locations/{location}';
  const get = (operationId: string) => ({
    get: {
      operationId,
      parameters: [
        { $ref: `${types}#/parameters/SubscriptionIdParameter` },
        { $ref: `${types}#/parameters/LocationParameter` },
        { name: 'operationId', in: 'path', required: true, type: 'string' },
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
    info: { title: 'ARM async operation status (Microsoft.ContainerService)', version: apiVersion },
    host: 'management.azure.com',
    schemes: ['https'],
    consumes: ['application/json'],
    produces: ['application/json'],
    paths: {
      [`${location}/operations/{operationId}`]: get('OperationStatus_Get'),
      [`${location}/operationStatus/{operationId}`]: get('OperationStatus_GetAlias'),
      [`${location}/operationStatuses/{operationId}`]: get('OperationStatuses_GetAlias'),
    },
  };
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'async-status.json');
  writeFileSync(path, JSON.stringify(swagger, null, 2));
  return path;
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
    load('async-status', asyncStatusSpec(join(stage, 'specs/Microsoft.ContainerService', SPECS[0].apiVersion), SPECS[0].apiVersion), SPECS[0].apiVersion),
  ];
  const files = readdirSync(trafficDir)
    .filter((f) => f.endsWith('.json'))
    .sort();

  const skipped = new Map<string, number>();
  const validated = new Map<string, { exact: number; atSpec: number; sent: Set<string> }>();
  const staged = new Map<string, { spec: SpecFile; files: Map<string, string> }>();
  for (const file of files) {
    const pair = JSON.parse(readFileSync(join(trafficDir, file), 'utf8')) as RecordedPair;
    const verdict = classify(pair, specs);
    if (verdict.kind === 'skip') {
      skipped.set(verdict.reason, (skipped.get(verdict.reason) ?? 0) + 1);
      continue;
    }
    const { spec, operationId, sentVersion } = verdict;
    const exact = sentVersion === spec.apiVersion;
    const count = validated.get(`${spec.key} ${operationId}`) ?? { exact: 0, atSpec: 0, sent: new Set<string>() };
    count[exact ? 'exact' : 'atSpec'] += 1;
    count.sent.add(sentVersion);
    validated.set(`${spec.key} ${operationId}`, count);
    const dir = join(stage, spec.key);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, file), JSON.stringify(exact ? pair : atSpecVersion(pair, spec.apiVersion)));
    const entry = staged.get(spec.key) ?? { spec, files: new Map<string, string>() };
    entry.files.set(join(dir, file), operationId);
    staged.set(spec.key, entry);
  }

  // oav is a devDependency; loaded here so the rest of bench/ builds and runs without it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { TrafficValidator } = require('oav') as { TrafficValidator: new (specPath: string, trafficPath: string) => OavTrafficValidator };
  const issues: OavIssue[] = [];
  for (const { spec } of staged.values()) {
    const validator = new TrafficValidator(spec.path, join(stage, spec.key));
    await validator.initialize();
    issues.push(...(await validator.validate()));
  }

  const total = [...validated.values()].reduce((n, c) => n + c.exact + c.atSpec, 0);
  console.log(`oav validate-traffic: ${files.length} recorded pairs in ${trafficDir}`);
  console.log(`validated ${total} (exact = sent at the spec's api-version; at spec = sent at another, checked at the spec's):`);
  for (const [op, c] of [...validated.entries()].sort()) {
    console.log(`  ${op.padEnd(60)} ${String(c.exact).padStart(5)} exact ${String(c.atSpec).padStart(5)} at spec   sent: ${[...c.sent].sort().join(', ')}`);
  }
  console.log(`skipped ${files.length - total}:`);
  for (const [reason, n] of [...skipped.entries()].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(5)}  ${reason}`);

  let errors = 0;
  for (const issue of issues) {
    const lines = [
      ...(issue.errors ?? []).map(
        (e) => `${e.issueSource ?? ''} ${e.code}: ${e.message}${e.jsonPathsInPayload?.length ? ` at ${e.jsonPathsInPayload.join(', ')}` : ''}`,
      ),
      ...(issue.runtimeExceptions ?? []).map((e) => `runtime ${e.code}: ${e.message}`),
    ];
    if (lines.length === 0) continue;
    errors += lines.length;
    console.log(`ERROR ${issue.operationInfo?.operationId ?? '?'} ${issue.payloadFilePath ?? ''}`);
    for (const line of lines) console.log(`    ${line}`);
  }
  console.log(
    `${errors} error(s) in ${issues.filter((i) => (i.errors?.length ?? 0) + (i.runtimeExceptions?.length ?? 0) > 0).length} pair(s); ${Date.now() - started} ms`,
  );
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
