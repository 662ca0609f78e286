import { absoluteUrl, ArmError, decodeSkipToken, toPage, pageSizeOf, resourcesResultUrl } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { isDeploymentKind } from '@cerulean/domain';
import { Body, Controller, Delete, Get, Head, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Arm, ArmCall } from '../common/arm-request';
import { OperationsService } from '../operations/operations.service';
import { deploymentId, toDeployment, toDeploymentOperation } from './deployment.mapper';
import { DeploymentScope, deploymentNotFound, DeploymentsService } from './deployments.service';

const GROUP = 'subscriptions/:subscriptionId/resourceGroups/:resourceGroupName';
const SUBSCRIPTION = 'subscriptions/:subscriptionId';
/** Each route at resource group and at subscription scope. */
const DEPLOYMENTS = [`${GROUP}/providers/Microsoft.Resources/deployments`, `${SUBSCRIPTION}/providers/Microsoft.Resources/deployments`];
const DEPLOYMENT = DEPLOYMENTS.map((d) => `${d}/:deploymentName`);
const under = (suffix: string): string[] => DEPLOYMENT.map((d) => `${d}/${suffix}`);
// DeploymentOperations have no `providers` segment at group scope (arm-contract R1.1); at subscription scope they do.
const DEPLOYMENT_OPERATIONS = [
  `${GROUP}/deployments/:deploymentName/operations`,
  `${SUBSCRIPTION}/providers/Microsoft.Resources/deployments/:deploymentName/operations`,
];

interface DeploymentPath {
  subscriptionId: string;
  /** Absent at subscription scope. */
  resourceGroupName?: string;
  deploymentName: string;
}

const scopeOf = (p: Pick<DeploymentPath, 'subscriptionId' | 'resourceGroupName'>): DeploymentScope =>
  p.resourceGroupName === undefined ? { subscriptionId: p.subscriptionId } : { subscriptionId: p.subscriptionId, resourceGroupName: p.resourceGroupName };

/** Microsoft.Resources/deployments at resource group and subscription scope (api-versions of Microsoft.Resources). Bodies may be JSONC. */
@Controller()
export class DeploymentsController {
  constructor(
    private readonly deployments: DeploymentsService,
    private readonly operations: OperationsService,
    private readonly env: Env,
  ) {}

  @Get(DEPLOYMENTS)
  async list(@Param() p: Omit<DeploymentPath, 'deploymentName'>, @Arm() call: ArmCall) {
    const offset = decodeSkipToken(call.query.$skipToken);
    const pageSize = pageSizeOf(call.query, this.env.PAGE_SIZE);
    const rows = await this.deployments.list(scopeOf(p), offset, pageSize + 1);
    return toPage(
      rows.map((r) => toDeployment(r.deployment, r.rg?.name ?? null)),
      offset,
      { base: call.baseUrl, path: call.path, query: call.query, pageSize },
    );
  }

  @Get(DEPLOYMENT)
  async get(@Param() p: DeploymentPath) {
    const { rg, deployment } = await this.deployments.get(scopeOf(p), p.deploymentName);
    return toDeployment(deployment, rg?.name ?? null);
  }

  /** CheckExistence: 204 or 404, no body. */
  @Head(DEPLOYMENT)
  async head(@Param() p: DeploymentPath, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    const found = await this.deployments.find(scopeOf(p), p.deploymentName);
    reply.status(found ? 204 : 404);
  }

  /** 201 (new) or 200 with the Accepted deployment; Azure-AsyncOperation + Location to poll (final state via Location). */
  @Put(DEPLOYMENT)
  async put(@Param() p: DeploymentPath, @Body() body: unknown, @Arm() call: ArmCall, @Res({ passthrough: true }) reply: FastifyReply) {
    const r = await this.deployments.createOrUpdate(scopeOf(p), p.deploymentName, body, call);
    const id = deploymentId(r.subscriptionId, r.rg?.name ?? null, r.deployment.name);
    reply.status(r.created ? 201 : 200);
    reply.headers({
      'Azure-AsyncOperation': absoluteUrl(call.baseUrl, `${id}/operationStatuses/${r.operation.id}`, { 'api-version': call.apiVersion }),
      Location: resourcesResultUrl(call.baseUrl, r.subscriptionId, r.operation.id, call.apiVersion),
      'Retry-After': String(this.env.RETRY_AFTER_SECONDS),
    });
    return toDeployment(r.deployment, r.rg?.name ?? null);
  }

  @Get(under('operationStatuses/:operationId'))
  async status(@Param() p: DeploymentPath & { operationId: string }, @Res({ passthrough: true }) reply: FastifyReply) {
    const op = await this.operations.get(p.subscriptionId, p.operationId);
    const expected = deploymentId(p.subscriptionId, p.resourceGroupName ?? null, p.deploymentName).toLowerCase();
    if (!isDeploymentKind(op.kind) || op.resourceId.toLowerCase() !== expected) throw deploymentNotFound(p.deploymentName);
    if (!op.isTerminal()) reply.header('Retry-After', String(this.env.RETRY_AFTER_SECONDS));
    return this.operations.toStatus(op);
  }

  /** DELETE removes the deployment's record (not the resources it deployed). */
  @Delete(DEPLOYMENT)
  async delete(@Param() p: DeploymentPath, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.deployments.delete(scopeOf(p), p.deploymentName);
    reply.status(204);
  }

  @Post(under('validate'))
  @HttpCode(200)
  validate(@Param() p: DeploymentPath, @Body() body: unknown, @Arm() call: ArmCall) {
    return this.deployments.validate(scopeOf(p), p.deploymentName, body, call);
  }

  /** 202 with Location (final-state-via: location): its GET answers the WhatIfOperationResult. */
  @Post(under('whatIf'))
  @HttpCode(202)
  async whatIf(@Param() p: DeploymentPath, @Body() body: unknown, @Arm() call: ArmCall, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    const op = await this.deployments.startWhatIf(scopeOf(p), p.deploymentName, body, call);
    reply.headers({
      Location: resourcesResultUrl(call.baseUrl, op.subscriptionId, op.id, call.apiVersion),
      'Retry-After': String(this.env.RETRY_AFTER_SECONDS),
    });
  }

  @Post(under('cancel'))
  @HttpCode(204)
  async cancel(@Param() p: DeploymentPath, @Arm() call: ArmCall): Promise<void> {
    await this.deployments.cancel(scopeOf(p), p.deploymentName, call);
  }

  @Post(under('exportTemplate'))
  @HttpCode(200)
  async exportTemplate(@Param() p: DeploymentPath) {
    const { deployment } = await this.deployments.get(scopeOf(p), p.deploymentName);
    return { template: deployment.template };
  }

  @Get(DEPLOYMENT_OPERATIONS)
  async listOperations(@Param() p: DeploymentPath, @Arm() call: ArmCall) {
    const { rg, deployment, operations } = await this.deployments.operationsOf(scopeOf(p), p.deploymentName);
    const offset = decodeSkipToken(call.query.$skipToken);
    const pageSize = pageSizeOf(call.query, this.env.PAGE_SIZE);
    return toPage(
      operations.slice(offset, offset + pageSize + 1).map((o) => toDeploymentOperation(deployment, rg?.name ?? null, o)),
      offset,
      {
        base: call.baseUrl,
        path: call.path,
        query: call.query,
        pageSize,
      },
    );
  }

  @Get(DEPLOYMENT_OPERATIONS.map((o) => `${o}/:operationId`))
  async getOperation(@Param() p: DeploymentPath & { operationId: string }) {
    const { rg, deployment, operations } = await this.deployments.operationsOf(scopeOf(p), p.deploymentName);
    const op = operations.find((o) => o.id.toLowerCase() === p.operationId.toLowerCase());
    if (!op)
      throw ArmError.notFound('DeploymentOperationNotFound', `Deployment operation '${p.operationId}' of deployment '${p.deploymentName}' could not be found.`);
    return toDeploymentOperation(deployment, rg?.name ?? null, op);
  }
}
