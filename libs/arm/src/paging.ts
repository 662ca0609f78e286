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
