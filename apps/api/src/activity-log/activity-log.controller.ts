import { ApiVersions, ArmError, decodeKeysetToken, isGuid, toKeysetPage } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { ArmApiVersions } from '../common/api-version.guard';
import { Arm, ArmCall } from '../common/arm-request';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';
import { parseActivityFilter } from './activity-filter';
import { ActivityLogService, ActivityPosition, ActivityRow } from './activity-log.service';

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'NoContent',
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  412: 'PreconditionFailed',
  429: 'TooManyRequests',
  500: 'InternalServerError',
};
const named = (value: string, localizedValue = value) => ({ value, localizedValue });

/** Azure Monitor's EventData for one activity log entry. */
export function toEventData(r: ActivityRow) {
  const ticks = (BigInt(r.eventTimestamp.getTime()) * 10_000n + 621_355_968_000_000_000n).toString();
  const sub = STATUS_TEXT[r.httpStatus] ?? String(r.httpStatus);
  return {
    authorization: { action: r.operationName, scope: r.resourceId },
    caller: r.caller,
    channels: 'Operation',
    claims: { appid: r.caller, oid: r.principalId, tid: r.tenantId, idtyp: 'app' },
    correlationId: r.correlationId,
    description: '',
    eventDataId: r.id,
    eventName: named('EndRequest', 'End request'),
    category: named('Administrative'),
    eventTimestamp: r.eventTimestamp.toISOString(),
    id: `${r.resourceId}/events/${r.id}/ticks/${ticks}`,
    level: r.status === 'Failed' ? 'Error' : 'Informational',
    operationId: r.operationId ?? r.requestId,
    operationName: named(r.operationName),
    resourceGroupName: r.resourceGroup,
    resourceProviderName: named(r.resourceProvider),
    resourceType: named(r.resourceType),
    resourceId: r.resourceId,
    status: named(r.status),
    subStatus: named(sub, `${sub} (HTTP Status Code: ${r.httpStatus})`),
    submissionTimestamp: r.eventTimestamp.toISOString(),
    subscriptionId: r.subscriptionId,
    tenantId: r.tenantId,
    httpRequest: { clientRequestId: r.clientRequestId, method: r.method },
    properties: {
      statusCode: sub,
      serviceRequestId: r.requestId,
      // The long-running operation this request started, and where it stands now.
      ...(r.operationId ? { operationId: r.operationId, operationStatus: r.operationStatus } : {}),
      ...(r.error ? { statusMessage: JSON.stringify({ error: r.error }) } : {}),
    },
  };
}

/** `GET /subscriptions/{sub}/providers/Microsoft.Insights/eventtypes/management/values` (az monitor activity-log list). */
@Controller()
@ArmApiVersions(ApiVersions.insights, 'Microsoft.Insights/eventtypes')
export class ActivityLogController {
  constructor(
    private readonly activity: ActivityLogService,
    private readonly subscriptions: SubscriptionsService,
    private readonly env: Env,
  ) {}

  @Get('subscriptions/:subscriptionId/providers/Microsoft.Insights/eventtypes/management/values')
  async list(@Param('subscriptionId') subscriptionId: string, @Query('$filter') filter: string | undefined, @Arm() call: ArmCall) {
    const sub = await this.subscriptions.get(subscriptionId);
    return this.page(sub.id, filter, call);
  }

  /** The tenant-level entries: root-scope role assignments and service principal changes (Owner at `/` reads them). */
  @Get('providers/Microsoft.Insights/eventtypes/management/values')
  async listTenant(@Query('$filter') filter: string | undefined, @Arm() call: ArmCall) {
    return this.page(null, filter, call);
  }

  private async page(subscriptionId: string | null, filter: string | undefined, call: ArmCall) {
    const f = parseActivityFilter(filter);
    const token = call.query.$skipToken ?? call.query.$skiptoken;
    const rows = await this.activity.list(subscriptionId, f, positionOf(token), this.env.PAGE_SIZE + 1);
    // Keyset paging: entries written while a client pages (the log grows at the top) never shift later pages.
    const page = toKeysetPage(rows, (r) => [r.eventTimestamp.toISOString(), r.id], {
      base: call.baseUrl,
      path: call.path,
      query: { 'api-version': call.apiVersion, $filter: filter },
      pageSize: this.env.PAGE_SIZE,
    });
    return { ...page, value: page.value.map(toEventData) };
  }
}

/** The entry a `$skipToken` names (the last one of the previous page); a token naming no entry is a 400. */
function positionOf(token: string | undefined): ActivityPosition | undefined {
  const key = decodeKeysetToken(token, 2);
  if (!key) return undefined;
  const eventTimestamp = new Date(key[0]);
  if (Number.isNaN(eventTimestamp.getTime()) || !isGuid(key[1])) {
    throw ArmError.badRequest('InvalidSkipToken', `The $skipToken '${token}' is not valid.`, '$skipToken');
  }
  return { eventTimestamp, id: key[1] };
}
