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

export type Verdict = { kind: 'validate'; spec: SpecFile; operationId: string; sentVersion: string; realClient: boolean } | { kind: 'skip'; reason: string };

/**
 * The real clients: the Azure SDKs for JavaScript (and Python, under az) and az itself. The other suites send raw
 * HTTP (the harness's arm(), fuzz, protocol, path tricks). Counted apart in the summary.
 */
export const REAL_CLIENT = /\b(azsdk-js-|azsdk-python-|AZURECLI\/)/i;

export const SKIP = {
  noSpec: 'no saved spec for this resource type (resource groups, role assignments, providers, identity, ...)',
  noOperation: 'path or method in no operation of the saved specs (mostly operation result URLs: their body is the resource or nothing)',
  noApiVersion: 'no api-version in the request',
  oddPath: 'a path spelled oddly on purpose (doubled or trailing slashes, percent-escapes: the path tricks suite)',
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
  const realClient = REAL_CLIENT.test(pair.liveRequest.headers['user-agent'] ?? '');
  const url = new URL(pair.liveRequest.url);
  // A path oav would read otherwise than the router (doubled or trailing slashes, percent-escapes such as
  // managed%43lusters): oav matches no operation to it. The clients' own names need no escapes.
  if (/\/\/|\/$|%|\\/.test(url.pathname)) return { kind: 'skip', reason: SKIP.oddPath };
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
  return { kind: 'validate', spec: best.spec, operationId: best.op.operationId, sentVersion, realClient };
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

/**
 * The pair with every `$ref` key in its bodies renamed to `$ref (data)`. In a recorded body `$ref` is data: a template's
 * user-defined types (`"$ref": "#/definitions/managedIdentityAllType"`, what Bicep emits). oav resolves it as a
 * reference into the swagger and throws RUNTIME_ERROR, validating nothing of the pair; the spec types those values
 * as plain objects, so the renamed key changes no verdict.
 */
export function withoutPayloadRefs(pair: RecordedPair): RecordedPair {
  const rename = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rename);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k === '$ref' ? '$ref (data)' : k, rename(v)]));
  };
  return {
    liveRequest: { ...pair.liveRequest, ...(pair.liveRequest.body !== undefined ? { body: rename(pair.liveRequest.body) } : {}) },
    liveResponse: { ...pair.liveResponse, ...(pair.liveResponse.body !== undefined ? { body: rename(pair.liveResponse.body) } : {}) },
  };
}

export interface OavIssue {
  payloadFilePath?: string;
  errors?: { code: string; message: string; issueSource?: string; jsonPathsInPayload?: string[] }[];
  runtimeExceptions?: { code: string; message: string }[];
  operationInfo?: { operationId?: string };
}

/**
 * Cerulean's deliberate additions to the spec's shapes (oav refuses properties a response model does not
 * declare). Each is documented where it is made; the issues they cause are printed and counted apart.
 */
export const EXTENSIONS: {
  operationId: RegExp;
  /** Only for requests of this method (the extension is made by method, not by operation). */
  method?: string;
  test: (e: NonNullable<OavIssue['errors']>[number]) => boolean;
  why: string;
}[] = [
  {
    operationId: /^Machines_/,
    test: (e) =>
      e.code === 'OBJECT_ADDITIONAL_PROPERTIES' &&
      (e.jsonPathsInPayload ?? []).length > 0 &&
      e.jsonPathsInPayload!.every((p) => /\.properties\.nodeStatus$/.test(p)),
    why: "properties.nodeStatus: Cerulean's addition to Machine (machine.mapper.ts), read by the dashboard",
  },
  {
    operationId: /./,
    method: 'GET',
    test: (e) => e.code === 'INVALID_RESPONSE_CODE' && /'304'/.test(e.message),
    why: '304 Not Modified: HTTP conditional GET, only to a request whose If-None-Match matches (common/conditional-get.ts)',
  },
];

/**
 * What counts against the API in one pair's oav issues: every response issue (the response is ours, whoever
 * asked) and oav's runtime exceptions, except a documented extension's (`method`: the request's). Request issues are the client's: a
 * raw-HTTP suite's bad input on purpose, or a real client sending what the spec does not say (az 2.91 omits the
 * required properties.mode, which the API takes as Incremental). They are listed apart, not counted.
 */
export function judge(issue: OavIssue, method?: string): { errors: string[]; requestIssues: string[]; extensions: string[] } {
  const describe = (e: NonNullable<OavIssue['errors']>[number]): string =>
    `${e.issueSource ?? ''} ${e.code}: ${e.message}${e.jsonPathsInPayload?.length ? ` at ${e.jsonPathsInPayload.join(', ')}` : ''}`.trim();
  const operationId = issue.operationInfo?.operationId ?? '';
  const extension = (e: NonNullable<OavIssue['errors']>[number]) =>
    EXTENSIONS.find((x) => x.operationId.test(operationId) && (x.method === undefined || x.method === method?.toUpperCase()) && x.test(e));
  const response = (issue.errors ?? []).filter((e) => e.issueSource !== 'request');
  return {
    errors: [...response.filter((e) => !extension(e)).map(describe), ...(issue.runtimeExceptions ?? []).map((e) => `runtime ${e.code}: ${e.message}`)],
    requestIssues: (issue.errors ?? []).filter((e) => e.issueSource === 'request').map(describe),
    extensions: response.flatMap((e) => extension(e)?.why ?? []),
  };
}
