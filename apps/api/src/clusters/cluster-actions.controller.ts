import { ApiVersions, ResourceTypes } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ArmApiVersions } from '../common/api-version.guard';
import { Arm, ArmCall } from '../common/arm-request';
import { setOperationHeaders } from '../common/lro-reply';
import { toAgentPool } from './cluster.mapper';
import { ActionResult, ClusterActionsService } from './cluster-actions.service';
import { CLUSTER_ROUTE, ClusterPath, POOL_ROUTE, PoolPath } from './routes';

/** POST actions (R10.4): 202 with the operation headers while there is work, 204 (or 200) when there is none. */
@Controller()
@ArmApiVersions(ApiVersions.containerService, ResourceTypes.managedClusters)
export class ClusterActionsController {
  constructor(
    private readonly actions: ClusterActionsService,
    private readonly env: Env,
  ) {}

  @Post(`${CLUSTER_ROUTE}/stop`)
  @HttpCode(202)
  async stop(@Param() p: ClusterPath, @Arm() call: ArmCall, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    this.accepted(reply, call, await this.actions.stop(p.subscriptionId, p.resourceGroupName, p.resourceName, call));
  }

  @Post(`${CLUSTER_ROUTE}/start`)
  @HttpCode(202)
  async start(@Param() p: ClusterPath, @Arm() call: ArmCall, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    this.accepted(reply, call, await this.actions.start(p.subscriptionId, p.resourceGroupName, p.resourceName, call));
  }

  @Post(`${CLUSTER_ROUTE}/abort`)
  @HttpCode(202)
  async abortCluster(@Param() p: ClusterPath, @Arm() call: ArmCall, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    this.accepted(reply, call, await this.actions.abort(p.subscriptionId, p.resourceGroupName, p.resourceName, undefined, call));
  }

  @Post(`${POOL_ROUTE}/abort`)
  @HttpCode(202)
  async abortPool(@Param() p: PoolPath, @Arm() call: ArmCall, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    this.accepted(reply, call, await this.actions.abort(p.subscriptionId, p.resourceGroupName, p.resourceName, p.agentPoolName, call));
  }

  /** 202 with the AgentPool body while the rolling upgrade runs; 200 without a body when already on the newest image. */
  @Post(`${POOL_ROUTE}/upgradeNodeImageVersion`)
  @HttpCode(202)
  async upgradeNodeImageVersion(@Param() p: PoolPath, @Arm() call: ArmCall, @Res({ passthrough: true }) reply: FastifyReply) {
    const r = await this.actions.upgradeNodeImage(p.subscriptionId, p.resourceGroupName, p.resourceName, p.agentPoolName, call);
    if (!r.operation || !r.pool) {
      reply.status(200);
      return undefined;
    }
    setOperationHeaders(reply, call, r.operation, this.env.RETRY_AFTER_SECONDS);
    return toAgentPool(r.found.cluster, r.found.rg.name, r.pool);
  }

  private accepted(reply: FastifyReply, call: ArmCall, r: ActionResult): void {
    if (!r.operation) {
      reply.status(204);
      return;
    }
    setOperationHeaders(reply, call, r.operation, this.env.RETRY_AFTER_SECONDS);
  }
}
