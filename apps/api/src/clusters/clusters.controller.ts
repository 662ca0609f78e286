import { ApiVersions, ResourceTypes, decodeSkipToken, toPage, pageSizeOf } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { Body, Controller, Delete, Get, Param, Patch, Put, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ArmApiVersions } from '../common/api-version.guard';
import { Arm, ArmCall } from '../common/arm-request';
import { setOperationHeaders } from '../common/lro-reply';
import { toManagedCluster } from './cluster.mapper';
import { ClustersService } from './clusters.service';
import { ManagedClusterBodyDto, TagsObjectDto } from './dto/managed-cluster.dto';
import { CLUSTERS_ROUTE, CLUSTER_ROUTE, ClusterPath } from './routes';

@Controller()
@ArmApiVersions(ApiVersions.containerService, ResourceTypes.managedClusters)
export class ClustersController {
  constructor(
    private readonly clusters: ClustersService,
    private readonly env: Env,
  ) {}

  @Get('subscriptions/:subscriptionId/providers/Microsoft.ContainerService/managedClusters')
  listBySubscription(@Param('subscriptionId') sub: string, @Arm() call: ArmCall) {
    return this.list(sub, undefined, call);
  }

  @Get(CLUSTERS_ROUTE)
  listByResourceGroup(@Param('subscriptionId') sub: string, @Param('resourceGroupName') rg: string, @Arm() call: ArmCall) {
    return this.list(sub, rg, call);
  }

  @Get(CLUSTER_ROUTE)
  async get(@Param() p: ClusterPath, @Res({ passthrough: true }) reply: FastifyReply) {
    const { rg, cluster, pools } = await this.clusters.get(p.subscriptionId, p.resourceGroupName, p.resourceName);
    reply.header('ETag', cluster.etag);
    return toManagedCluster(cluster, rg.name, pools);
  }

  /** 201 on create, 200 on update; both carry the operation headers and the target state (R6.2). */
  @Put(CLUSTER_ROUTE)
  async put(@Param() p: ClusterPath, @Body() body: ManagedClusterBodyDto, @Arm() call: ArmCall, @Res({ passthrough: true }) reply: FastifyReply) {
    const accepted = await this.clusters.createOrUpdate(p.subscriptionId, p.resourceGroupName, p.resourceName, body, call);
    reply.status(accepted.created ? 201 : 200);
    reply.header('ETag', accepted.cluster.etag);
    setOperationHeaders(reply, call, accepted.operation, this.env.RETRY_AFTER_SECONDS);
    return toManagedCluster(accepted.cluster, accepted.rg.name, accepted.pools);
  }

  @Patch(CLUSTER_ROUTE)
  async updateTags(@Param() p: ClusterPath, @Body() body: TagsObjectDto, @Arm() call: ArmCall, @Res({ passthrough: true }) reply: FastifyReply) {
    const { rg, cluster, pools } = await this.clusters.updateTags(p.subscriptionId, p.resourceGroupName, p.resourceName, body?.tags, call);
    reply.header('ETag', cluster.etag);
    return toManagedCluster(cluster, rg.name, pools);
  }

  /** 202 with the operation headers, or 204 when there is no such cluster (R8.1/R8.2). */
  @Delete(CLUSTER_ROUTE)
  async delete(@Param() p: ClusterPath, @Arm() call: ArmCall, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    const op = await this.clusters.delete(p.subscriptionId, p.resourceGroupName, p.resourceName, call);
    if (!op) {
      reply.status(204);
      return;
    }
    reply.status(202);
    setOperationHeaders(reply, call, op, this.env.RETRY_AFTER_SECONDS);
  }

  private async list(sub: string, rg: string | undefined, call: ArmCall) {
    const offset = decodeSkipToken(call.query.$skipToken);
    const pageSize = pageSizeOf(call.query, this.env.PAGE_SIZE);
    const rows = await this.clusters.list(sub, rg, offset, pageSize + 1);
    return toPage(
      rows.map((r) => toManagedCluster(r.cluster, r.rg.name, r.pools)),
      offset,
      { base: call.baseUrl, path: call.path, query: call.query, pageSize },
    );
  }
}
