import { randomBytes, randomUUID } from 'node:crypto';
import { ArmError, ArmErrorDetail, ResourceTypes } from '@cerulean/arm';
import {
  DeploymentEntity, DeploymentOperationEntity, DeploymentState, OperationEntity, OperationRepository, OperationStatus, ResourceGroupEntity,
  StoredError,
} from '@cerulean/domain';
import { evaluateOutputs, PlannedResource, resolveResource, TemplatePlan } from '@cerulean/templates';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager, In } from 'typeorm';
import { ArmCall } from '../../../api/src/common/arm-request';
import { DatabaseTemplateHost } from '../../../api/src/deployments/deployment-host';
import { STATUS_NAMES } from '../../../api/src/deployments/deployment.mapper';
import { HostedResources } from '../../../api/src/hosted-resources/hosted-resources';
import { OperationCanceled, OperationSuperseded } from '../engine/errors';
import { OperationContext } from '../engine/operation-context';

const POLL_MS = 500;

/** ARM's error for a deployment with failed resources; `details` has one entry per failed resource. */
export function deploymentFailed(details: ArmErrorDetail[]): ArmError {
  return ArmError.badRequest(
    'DeploymentFailed',
    'At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.',
    undefined,
    details,
  );
}

const newOperationId = (): string => randomBytes(8).toString('hex').toUpperCase();

/**
 * deployment.put: walks the plan's waves (a wave's resources in parallel); each resource goes through the same
 * service as its PUT (HostedResources), which starts the normal cluster / agent pool operation; the handler waits
 * for it and records a deployment operation per resource. Complete mode then deletes the group's clusters the
 * template does not mention; outputs are evaluated last. A re-run after a crash resumes from the recorded rows.
 */
@Injectable()
export class DeploymentHandler {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly hosted: HostedResources,
    private readonly operations: OperationRepository,
  ) {}

  async run(op: OperationEntity, ctx: OperationContext): Promise<void> {
    const deployment = await this.db.findOne(DeploymentEntity, { where: { operationId: op.id } });
    const rg = deployment?.resourceGroupId ? await this.db.findOne(ResourceGroupEntity, { where: { id: deployment.resourceGroupId } }) : null;
    if (!deployment || !rg || !deployment.plan) {
      await this.db.transaction((tx) => this.operations.finish(tx, op.id, OperationStatus.Canceled, { code: 'DeploymentNotFound', message: 'The deployment no longer exists.' }));
      return;
    }
    const plan = deployment.plan as TemplatePlan;
    await this.db.update(DeploymentEntity, { id: deployment.id, provisioningState: DeploymentState.Accepted }, { provisioningState: DeploymentState.Running });
    const host = new DatabaseTemplateHost(this.hosted);
    const byId = new Map(plan.resources.map((r, i) => [r.id, { r, seq: i }]));
    try {
      const failures: ArmErrorDetail[] = [];
      for (const wave of plan.waves) {
        await ctx.assertActive();
        const results = await Promise.all(wave.map((id) => {
          const entry = byId.get(id);
          return entry ? this.apply(deployment, rg, plan, entry.r, entry.seq, host, op, ctx) : undefined;
        }));
        for (const f of results) if (f) failures.push(f);
        // Dependents of a failed resource cannot run; ARM stops the deployment at that point too.
        if (failures.length > 0) break;
        await ctx.progress(plan.waves.indexOf(wave) + 1, plan.waves.length + 1);
      }
      if (failures.length === 0 && deployment.mode === 'Complete') failures.push(...(await this.deleteUnmentioned(deployment, rg, plan, op, ctx)));
      if (failures.length > 0) throw deploymentFailed(failures);
      const outputs = await evaluateOutputs(plan, host);
      await this.db.transaction(async (tx) => {
        if (!(await this.operations.finish(tx, op.id, OperationStatus.Succeeded))) throw new OperationSuperseded(op.id);
        await tx.update(DeploymentEntity, { id: deployment.id }, {
          provisioningState: DeploymentState.Succeeded,
          outputs,
          outputResources: plan.resources.filter((r) => r.condition).map((r) => ({ id: r.id })),
          ...this.ended(deployment),
        });
      });
    } catch (err) {
      if (err instanceof ArmError) {
        await this.settle(deployment, DeploymentState.Failed, err.toDetail() as StoredError);
      } else if (err instanceof OperationCanceled) {
        await this.settle(deployment, DeploymentState.Canceled, { code: 'DeploymentCanceled', message: `The deployment '${deployment.name}' was canceled.` });
      }
      throw err;
    }
  }

  /** One resource: PUT through the shared path, then wait for its operation. Returns the failure, if any. */
  private async apply(
    deployment: DeploymentEntity, rg: ResourceGroupEntity, plan: TemplatePlan, r: PlannedResource, seq: number, host: DatabaseTemplateHost,
    op: OperationEntity, ctx: OperationContext,
  ): Promise<ArmErrorDetail | undefined> {
    let row = await this.db.findOne(DeploymentOperationEntity, { where: { deploymentId: deployment.id, resourceId: r.id } });
    if (row?.provisioningState === DeploymentState.Succeeded) return undefined;
    if (row?.provisioningState === DeploymentState.Failed) return failureOf(row, r.id);
    if (!row?.targetOperationId) {
      const live = await this.hosted.get(deployment.subscriptionId, rg.name, r.type, r.name);
      row = await this.db.save(this.db.create(DeploymentOperationEntity, {
        id: row?.id ?? newOperationId(),
        deploymentId: deployment.id,
        seq,
        resourceId: r.id,
        resourceType: r.type,
        resourceName: r.name,
        provisioningOperation: live ? 'Update' : 'Create',
        provisioningState: DeploymentState.Running,
        statusCode: null,
        statusMessage: null,
        targetOperationId: null,
        timestamp: new Date(),
        durationMs: null,
      }));
      try {
        const body = await resolveResource(plan, r.id, host);
        const accepted = await this.hosted.put(deployment.subscriptionId, rg.name, r.type, r.name, body, this.callFor(op, r.apiVersion));
        row.targetOperationId = accepted.operation.id;
        row.statusCode = accepted.created ? STATUS_NAMES[201] : STATUS_NAMES[200];
        await this.db.save(row);
      } catch (err) {
        if (!(err instanceof ArmError)) throw err;
        return this.recordFailure(row, err.status, err.toDetail());
      }
    }
    return this.awaitTarget(row, ctx);
  }

  /** Complete mode: the group's clusters the template does not declare are deleted (their pools go with them). */
  private async deleteUnmentioned(deployment: DeploymentEntity, rg: ResourceGroupEntity, plan: TemplatePlan, op: OperationEntity, ctx: OperationContext): Promise<ArmErrorDetail[]> {
    const declared = new Set(plan.resources.filter((r) => r.condition).map((r) => r.id.toLowerCase()));
    const live = await this.hosted.liveInGroup(deployment.subscriptionId, rg.name);
    const extra = Object.entries(live.clusters).filter(([id]) => !declared.has(id.toLowerCase()));
    const results = await Promise.all(extra.map(async ([id, resource], i) => {
      const name = String(resource.name);
      let row = await this.db.findOne(DeploymentOperationEntity, { where: { deploymentId: deployment.id, resourceId: id } });
      if (row?.provisioningState === DeploymentState.Succeeded) return undefined;
      if (!row?.targetOperationId) {
        row = await this.db.save(this.db.create(DeploymentOperationEntity, {
          id: row?.id ?? newOperationId(), deploymentId: deployment.id, seq: plan.resources.length + i, resourceId: id,
          resourceType: ResourceTypes.managedClusters, resourceName: name, provisioningOperation: 'Delete', provisioningState: DeploymentState.Running,
          statusCode: null, statusMessage: null, targetOperationId: null, timestamp: new Date(), durationMs: null,
        }));
        try {
          const target = await this.hosted.delete(deployment.subscriptionId, rg.name, ResourceTypes.managedClusters, name, this.callFor(op, op.apiVersion));
          if (!target) return this.recordSuccess(row, STATUS_NAMES[204] as string);
          row.targetOperationId = target.id;
          row.statusCode = STATUS_NAMES[202] as string;
          await this.db.save(row);
        } catch (err) {
          if (!(err instanceof ArmError)) throw err;
          return this.recordFailure(row, err.status, err.toDetail());
        }
      }
      return this.awaitTarget(row, ctx);
    }));
    return results.filter((f): f is ArmErrorDetail => f !== undefined);
  }

  private async awaitTarget(row: DeploymentOperationEntity, ctx: OperationContext): Promise<ArmErrorDetail | undefined> {
    for (;;) {
      const target = await this.db.findOne(OperationEntity, { where: { id: row.targetOperationId ?? '' } });
      if (!target || target.isTerminal()) {
        if (target?.status === OperationStatus.Succeeded) return this.recordSuccess(row, row.statusCode ?? 'OK');
        const error = target?.error ?? { code: 'OperationCanceled', message: 'The resource operation was canceled.' };
        return this.recordFailure(row, error.code === 'InternalServerError' ? 500 : 400, error as ArmErrorDetail);
      }
      await ctx.pause(POLL_MS);
    }
  }

  private async recordSuccess(row: DeploymentOperationEntity, statusCode: string): Promise<undefined> {
    await this.db.update(DeploymentOperationEntity, { id: row.id }, {
      provisioningState: DeploymentState.Succeeded, statusCode, durationMs: Date.now() - row.timestamp.getTime(),
    });
    return undefined;
  }

  private async recordFailure(row: DeploymentOperationEntity, status: number, error: ArmErrorDetail): Promise<ArmErrorDetail> {
    await this.db.update(DeploymentOperationEntity, { id: row.id }, {
      provisioningState: DeploymentState.Failed,
      statusCode: STATUS_NAMES[status] ?? String(status),
      statusMessage: { status: 'Failed', error },
      durationMs: Date.now() - row.timestamp.getTime(),
    });
    return failureOf({ ...row, statusMessage: { status: 'Failed', error } }, row.resourceId);
  }

  /** Ends the deployment row (the runner ends the operation); secure values go with the plan. */
  private async settle(deployment: DeploymentEntity, state: DeploymentState, error: StoredError): Promise<void> {
    await this.db.update(
      DeploymentEntity,
      { id: deployment.id, provisioningState: In([DeploymentState.Accepted, DeploymentState.Running]) },
      { provisioningState: state, error, ...this.ended(deployment) },
    );
  }

  private ended(deployment: DeploymentEntity) {
    return { plan: null, secureValuesDropped: true, durationMs: Date.now() - deployment.timestamp.getTime() };
  }

  /** The request a resource's PUT would have carried: same correlation id and caller as the deployment. */
  private callFor(op: OperationEntity, apiVersion: string): ArmCall {
    return {
      context: { requestId: randomUUID(), correlationId: op.correlationId ?? randomUUID() },
      apiVersion,
      caller: { id: op.createdBy ?? 'unknown', type: 'User' },
      baseUrl: '',
      path: '',
      query: {},
      receivedAt: new Date(),
    };
  }
}

function failureOf(row: Pick<DeploymentOperationEntity, 'statusMessage'>, resourceId: string): ArmErrorDetail {
  const error = (row.statusMessage as { error?: ArmErrorDetail } | null)?.error ?? { code: 'ResourceDeploymentFailure', message: 'The resource operation failed.' };
  return { code: error.code, message: error.message, target: resourceId, ...(error.details ? { details: error.details } : {}) };
}
