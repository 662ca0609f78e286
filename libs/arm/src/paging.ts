import { ArmError } from './arm-error';
import { absoluteUrl } from './public-url';

export interface Page<T> {
  value: T[];
  nextLink?: string;
}

/** Where the next page starts: an opaque offset, base64url so clients treat it as a token. */
export function encodeSkipToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

export function decodeSkipToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'o' in parsed && Number.isSafeInteger(parsed.o) && Number(parsed.o) >= 0) {
      return Number(parsed.o);
    }
  } catch {
    // fall through to the ARM error below
  }
  throw ArmError.badRequest('InvalidSkipToken', `The $skipToken '${token}' is not valid.`, '$skipToken');
}

/** `$top` may ask for a smaller page than the configured size, never a larger one. */
export function pageSizeOf(query: Record<string, string | undefined>, configured: number): number {
  const top = Number(query.$top);
  return Number.isInteger(top) && top > 0 ? Math.min(top, configured) : configured;
}

export interface PageRequest {
  base: string;
  path: string;
  /** The request's query; `api-version` and `$filter` are kept in the nextLink (R9.3). */
  query: Record<string, string | undefined>;
  pageSize: number;
}

/**
 * R9.2/R9.3: one page of `items` (fetched as `pageSize + 1` from offset), with an absolute nextLink that
 * keeps the query, and no nextLink at all on the last page.
 */
export function toPage<T>(items: T[], offset: number, req: PageRequest): Page<T> {
  const page: Page<T> = { value: items.slice(0, req.pageSize) };
  if (items.length > req.pageSize) {
    page.nextLink = absoluteUrl(req.base, req.path, { ...req.query, $skipToken: encodeSkipToken(offset + req.pageSize) });
  }
  return page;
}

/**
 * A list that grows while it is read (the activity log, newest first) cannot page by offset: an entry added
 * between two page reads shifts every later page by one, so a client sees one entry twice and misses another.
 * Such lists page by position instead: the token names the sort key of the last entry returned, and the next
 * page starts strictly after it.
 */
export function encodeKeysetToken(position: readonly string[]): string {
  return Buffer.from(JSON.stringify({ k: position })).toString('base64url');
}

/** The position a keyset token names (`arity` keys), undefined for the first page; a bad token is a 400. */
export function decodeKeysetToken(token: string | undefined, arity: number): string[] | undefined {
  if (token === undefined || token === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    const k = typeof parsed === 'object' && parsed !== null && 'k' in parsed ? parsed.k : undefined;
    if (Array.isArray(k) && k.length === arity && k.every((v) => typeof v === 'string')) return k as string[];
  } catch {
    // fall through to the ARM error below
  }
  throw ArmError.badRequest('InvalidSkipToken', `The $skipToken '${token}' is not valid.`, '$skipToken');
}

/** One page of `items` (fetched as `pageSize + 1` after the position), its nextLink naming the last item's key. */
export function toKeysetPage<T>(items: T[], keyOf: (item: T) => string[], req: PageRequest): Page<T> {
  const page: Page<T> = { value: items.slice(0, req.pageSize) };
  if (items.length > req.pageSize) {
    page.nextLink = absoluteUrl(req.base, req.path, { ...req.query, $skipToken: encodeKeysetToken(keyOf(page.value[page.value.length - 1])) });
  }
  return page;
}
