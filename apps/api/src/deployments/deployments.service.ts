import { randomUUID } from 'node:crypto';
import { ArmError } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import {
  DeploymentEntity, DeploymentOperationEntity, DeploymentState, deploymentLockKey, OperationEntity, OperationKind, OperationRepository,
  OperationStatus, ProvisioningState, ResourceGroupEntity, WhatIfResultEntity,
} from '@cerulean/domain';
import { OperationQueue } from '@cerulean/queue-contracts';
import { deploymentParametersView, JsonObject, TemplatePlan, whatIf, WhatIfChange } from '@cerulean/templates';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { ArmCall } from '../common/arm-request';
import { HostedResources } from '../hosted-resources/hosted-resources';
import { ResourceGroupsService, resourceGroupBeingDeleted } from '../resource-groups/resource-groups.service';
import { DeploymentRequest, parseDeploymentRequest, parseWhatIfResultFormat, planDeployment, templateHash } from './deployment-plan';
import { deploymentId, DEPLOYMENTS_TYPE } from './deployment.mapper';
import { WHAT_IF_NORMALIZERS } from './whatif-normalizers';

const DEPLOYMENT_NAME = /^[-\w._()]{1,64}$/;

export function assertDeploymentName(name: string): void {
  if (!DEPLOYMENT_NAME.test(name)) {
    throw ArmError.badRequest(
      'InvalidDeploymentName',
      `The deployment name '${name}' is invalid. It can contain alphanumeric characters, periods, underscores, hyphens and parenthesis, and be at most 64 characters long.`,
      'deploymentName',
    );
  }
}

/** How long a what-if result stays readable at its Location. */
const WHAT_IF_KEEP_MS = 24 * 3600_000;

const RUNNING: string[] = [DeploymentState.Accepted, DeploymentState.Running];

export interface DeploymentInGroup {
  rg: ResourceGroupEntity;
  deployment: DeploymentEntity;
}

@Injectable()
export class DeploymentsService {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly groups: ResourceGroupsService,
    private readonly hosted: HostedResources,
    private readonly operations: OperationRepository,
    private readonly queue: OperationQueue,
    private readonly env: Env,
  ) {}

  async find(sub: string, rgName: string, name: string, tx: EntityManager = this.db, lock = false): Promise<DeploymentInGroup | undefined> {
    assertDeploymentName(name);
    const rg = await this.groups.get(sub, rgName, tx);
    const deployment = await tx.findOne(DeploymentEntity, {
      where: { resourceGroupId: rg.id, nameKey: name.toLowerCase() },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    return deployment ? { rg, deployment } : undefined;
  }

  async get(sub: string, rgName: string, name: string): Promise<DeploymentInGroup> {
    const found = await this.find(sub, rgName, name);
    if (!found) throw deploymentNotFound(name);
    return found;
  }

  async list(sub: string, rgName: string, offset: number, limit: number): Promise<DeploymentInGroup[]> {
    const rg = await this.groups.get(sub, rgName);
    const rows = await this.db.find(DeploymentEntity, { where: { resourceGroupId: rg.id }, order: { timestamp: 'DESC', id: 'ASC' }, skip: offset, take: limit });
    return rows.map((deployment) => ({ rg, deployment }));
  }

  /** Validate: the template, its parameters, the hosted types and each resource's body checks. Nothing is written. */
  async validate(sub: string, rgName: string, name: string, body: unknown, call: ArmCall) {
    assertDeploymentName(name);
    const request = parseDeploymentRequest(body);
    const rg = await this.groups.get(sub, rgName);
    const plan = await this.plan(rg, name, request, call, true);
    return {
      id: deploymentId(sub, rg.name, name),
      name,
      type: DEPLOYMENTS_TYPE,
      properties: {
        provisioningState: 'Succeeded',
        correlationId: call.context.correlationId,
        timestamp: call.receivedAt.toISOString(),
        duration: 'PT0S',
        mode: request.mode,
        templateHash: templateHash(request.template),
        parameters: deploymentParametersView(plan.parameters),
        validatedResources: plan.resources.filter((r) => r.condition).map((r) => ({ id: r.id })),
        dependencies: [],
        providers: [],
      },
    };
  }

  /** PUT: stores the deployment and its plan with an InProgress `deployment.put` operation, then enqueues it. */
  async createOrUpdate(sub: string, rgName: string, name: string, body: unknown, call: ArmCall) {
    assertDeploymentName(name);
    const request = parseDeploymentRequest(body);
    const rg = await this.groups.get(sub, rgName);
    const plan = await this.plan(rg, name, request, call, true);
    const accepted = await this.db.transaction(async (tx) => {
      const current = await this.groups.get(sub, rgName, tx, true);
      if (current.provisioningState === ProvisioningState.Deleting) throw resourceGroupBeingDeleted(current.name);
      const existing = (await this.find(sub, rgName, name, tx, true))?.deployment;
      if (existing && RUNNING.includes(existing.provisioningState)) throw deploymentActive(existing);
      const deployment = existing ?? tx.create(DeploymentEntity, { id: randomUUID(), subscriptionId: current.subscriptionId, resourceGroupId: current.id, location: null });
      Object.assign(deployment, {
        name,
        nameKey: name.toLowerCase(),
        mode: request.mode,
        provisioningState: DeploymentState.Accepted,
        template: request.template,
        templateHash: templateHash(request.template),
        parameters: deploymentParametersView(plan.parameters),
        plan,
        secureValuesDropped: false,
        outputs: null,
        outputResources: [],
        error: null,
        correlationId: call.context.correlationId,
        timestamp: call.receivedAt,
        durationMs: null,
      });
      await tx.save(deployment);
      if (existing) await tx.delete(DeploymentOperationEntity, { deploymentId: deployment.id });
      const operation = await this.operations.start(
        tx,
        {
          subscriptionId: current.subscriptionId,
          location: current.location,
          kind: OperationKind.DeploymentPut,
          resourceId: deploymentId(current.subscriptionId, current.name, name),
          lockKey: deploymentLockKey(deployment.id),
          resourceGroupId: current.id,
          apiVersion: call.apiVersion,
          correlationId: call.context.correlationId,
          createdBy: call.caller.id,
          startTime: call.receivedAt,
        },
        () => deploymentActive(deployment),
      );
      deployment.operationId = operation.id;
      await tx.save(deployment);
      return { rg: current, deployment, operation, created: !existing };
    });
    await this.queue.enqueue(accepted.operation.kind, accepted.operation.id, call.context.correlationId);
    return accepted;
  }

  /**
   * What-if, as ARM serves it: 202 with a Location whose GET gives the WhatIfOperationResult. The comparison runs
   * while the request is answered (a template error is a 400 at once); the result is kept, with an operation that is
   * recorded already ended, for `WHAT_IF_KEEP_MS`.
   */
  async startWhatIf(sub: string, rgName: string, name: string, body: unknown, call: ArmCall): Promise<OperationEntity> {
    const { rg, result } = await this.whatIf(sub, rgName, name, body, call);
    return this.db.transaction(async (tx) => {
      await tx.query(`DELETE FROM operations WHERE kind = $1 AND start_time < $2`, [OperationKind.DeploymentWhatIf, new Date(Date.now() - WHAT_IF_KEEP_MS)]);
      const op = await this.operations.start(
        tx,
        {
          subscriptionId: rg.subscriptionId,
          location: rg.location,
          kind: OperationKind.DeploymentWhatIf,
          resourceId: deploymentId(rg.subscriptionId, rg.name, name),
          lockKey: `what-if:${randomUUID()}`,
          resourceGroupId: rg.id,
          apiVersion: call.apiVersion,
          correlationId: call.context.correlationId,
          createdBy: call.caller.id,
          startTime: call.receivedAt,
        },
        () => ArmError.internal(),
      );
      await this.operations.finish(tx, op.id, OperationStatus.Succeeded);
      await tx.insert(WhatIfResultEntity, { operationId: op.id, result });
      return op;
    });
  }

  /** What-if: the plan against the live resources of the group (GET shapes), with the hosted types' normalizers. */
  private async whatIf(
    sub: string, rgName: string, name: string, body: unknown, call: ArmCall,
  ): Promise<{ rg: ResourceGroupEntity; result: { status: string; properties: { changes: WhatIfChange[] } } }> {
    assertDeploymentName(name);
    const request = parseDeploymentRequest(body);
    const format = parseWhatIfResultFormat(body);
    const rg = await this.groups.get(sub, rgName);
    const plan = await this.plan(rg, name, request, call, false);
    const live = await this.hosted.liveInGroup(sub, rg.name);
    // Agent pools are child resources: they are compared when the template declares them, never deleted on their own.
    const mentioned = new Set(plan.resources.map((r) => r.id.toLowerCase()));
    const compared: Record<string, JsonObject> = { ...(live.clusters as Record<string, JsonObject>) };
    for (const [id, pool] of Object.entries(live.pools)) if (mentioned.has(id.toLowerCase())) compared[id] = pool as JsonObject;
    const full = whatIf(plan, compared, { mode: request.mode, normalizers: WHAT_IF_NORMALIZERS });
    // ResourceIdOnly: each change without its payloads (before, after, delta).
    const changes = format === 'ResourceIdOnly' ? full.map(({ resourceId, changeType }) => ({ resourceId, changeType })) : full;
    return { rg, result: { status: 'Succeeded', properties: { changes } } };
  }

  /** Cancel: 204 while the deployment runs, 409 otherwise. */
  async cancel(sub: string, rgName: string, name: string, call: ArmCall): Promise<void> {
    await this.db.transaction(async (tx) => {
      const found = await this.find(sub, rgName, name, tx, true);
      if (!found) throw deploymentNotFound(name);
      const { deployment } = found;
      const requested = RUNNING.includes(deployment.provisioningState) && deployment.operationId
        ? await this.operations.requestCancel(tx, deployment.operationId, call.receivedAt)
        : false;
      if (!requested) {
        throw ArmError.conflict(
          'DeploymentCannotBeCancelled',
          `The deployment '${deployment.name}' cannot be cancelled: its provisioning state is '${deployment.provisioningState}'. Only running deployments can be cancelled.`,
        );
      }
    });
  }

  /** DELETE removes the deployment's history (not its resources); a running one must be canceled first. */
  async delete(sub: string, rgName: string, name: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const found = await this.find(sub, rgName, name, tx, true);
      if (!found) return false;
      if (RUNNING.includes(found.deployment.provisioningState)) throw deploymentActive(found.deployment);
      await tx.delete(DeploymentEntity, { id: found.deployment.id });
      return true;
    });
  }

  async operationsOf(sub: string, rgName: string, name: string): Promise<DeploymentInGroup & { operations: DeploymentOperationEntity[] }> {
    const found = await this.get(sub, rgName, name);
    const operations = await this.db.find(DeploymentOperationEntity, { where: { deploymentId: found.deployment.id }, order: { seq: 'ASC' } });
    return { ...found, operations };
  }

  private async plan(rg: ResourceGroupEntity, name: string, request: DeploymentRequest, call: ArmCall, preflight: boolean): Promise<TemplatePlan> {
    const plan = planDeployment(request, { subscriptionId: rg.subscriptionId, tenantId: this.env.TENANT_ID, rg, deploymentName: name, baseUrl: call.baseUrl });
    if (!preflight) return plan;
    const failures: { code: string; message: string; target?: string }[] = [];
    for (const r of plan.resources.filter((x) => x.condition && x.deferred.length === 0)) {
      try {
        await this.hosted.checkBody(r.type, r.body);
      } catch (err) {
        if (!(err instanceof ArmError)) throw err;
        failures.push({ ...err.toDetail(), target: err.target ? `${r.id}: ${err.target}` : r.id });
      }
    }
    if (failures.length > 0) {
      throw ArmError.badRequest(
        'InvalidTemplateDeployment',
        `The template deployment '${name}' is not valid according to the validation procedure. The tracking id is '${call.context.correlationId}'. See inner errors for details.`,
        undefined,
        [{ code: 'PreflightValidationCheckFailed', message: 'Preflight validation failed. Please refer to the details for the specific errors.', details: failures }],
      );
    }
    return plan;
  }
}

export function deploymentNotFound(name: string): ArmError {
  return ArmError.notFound('DeploymentNotFound', `Deployment '${name}' could not be found.`);
}

function deploymentActive(d: DeploymentEntity): ArmError {
  return ArmError.conflict(
    'DeploymentActive',
    `Unable to edit or replace deployment '${d.name}': previous deployment from '${d.timestamp.toISOString()}' is still active (expiration time is '${new Date(d.timestamp.getTime() + 7 * 86400_000).toISOString()}'). Please see https://aka.ms/arm-deploy for usage details.`,
  );
}
