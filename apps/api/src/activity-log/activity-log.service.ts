import { ArmRequestContext, isGuid } from '@cerulean/arm';
import { ActivityLogEntity, EntityColumns } from '@cerulean/domain';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectEntityManager } from '@nestjs/typeorm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { servedPath } from '../common/served-route';
import { ActivityFilter } from './activity-filter';

declare module 'fastify' {
  interface FastifyRequest {
    activityError?: { code: string; message: string };
  }
}

const OPERATION_IN_URL = /\/(?:operations|operationresults|operationStatuses|operationStatus)\/([0-9a-f-]{36})(?:\?|$)/i;

/** `Namespace/type[/childType]` of a resource id (the last provider's chain), or Microsoft.Resources' own types. */
export function resourceTypeOf(id: string): string | undefined {
  const segs = id.split('/').filter((x) => x !== '');
  const p = segs.map((x) => x.toLowerCase()).lastIndexOf('providers');
  if (p === -1)
    return segs.length >= 4 ? 'Microsoft.Resources/subscriptions/resourceGroups' : segs.length >= 2 ? 'Microsoft.Resources/subscriptions' : undefined;
  const rest = segs.slice(p + 2);
  if (rest.length < 2) return undefined;
  return [segs[p + 1], ...rest.filter((_, i) => i % 2 === 0)].join('/');
}

/** Where a page of the log ends: the sort key of its last entry. */
export interface ActivityPosition {
  eventTimestamp: Date;
  id: string;
}

export interface ActivityRow extends ActivityLogEntity {
  operationStatus: string | null;
}

/**
 * The activity log: every authenticated write, delete and action on a subscription's resources is recorded
 * when its answer has been sent (who, what, scope, status, correlation id, time, the operation it started),
 * and listed with Azure Monitor's filters. Recording never delays or fails the request it records.
 */
@Injectable()
export class ActivityLogService implements OnApplicationBootstrap {
  private readonly logger = new Logger('ActivityLog');
  private readonly columns: EntityColumns<ActivityLogEntity>;

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.columns = new EntityColumns(db.connection, ActivityLogEntity, 'a');
  }

  onApplicationBootstrap(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onSend', async (req, reply, payload) => {
      if (reply.statusCode >= 400 && req.principal && typeof payload === 'string') {
        try {
          const e = (JSON.parse(payload) as { error?: { code?: unknown; message?: unknown } }).error;
          if (e && typeof e.code === 'string') req.activityError = { code: e.code, message: String(e.message ?? '') };
        } catch {
          // not JSON: nothing to keep
        }
      }
      return payload;
    });
    fastify.addHook('onResponse', async (req, reply) => {
      try {
        const entry = this.entryFor(req, reply);
        if (entry) await this.db.insert(ActivityLogEntity, entry);
      } catch (err) {
        this.logger.error(`could not record ${req.method} ${req.url}: ${(err as Error).message}`);
      }
    });
  }

  private entryFor(req: FastifyRequest, reply: FastifyReply): ActivityLogEntity | undefined {
    const method = req.method.toUpperCase();
    if (!req.principal || method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return undefined;
    // What was authorized, as the guard decided it from the served route (never re-read from the raw URL).
    const rule = req.authorized;
    if (!rule) return undefined;
    const m = /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+))?/i.exec(rule.scope);
    // A tenant-level write (root scope: role assignments there, service principals) is recorded on the path it
    // wrote; a subscription's resources on the scope they were authorized over.
    const tenantLevel = rule.scope === '/';
    if (!tenantLevel && (!m || !isGuid(m[1]))) return undefined;
    const resourceId = tenantLevel ? (servedPath(req) ?? '/') : rule.scope;
    const asyncUrl = String(reply.getHeader('azure-asyncoperation') ?? reply.getHeader('location') ?? '');
    const operationId = OPERATION_IN_URL.exec(asyncUrl)?.[1] ?? null;
    const status =
      reply.statusCode >= 400
        ? 'Failed'
        : operationId && (reply.statusCode === 201 || reply.statusCode === 202 || reply.statusCode === 200)
          ? 'Accepted'
          : 'Succeeded';
    const [provider, ...typeParts] = rule.action.split('/');
    const arm = req.arm as ArmRequestContext | undefined;
    return {
      id: randomUUID(),
      subscriptionId: m ? m[1].toLowerCase() : null,
      resourceGroup: m?.[2] ?? null,
      resourceId,
      resourceIdKey: resourceId.toLowerCase(),
      resourceProvider: provider,
      resourceType: (tenantLevel ? undefined : resourceTypeOf(rule.scope)) ?? [provider, ...typeParts.slice(0, -1)].join('/'),
      operationName: rule.action,
      method,
      status,
      httpStatus: reply.statusCode,
      correlationId: arm?.correlationId ?? '',
      requestId: arm?.requestId ?? '',
      clientRequestId: arm?.clientRequestId ?? null,
      caller: req.principal.appId,
      principalId: req.principal.objectId,
      tenantId: req.principal.tenantId,
      operationId,
      error: req.activityError ?? null,
      eventTimestamp: new Date(),
    };
  }

  /**
   * One subscription's entries, or (null) the tenant-level ones, newest first (timestamp, then id), starting
   * strictly after `after` (the last entry of the previous page); the started operation's current status comes along.
   */
  async list(subscriptionId: string | null, f: ActivityFilter, after: ActivityPosition | undefined, limit: number): Promise<ActivityRow[]> {
    const where: string[] = ['a.event_timestamp >= $1', 'a.event_timestamp <= $2'];
    const params: unknown[] = [f.from, f.to];
    if (subscriptionId === null) where.push('a.subscription_id IS NULL');
    else {
      params.push(subscriptionId.toLowerCase());
      where.push(`a.subscription_id = $${params.length}`);
    }
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.resourceGroupName) add('lower(a.resource_group) = lower(?)', f.resourceGroupName);
    if (f.resourceUri) {
      const key = f.resourceUri.replace(/\/+$/, '').toLowerCase();
      params.push(key, `${key}/%`);
      where.push(`(a.resource_id_key = $${params.length - 1} OR a.resource_id_key LIKE $${params.length})`);
    }
    if (f.correlationId) add('a.correlation_id = ?', f.correlationId);
    if (f.resourceProvider) add('lower(a.resource_provider) = lower(?)', f.resourceProvider);
    if (f.caller) add('lower(a.caller) = lower(?)', f.caller);
    if (f.status) add('lower(a.status) = lower(?)', f.status);
    if (after) {
      params.push(after.eventTimestamp, after.id);
      where.push(`(a.event_timestamp < $${params.length - 1} OR (a.event_timestamp = $${params.length - 1} AND a.id > $${params.length}))`);
    }
    params.push(limit);
    const rows = (await this.db.query(
      `SELECT ${this.columns.select}, o.status AS operation_status FROM activity_log a LEFT JOIN operations o ON o.id = a.operation_id
        WHERE ${where.join(' AND ')} ORDER BY a.event_timestamp DESC, a.id LIMIT $${params.length}`,
      params,
    )) as Record<string, unknown>[];
    return rows.flatMap((r) => {
      const entry = this.columns.hydrate(r);
      return entry ? [{ ...entry, operationStatus: r.operation_status as string | null }] : [];
    });
  }
}
