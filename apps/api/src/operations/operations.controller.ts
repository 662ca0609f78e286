import { ApiVersions, ArmError, decodeSkipToken, lroUrls, Namespaces, pageSizeOf, resourcesResultUrl, ResourceTypes, toPage } from '@cerulean/arm';
import { LocationCatalog } from '@cerulean/catalog';
import { Env } from '@cerulean/config';
import { OperationEntity, OperationStatus } from '@cerulean/domain';
import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ArmApiVersions } from '../common/api-version.guard';
import { Arm, ArmCall } from '../common/arm-request';
import { operationReadable } from '../authorization/route-actions';
import { parseOperationFilter } from './operation-filter';
import { OperationsService } from './operations.service';

const LOCATION = 'subscriptions/:subscriptionId/providers/Microsoft.ContainerService/locations/:location';

/** The status (Azure-AsyncOperation) and result (Location) URLs of every operation. Reads Postgres only. */
@Controller()
@ArmApiVersions(ApiVersions.containerService, ResourceTypes.operations)
export class OperationsController {
  private readonly locations = new LocationCatalog();

  constructor(
    private readonly operations: OperationsService,
    private readonly env: Env,
  ) {}

  /**
   * Cerulean's operations list (not in the AKS spec): the subscription's operations in one location, newest
   * first, paged (R9.2/R9.3) and filtered by `status`, `kind`, `resourceId`, `startedAfter`, `startedBefore`.
   */
  @Get(`${LOCATION}/operations`)
  async list(@Param('subscriptionId') sub: string, @Param('location') location: string, @Arm() call: ArmCall) {
    const loc = this.locations.find(location);
    if (!loc) {
      throw ArmError.badRequest(
        'LocationNotAvailableForResourceType',
        `The provided location '${location}' is not available for resource type '${ResourceTypes.operations}'.`,
      );
    }
    const filter = parseOperationFilter(call.query);
    const offset = decodeSkipToken(call.query.$skipToken);
    const pageSize = pageSizeOf(call.query, this.env.PAGE_SIZE);
    const rows = await this.operations.list(sub, loc.name, filter, offset, pageSize + 1);
    return toPage(
      rows.map((op) => this.operations.toListItem(op)),
      offset,
      { base: call.baseUrl, path: call.path, query: call.query, pageSize },
    );
  }

  /** Always 200 while the operation exists (R11.1); `operationStatus(es)` are aliases seen in AKS examples (R11.2). */
  @Get([`${LOCATION}/operations/:operationId`, `${LOCATION}/operationStatus/:operationId`, `${LOCATION}/operationStatuses/:operationId`])
  async status(
    @Param('subscriptionId') sub: string,
    @Param('location') location: string,
    @Param('operationId') id: string,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const op = this.visible(req, await this.operations.get(sub, id), location);
    if (op.status === OperationStatus.InProgress) reply.header('Retry-After', String(this.env.RETRY_AFTER_SECONDS));
    return this.operations.toStatus(op);
  }

  @Get(`${LOCATION}/operationresults/:operationId`)
  async result(
    @Param('subscriptionId') sub: string,
    @Param('location') location: string,
    @Param('operationId') id: string,
    @Req() req: FastifyRequest,
    @Arm() call: ArmCall,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const op = this.visible(req, await this.operations.get(sub, id), location);
    if (op.status === OperationStatus.InProgress) {
      const urls = lroUrls(call.baseUrl, op.subscriptionId, Namespaces.ContainerService, op.location, op.id, call.apiVersion);
      return this.inProgress(reply, urls.location);
    }
    return this.ended(reply, op);
  }

  /** Microsoft.Resources-style result URL, used by resource group deletes. */
  @Get('subscriptions/:subscriptionId/operationresults/:operationId')
  @ArmApiVersions(ApiVersions.resources, 'Microsoft.Resources/operationresults')
  async resourcesResult(
    @Param('subscriptionId') sub: string,
    @Param('operationId') id: string,
    @Req() req: FastifyRequest,
    @Arm() call: ArmCall,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const op = this.visible(req, await this.operations.get(sub, id));
    if (op.status === OperationStatus.InProgress) {
      return this.inProgress(reply, resourcesResultUrl(call.baseUrl, op.subscriptionId, op.id, call.apiVersion));
    }
    return this.ended(reply, op);
  }

  /**
   * An operation is answered only at its own location, and only to a caller who may read the resource it acts
   * on (AuthorizationGuard let any member of the subscription ask). Otherwise it is not found: a status URL
   * from another scope tells nothing, not even that the id exists.
   */
  private visible(req: FastifyRequest, op: OperationEntity, location?: string): OperationEntity {
    const canonical = (l: string): string => this.locations.find(l)?.name ?? l.toLowerCase();
    const atLocation = location === undefined || canonical(location) === canonical(op.location);
    if (!atLocation || !req.grants || !operationReadable(req.grants, op.resourceId)) {
      throw ArmError.notFound('ResourceNotFound', `The operation '${op.id}' was not found.`);
    }
    return op;
  }

  private inProgress(reply: FastifyReply, location: string): void {
    reply.status(202).header('Location', location).header('Retry-After', String(this.env.RETRY_AFTER_SECONDS));
  }

  private async ended(reply: FastifyReply, op: OperationEntity): Promise<unknown> {
    const r = await this.operations.result(op);
    if ('error' in r) {
      reply.status(r.status);
      return r.error.toBody();
    }
    reply.status(r.status);
    return r.status === 200 ? r.body : undefined;
  }
}
