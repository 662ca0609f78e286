/**
 * Which recorded ARM exchanges (apps/api/src/common/traffic-recorder.ts) the oav traffic check validates, and
 * against which saved spec. Pure: validate-traffic.ts does the files and runs oav.
 */

export interface SpecOperation {
  operationId: string;
  method: string;
  template: string;
  pattern: RegExp;
  /** Characters of the path template outside parameters: the most specific template wins. */
  literal: number;
}

export interface SpecFile {
  /** Short name for the summary, e.g. `aks`. */
  key: string;
  path: string;
  apiVersion: string;
  operations: SpecOperation[];
}

export interface RecordedPair {
  liveRequest: { headers: Record<string, string>; method: string; url: string; body?: unknown };
  liveResponse: { statusCode: string; headers: Record<string, string>; body?: unknown };
}

export type Verdict = { kind: 'validate'; spec: SpecFile; operationId: string; sentVersion: string } | { kind: 'skip'; reason: string };

/**
 * The real clients: the Azure SDKs for JavaScript (and Python, under az) and az itself. The other suites (fuzz,
 * protocol, path tricks, validation) send raw HTTP on purpose, often malformed, and are judged by their own tests.
 */
const REAL_CLIENT = /\b(azsdk-js-|azsdk-python-|AZURECLI\/)/i;

export const SKIP = {
  notClient: 'not sent by a real Azure client (raw-HTTP suites: fuzz, protocol, path tricks, validation)',
  noSpec: 'no saved spec for this resource type (resource groups, role assignments, providers, identity, ...)',
  noOperation: 'path or method in no operation of the saved spec (operation status/results URLs are not in the AKS spec)',
  noApiVersion: 'no api-version in the request',
} as const;

/** Every operation of a swagger 2.0 document, with a case-insensitive matcher for its path. */
export function specOperations(swagger: { paths?: Record<string, Record<string, unknown>> }): SpecOperation[] {
  const out: SpecOperation[] = [];
  for (const [template, item] of Object.entries(swagger.paths ?? {})) {
    const source = template
      .split(/(\{[^}]+\})/)
      .map((part) => (part.startsWith('{') ? (part === '{scope}' || part === '{resourceId}' ? '.+' : '[^/]+') : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
      .join('');
    const pattern = new RegExp(`^${source}/?$`, 'i');
    const literal = template.replace(/\{[^}]+\}/g, '').length;
    for (const [method, op] of Object.entries(item)) {
      const operationId = (op as { operationId?: unknown } | undefined)?.operationId;
      if (typeof operationId === 'string') out.push({ operationId, method: method.toUpperCase(), template, pattern, literal });
    }
  }
  return out;
}

/** Which spec a pair is checked against (the one for its provider), or why it is not. */
export function classify(pair: RecordedPair, specs: readonly SpecFile[]): Verdict {
  const userAgent = pair.liveRequest.headers['user-agent'] ?? '';
  if (!REAL_CLIENT.test(userAgent)) return { kind: 'skip', reason: SKIP.notClient };
  const url = new URL(pair.liveRequest.url);
  const path = decodeURIComponent(url.pathname);
  const method = pair.liveRequest.method.toUpperCase();
  let best: { spec: SpecFile; op: SpecOperation } | undefined;
  let anyPath = false;
  for (const spec of specs) {
    for (const op of spec.operations) {
      if (!op.pattern.test(path)) continue;
      anyPath = true;
      if (op.method === method && (!best || op.literal > best.op.literal)) best = { spec, op };
    }
  }
  if (!best) return { kind: 'skip', reason: anyPath || providerOf(path, specs) ? SKIP.noOperation : SKIP.noSpec };
  const sentVersion = url.searchParams.get('api-version');
  if (!sentVersion) return { kind: 'skip', reason: SKIP.noApiVersion };
  return { kind: 'validate', spec: best.spec, operationId: best.op.operationId, sentVersion };
}

/** A path under a provider one of the specs covers (so an unmatched path there is a missing operation, not a missing spec). */
function providerOf(path: string, specs: readonly SpecFile[]): boolean {
  const provider = /\/providers\/([^/]+)/i.exec(path)?.[1]?.toLowerCase();
  return provider !== undefined && specs.some((s) => s.operations.some((o) => o.template.toLowerCase().includes(`/providers/${provider}/`)));
}

/** The pair as oav is given it: at the spec's api-version when the client sent another (see validate-traffic.ts). */
export function atSpecVersion(pair: RecordedPair, apiVersion: string): RecordedPair {
  const url = new URL(pair.liveRequest.url);
  url.searchParams.set('api-version', apiVersion);
  return { ...pair, liveRequest: { ...pair.liveRequest, url: url.toString() } };
}

export interface OavIssue {
  payloadFilePath?: string;
  errors?: { code: string; message: string; issueSource?: string; jsonPathsInPayload?: string[] }[];
  runtimeExceptions?: { code: string; message: string }[];
  operationInfo?: { operationId?: string };
}

/**
 * What counts against the API in one pair's oav issues. A request the spec refuses that the API refused too
 * (4xx) is a test sending bad input on purpose and the API doing its job: listed apart, not an error. Anything
 * about a response, a request the API accepted, and oav's own runtime exceptions are errors.
 */
export function judge(issue: OavIssue, statusCode: number): { errors: string[]; refusedInput: string[] } {
  const describe = (e: NonNullable<OavIssue['errors']>[number]): string =>
    `${e.issueSource ?? ''} ${e.code}: ${e.message}${e.jsonPathsInPayload?.length ? ` at ${e.jsonPathsInPayload.join(', ')}` : ''}`.trim();
  const refused = statusCode >= 400 && statusCode < 500;
  const all = issue.errors ?? [];
  return {
    errors: [
      ...all.filter((e) => !(refused && e.issueSource === 'request')).map(describe),
      ...(issue.runtimeExceptions ?? []).map((e) => `runtime ${e.code}: ${e.message}`),
    ],
    refusedInput: all.filter((e) => refused && e.issueSource === 'request').map(describe),
  };
}
