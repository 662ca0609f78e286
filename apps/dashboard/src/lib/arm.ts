import { currentToken, signOut } from './auth';

export const AKS_API = '2026-06-01';
export const RESOURCES_API = '2022-12-01';

export interface ArmErrorBody {
  code: string;
  message: string;
  target?: string;
  details?: unknown[];
}

export class ArmRequestError extends Error {
  constructor(
    readonly status: number,
    readonly error: ArmErrorBody,
  ) {
    super(`${error.code}: ${error.message}`);
  }
}

export interface ArmAnswer<T> {
  body: T;
  status: number;
  headers: Headers;
  /** Seconds from Retry-After, when the server sent it. */
  retryAfter?: number;
}

/** Counts of conditional reads, for measuring what polling costs (read by the tests through window). */
export const readStats = { ok: 0, notModified: 0, other: 0 };
declare global {
  interface Window {
    __ceruleanReadStats?: typeof readStats;
  }
}
if (typeof window !== 'undefined') window.__ceruleanReadStats = readStats;

const cache = new Map<string, { etag: string; body: unknown }>();

export function withApiVersion(path: string, apiVersion: string, query: Record<string, string | undefined> = {}): string {
  const url = new URL(path, 'https://x');
  if (!url.searchParams.has('api-version')) url.searchParams.set('api-version', apiVersion);
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') url.searchParams.set(k, v);
  return `${url.pathname}${url.search}`;
}

/** The path and query of an absolute URL the API handed out (nextLink, Azure-AsyncOperation): same origin. */
export const relative = (absolute: string): string => {
  const u = new URL(absolute, window.location.origin);
  return `${u.pathname}${u.search}`;
};

function retryAfterOf(headers: Headers): number | undefined {
  const v = headers.get('retry-after');
  const n = v === null ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

async function send(method: string, url: string, body?: unknown, extra: Record<string, string> = {}): Promise<Response> {
  const token = currentToken();
  if (!token) throw new ArmRequestError(401, { code: 'NotSignedIn', message: 'Sign in first.' });
  const headers: Record<string, string> = { authorization: `Bearer ${token.accessToken}`, ...extra };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  if (res.status === 401) {
    signOut();
    window.dispatchEvent(new Event('cerulean:signed-out'));
  }
  return res;
}

async function fail(res: Response): Promise<never> {
  const text = await res.text();
  let error: ArmErrorBody = { code: `HTTP${res.status}`, message: text || res.statusText };
  try {
    const parsed = JSON.parse(text) as { error?: ArmErrorBody };
    if (parsed.error?.code) error = parsed.error;
  } catch {
    // not JSON: keep the text
  }
  throw new ArmRequestError(res.status, error);
}

/** GET with If-None-Match: a 304 answers from the copy kept for that URL. */
export async function armGet<T>(url: string): Promise<ArmAnswer<T>> {
  const cached = cache.get(url);
  const res = await send('GET', url, undefined, cached ? { 'if-none-match': cached.etag } : {});
  if (res.status === 304 && cached) {
    readStats.notModified += 1;
    return { body: cached.body as T, status: 304, headers: res.headers, retryAfter: retryAfterOf(res.headers) };
  }
  if (!res.ok) {
    readStats.other += 1;
    return fail(res);
  }
  readStats.ok += 1;
  const body = (await res.json()) as T;
  const etag = res.headers.get('etag');
  if (etag) cache.set(url, { etag, body });
  else cache.delete(url);
  return { body, status: res.status, headers: res.headers, retryAfter: retryAfterOf(res.headers) };
}

/** Every page of a list (R9.2: follow nextLink until it is absent), or pages until `limit` items are in. */
export async function armList<T>(url: string, limit = Infinity): Promise<{ items: T[]; retryAfter?: number }> {
  const items: T[] = [];
  let next: string | undefined = url;
  let retryAfter: number | undefined;
  while (next && items.length < limit) {
    const page: ArmAnswer<{ value: T[]; nextLink?: string | null }> = await armGet(next);
    items.push(...page.body.value);
    retryAfter ??= page.retryAfter;
    next = page.body.nextLink ? relative(page.body.nextLink) : undefined;
  }
  return { items: items.slice(0, limit), retryAfter };
}

export interface Accepted<T = unknown> {
  status: number;
  body?: T;
  /** Operation status URL (Azure-AsyncOperation), path and query only. */
  operationUrl?: string;
}

/** A write (PUT/POST/DELETE): returns the operation to watch when the platform started one. */
export async function armWrite<T = unknown>(method: 'PUT' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<Accepted<T>> {
  const res = await send(method, url, body);
  if (!res.ok) return fail(res);
  const text = await res.text();
  const op = res.headers.get('azure-asyncoperation');
  return { status: res.status, body: text ? (JSON.parse(text) as T) : undefined, operationUrl: op ? relative(op) : undefined };
}
