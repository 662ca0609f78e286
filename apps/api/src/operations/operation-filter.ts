import { ArmError } from '@cerulean/arm';
import { OperationKind, OperationStatus } from '@cerulean/domain';

/** What `GET …/locations/{location}/operations` may be narrowed to (all optional, combined with AND). */
export interface OperationFilter {
  statuses?: OperationStatus[];
  kinds?: OperationKind[];
  /** Lower-cased ARM id: the resource itself and everything under it (a cluster's filter includes its pools). */
  resourceIdPrefix?: string;
  startedAfter?: Date;
  startedBefore?: Date;
}

const STATUSES = Object.values(OperationStatus);
const KINDS = Object.values(OperationKind);

function list<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw.split(',').map((v) => {
    const found = allowed.find((a) => a.toLowerCase() === v.trim().toLowerCase());
    if (!found) throw ArmError.invalidParameter(name, `'${v.trim()}' is not a valid ${name}. Valid values are: ${allowed.join(', ')}.`);
    return found;
  });
}

function time(name: string, raw: string | undefined): Date | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const d = new Date(raw);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(raw.trim()) || Number.isNaN(d.getTime())) {
    throw ArmError.invalidParameter(name, `'${raw}' is not an ISO 8601 date-time (for example 2026-11-21T10:00:00Z).`);
  }
  return d;
}

/**
 * Query parameters of the operations list: `status` and `kind` (comma-separated, any casing), `resourceId`
 * (an ARM id; matches it and its children), `startedAfter` and `startedBefore` (ISO 8601). Bad values are 400.
 */
export function parseOperationFilter(query: Record<string, string | undefined>): OperationFilter {
  const filter: OperationFilter = {
    statuses: list('status', query.status, STATUSES),
    kinds: list('kind', query.kind, KINDS),
    startedAfter: time('startedAfter', query.startedAfter),
    startedBefore: time('startedBefore', query.startedBefore),
  };
  const id = query.resourceId?.trim();
  if (id) {
    if (!/^\/subscriptions\//i.test(id))
      throw ArmError.invalidParameter('resourceId', `'${id}' is not an ARM resource id (it must start with /subscriptions/).`);
    filter.resourceIdPrefix = id.replace(/\/+$/, '').toLowerCase();
  }
  if (filter.startedAfter && filter.startedBefore && filter.startedAfter > filter.startedBefore) {
    throw ArmError.invalidParameter('startedAfter', 'startedAfter is later than startedBefore.');
  }
  return filter;
}
