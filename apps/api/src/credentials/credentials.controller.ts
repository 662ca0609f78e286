import { ApiVersions, ResourceTypes } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ArmApiVersions } from '../common/api-version.guard';
import { Arm, ArmCall } from '../common/arm-request';
import { setOperationHeaders } from '../common/lro-reply';
import { CredentialKind, CredentialsService } from './credentials.service';
import { CLUSTER_ROUTE, ClusterPath } from '../clusters/routes';

/** Credentials are POST actions (R10.3): 200 `{"kubeconfigs":[{"name","value"}]}`; rotation is async (R10.4). */
@Controller()
@ArmApiVersions(ApiVersions.containerService, ResourceTypes.managedClusters)
export class CredentialsController {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly env: Env,
  ) {}

  @Post(`${CLUSTER_ROUTE}/listClusterAdminCredential`)
  @HttpCode(200)
  admin(@Param() p: ClusterPath, @Arm() call: ArmCall) {
    return this.credentials.list(p.subscriptionId, p.resourceGroupName, p.resourceName, CredentialKind.Admin, call.query);
  }

  @Post(`${CLUSTER_ROUTE}/listClusterUserCredential`)
  @HttpCode(200)
  user(@Param() p: ClusterPath, @Arm() call: ArmCall) {
    return this.credentials.list(p.subscriptionId, p.resourceGroupName, p.resourceName, CredentialKind.User, call.query);
  }

  @Post(`${CLUSTER_ROUTE}/listClusterMonitoringUserCredential`)
  @HttpCode(200)
  monitoringUser(@Param() p: ClusterPath, @Arm() call: ArmCall) {
    return this.credentials.list(p.subscriptionId, p.resourceGroupName, p.resourceName, CredentialKind.MonitoringUser, call.query);
  }

  /** 202 with Location + Azure-AsyncOperation + Retry-After; the Location URL ends in 204 (final-state-via: location). */
  @Post(`${CLUSTER_ROUTE}/rotateClusterCertificates`)
  async rotate(@Param() p: ClusterPath, @Arm() call: ArmCall, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    const op = await this.credentials.rotate(p.subscriptionId, p.resourceGroupName, p.resourceName, call);
    reply.status(202);
    setOperationHeaders(reply, call, op, this.env.RETRY_AFTER_SECONDS);
  }
}
