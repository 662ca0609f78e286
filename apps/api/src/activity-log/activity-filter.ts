import { ArmError } from '@cerulean/arm';

/** What the activity log's `$filter` may say (the forms Azure Monitor accepts for management events). */
export interface ActivityFilter {
  from: Date;
  to: Date;
  resourceGroupName?: string;
  resourceUri?: string;
  correlationId?: string;
  resourceProvider?: string;
  caller?: string;
  status?: string;
}

const invalid = (detail: string): ArmError =>
  ArmError.badRequest(
    'BadRequest',
    `The $filter is not valid: ${detail}. It must contain eventTimestamp ge '<time>' and may add eventTimestamp le '<time>' and one of resourceGroupName, resourceUri, resourceProvider, correlationId, caller or status eq '<value>', joined with 'and'.`,
  );

/** Azure keeps 90 days of activity. */
const MAX_DAYS = 90;

export function parseActivityFilter(filter: string | undefined, now = new Date()): ActivityFilter {
  if (filter === undefined || filter.trim() === '') throw invalid("'$filter' is required");
  let from: Date | undefined;
  let to: Date | undefined;
  const out: Partial<ActivityFilter> = {};
  for (const clause of filter.trim().split(/\s+and\s+/i)) {
    const m = /^\s*(\w+)\s+(eq|ge|le|gt|lt)\s+'([^']*)'\s*$/i.exec(clause);
    if (!m) throw invalid(`cannot read '${clause}'`);
    const [, field, op, value] = m;
    const f = field.toLowerCase();
    const o = op.toLowerCase();
    if (f === 'eventtimestamp') {
      const t = new Date(value);
      if (Number.isNaN(t.getTime())) throw invalid(`'${value}' is not a date-time`);
      if (o === 'ge' || o === 'gt') from = t;
      else if (o === 'le' || o === 'lt') to = t;
      else throw invalid('eventTimestamp takes ge/le');
      continue;
    }
    if (o !== 'eq') throw invalid(`${field} takes eq`);
    if (f === 'resourcegroupname') out.resourceGroupName = value;
    else if (f === 'resourceuri' || f === 'resourceid') out.resourceUri = value;
    else if (f === 'correlationid') out.correlationId = value;
    else if (f === 'resourceprovider') out.resourceProvider = value;
    else if (f === 'caller') out.caller = value;
    else if (f === 'status') out.status = value;
    else throw invalid(`'${field}' cannot be filtered on`);
  }
  if (!from) throw invalid("it has no eventTimestamp ge '<time>'");
  to ??= now;
  if (to.getTime() < from.getTime()) throw invalid('the time range ends before it starts');
  if (now.getTime() - from.getTime() > MAX_DAYS * 86_400_000) throw invalid(`the start is more than ${MAX_DAYS} days ago`);
  return { ...out, from, to };
}
