import { ArmError, assertSubscriptionId, locationScopedId, Namespaces, OperationStatusBody, isGuid } from '@cerulean/arm';
import { EntityColumns, OperationEntity, OperationKind, OperationStatus, PreparedQuery } from '@cerulean/domain';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { OperationFilter } from './operation-filter';
import { OperationResult, OperationResults } from './operation-results';

export type { OperationResult } from './operation-results';

/**
 * `resourceId` is OperationStatusResult's own field (common-types); `kind` (the operation's kind, e.g.
 * `cluster.put`) and `createdBy` (who started it) are Cerulean's additions.
 */
export interface OperationListItem extends OperationStatusBody {
  resourceId: string;
  kind: OperationKind;
  createdBy?: string;
}

@Injectable()
export class OperationsService {
  /** The hot path of every poller: one prepared query, hydrated with TypeORM's conversions. */
  private readonly operation: EntityColumns<OperationEntity>;
  private readonly getQuery: PreparedQuery;

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly results: OperationResults,
  ) {
    this.operation = new EntityColumns(db.connection, OperationEntity, 'o');
    this.getQuery = new PreparedQuery(`SELECT ${this.operation.select} FROM operations o WHERE o.id = $1 AND o.subscription_id = $2`);
  }

  /** Unknown ids are a caller error: 404 ResourceNotFound, not a failed operation (R11.6). */
  async get(subscriptionId: string, operationId: string): Promise<OperationEntity> {
    assertSubscriptionId(subscriptionId);
    const rows = isGuid(operationId) ? await this.getQuery.rows(this.db, [operationId.toLowerCase(), subscriptionId.toLowerCase()]) : [];
    const op = rows[0] ? this.operation.hydrate(rows[0]) : undefined;
    if (!op) throw ArmError.notFound('ResourceNotFound', `The operation '${operationId}' was not found.`);
    return op;
  }

  /** One page (`limit` rows from `offset`) of a subscription's operations in one location, newest first. */
  async list(subscriptionId: string, location: string, filter: OperationFilter, offset: number, limit: number): Promise<OperationEntity[]> {
    assertSubscriptionId(subscriptionId);
    const q = this.db
      .createQueryBuilder(OperationEntity, 'o')
      .where('o.subscription_id = :sub', { sub: subscriptionId.toLowerCase() })
      .andWhere('o.location = :location', { location });
    if (filter.statuses) q.andWhere('o.status IN (:...statuses)', { statuses: filter.statuses });
    if (filter.kinds) q.andWhere('o.kind IN (:...kinds)', { kinds: filter.kinds });
    if (filter.resourceIdPrefix) {
      const escaped = filter.resourceIdPrefix.replace(/[\\%_]/g, (c) => `\\${c}`);
      q.andWhere("(lower(o.resource_id) = :rid OR lower(o.resource_id) LIKE :under ESCAPE '\\')", { rid: filter.resourceIdPrefix, under: `${escaped}/%` });
    }
    if (filter.startedAfter) q.andWhere('o.start_time >= :after', { after: filter.startedAfter });
    if (filter.startedBefore) q.andWhere('o.start_time <= :before', { before: filter.startedBefore });
    return q.orderBy('o.start_time', 'DESC').addOrderBy('o.id', 'ASC').offset(offset).limit(limit).getMany();
  }

  /** An operations list item: the status body plus what a list reader needs to tell operations apart. */
  toListItem(op: OperationEntity): OperationListItem {
    return { ...this.toStatus(op), resourceId: op.resourceId, kind: op.kind, ...(op.createdBy ? { createdBy: op.createdBy } : {}) };
  }

  toStatus(op: OperationEntity): OperationStatusBody {
    const body: OperationStatusBody = {
      id: locationScopedId(op.subscriptionId, Namespaces.ContainerService, op.location, 'operations', op.id),
      name: op.id,
      status: op.status,
      startTime: op.startTime.toISOString(),
      percentComplete: op.percentComplete,
    };
    if (op.endTime) body.endTime = op.endTime.toISOString();
    if (op.error) body.error = op.error;
    return body;
  }

  /** The response the synchronous call would have given, for an ended operation. */
  async result(op: OperationEntity): Promise<OperationResult> {
    if (op.status === OperationStatus.Failed || op.status === OperationStatus.Canceled) {
      const e = op.error ?? { code: 'InternalServerError', message: 'The operation failed.' };
      // A canceled operation, and an abort whose target finished first, answer 409 (R12.2).
      const conflict = op.status === OperationStatus.Canceled || (op.kind === OperationKind.ClusterAbort && e.code === 'OperationNotAllowed');
      const status = conflict ? 409 : e.code === 'InternalServerError' ? 500 : 400;
      return { status, error: new ArmError(status, e.code, e.message, e.target) };
    }
    // Clusters and pools, deployments and what-if, command results: the owning feature reads the resource.
    const read = this.results.readerFor(op.kind);
    if (read) return read(op);
    switch (op.kind) {
      case OperationKind.ResourceGroupDelete:
        return { status: 200 };
      case OperationKind.ClusterDelete:
      case OperationKind.AgentPoolDelete:
      case OperationKind.ClusterStart:
      case OperationKind.ClusterStop:
      case OperationKind.ClusterAbort:
      case OperationKind.ClusterRotateCertificates:
      case OperationKind.AgentPoolDeleteMachines:
        return { status: 204 };
      default:
        throw new Error(`no result reader is registered for operations of kind ${op.kind}`);
    }
  }
}
