import { ApiVersions, ResourceTypes, decodeSkipToken, toPage, pageSizeOf } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { Body, Controller, Delete, Get, Param, Put, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { toAgentPool } from '../clusters/cluster.mapper';
import { ClusterPath, POOLS_ROUTE, POOL_ROUTE, PoolPath } from '../clusters/routes';
import { ClustersService } from '../clusters/clusters.service';
import { ArmApiVersions } from '../common/api-version.guard';
import { Arm, ArmCall } from '../common/arm-request';
import { setOperationHeaders } from '../common/lro-reply';
import { AgentPoolsService } from './agent-pools.service';
import { AgentPoolBodyDto } from '../clusters/dto/agent-pool-properties.dto';

@Controller()
@ArmApiVersions(ApiVersions.containerService, ResourceTypes.agentPools)
export class AgentPoolsController {
  constructor(
    private readonly pools: AgentPoolsService,
    private readonly clusters: ClustersService,
    private readonly env: Env,
  ) {}

  @Get(POOLS_ROUTE)
  async list(@Param() p: ClusterPath, @Arm() call: ArmCall) {
    const { rg, cluster, pools } = await this.clusters.get(p.subscriptionId, p.resourceGroupName, p.resourceName);
    const offset = decodeSkipToken(call.query.$skipToken);
    const pageSize = pageSizeOf(call.query, this.env.PAGE_SIZE);
    return toPage(
      pools.slice(offset, offset + pageSize + 1).map((pool) => toAgentPool(cluster, rg.name, pool)),
      offset,
      {
        base: call.baseUrl,
        path: call.path,
        query: call.query,
        pageSize,
      },
    );
  }

  @Get(POOL_ROUTE)
  async get(@Param() p: PoolPath, @Res({ passthrough: true }) reply: FastifyReply) {
    const { rg, cluster, pool } = await this.pools.get(p.subscriptionId, p.resourceGroupName, p.resourceName, p.agentPoolName);
    reply.header('ETag', pool.etag);
    return toAgentPool(cluster, rg.name, pool);
  }

  @Put(POOL_ROUTE)
  async put(@Param() p: PoolPath, @Body() body: AgentPoolBodyDto, @Arm() call: ArmCall, @Res({ passthrough: true }) reply: FastifyReply) {
    const r = await this.pools.createOrUpdate(p.subscriptionId, p.resourceGroupName, p.resourceName, p.agentPoolName, body ?? {}, call);
    reply.status(r.created ? 201 : 200);
    reply.header('ETag', r.pool.etag);
    setOperationHeaders(reply, call, r.operation, this.env.RETRY_AFTER_SECONDS);
    return toAgentPool(r.cluster, r.rg.name, r.pool);
  }

  @Delete(POOL_ROUTE)
  async delete(@Param() p: PoolPath, @Arm() call: ArmCall, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    const op = await this.pools.delete(p.subscriptionId, p.resourceGroupName, p.resourceName, p.agentPoolName, call);
    if (!op) {
      reply.status(204);
      return;
    }
    reply.status(202);
    setOperationHeaders(reply, call, op, this.env.RETRY_AFTER_SECONDS);
  }
}
