import { randomBytes } from 'node:crypto';
import { ArmError, ArmErrorDetail, Caller, httpStatusName, ResourceTypes } from '@cerulean/arm';
import {
  DeploymentEntity,
  DeploymentOperationEntity,
  DeploymentState,
  OperationEntity,
  OperationKind,
  OperationRepository,
  OperationStatus,
  ResourceGroupEntity,
  ResourceGroupRepository,
  StoredError,
} from '@cerulean/domain';
import { Env } from '@cerulean/config';
import { loadMasterKey, SecretBox } from '@cerulean/pki';
import {
  evaluateOutputs,
  isNestedDeploymentType,
  JsonObject,
  nestedDeployment,
  nestedDeploymentRequest,
  openPlan,
  PlannedResource,
  ProcessOptions,
  resolveResource,
  TemplatePlan,
} from '@cerulean/templates';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager, In } from 'typeorm';
import { OperationCanceled, OperationSuperseded } from '../engine/errors';
import { OperationContext } from '../engine/operation-context';
import { ArmFrontDoor, FrontDoorReply, operationIdOf, replyError } from './arm-front-door.service';
import { FrontDoorTemplateHost } from './front-door-host';

const POLL_MS = 500;

/** Time budget of one deploy-time evaluation (one resource's body, or the outputs): the worker's loop runs other jobs too. */
const EVALUATION_SECONDS = 10;
const evaluationOptions = (): ProcessOptions => ({ deadline: { at: Date.now() + EVALUATION_SECONDS * 1000, seconds: EVALUATION_SECONDS } });

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
 * deployment.put: walks the plan's waves (a wave's resources in parallel); each resource is PUT through the public
 * API (ArmFrontDoor), which starts the normal cluster / agent pool operation (the group deployment a nested
 * deployment stands for; at subscription scope the resource group PUT); the handler waits for it and records
 * a deployment operation per resource. Complete mode then deletes the group's clusters the
 * template does not mention; outputs are evaluated last. A re-run after a crash resumes from the recorded rows.
 */
@Injectable()
export class DeploymentHandler {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly frontDoor: ArmFrontDoor,
    private readonly operations: OperationRepository,
    private readonly groups: ResourceGroupRepository,
    private readonly env: Env,
  ) {}

  private secretBox?: SecretBox;

  private box(): SecretBox {
    this.secretBox ??= new SecretBox(loadMasterKey({ masterKey: this.env.MASTER_KEY, dataDir: this.env.DATA_DIR }));
    return this.secretBox;
  }

  async run(op: OperationEntity, ctx: OperationContext): Promise<void> {
    const deployment = await this.db.findOne(DeploymentEntity, { where: { operationId: op.id } });
    const rg = deployment?.resourceGroupId ? await this.groups.findById(this.db, deployment.resourceGroupId) : null;
    // A subscription-scope deployment has no group.
    if (!deployment || (deployment.resourceGroupId && !rg) || !deployment.plan) {
      await this.db.transaction((tx) =>
        this.operations.finish(tx, op.id, OperationStatus.Canceled, { code: 'DeploymentNotFound', message: 'The deployment no longer exists.' }),
      );
      return;
    }
    const plan = openPlan(deployment.plan, this.box(), deployment.id);
    await this.db.update(DeploymentEntity, { id: deployment.id, provisioningState: DeploymentState.Accepted }, { provisioningState: DeploymentState.Running });
    const host = new FrontDoorTemplateHost(this.frontDoor, callerOf(op), op.correlationId);
    const byId = new Map(plan.resources.map((r, i) => [r.id, { r, seq: i }]));
    try {
      const failures: ArmErrorDetail[] = [];
      for (const wave of plan.waves) {
        await ctx.assertActive();
        const results = await Promise.all(
          wave.map((id) => {
            const entry = byId.get(id);
            return entry ? this.apply(deployment, plan, entry.r, entry.seq, host, op, ctx) : undefined;
          }),
        );
        for (const f of results) if (f) failures.push(f);
        // Dependents of a failed resource cannot run; ARM stops the deployment at that point too.
        if (failures.length > 0) break;
        await ctx.progress(plan.waves.indexOf(wave) + 1, plan.waves.length + 1);
      }
      if (failures.length === 0 && deployment.mode === 'Complete' && rg) failures.push(...(await this.deleteUnmentioned(deployment, rg, plan, op, ctx)));
      if (failures.length > 0) throw deploymentFailed(failures);
      const outputs = await evaluateOutputs(plan, host, evaluationOptions());
      await this.db.transaction(async (tx) => {
        if (!(await this.operations.finish(tx, op.id, OperationStatus.Succeeded))) throw new OperationSuperseded(op.id);
        await tx.update(
          DeploymentEntity,
          { id: deployment.id },
          {
            provisioningState: DeploymentState.Succeeded,
            outputs,
            outputResources: plan.resources.filter((r) => r.condition).map((r) => ({ id: r.id })),
            ...this.ended(deployment),
          },
        );
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
    deployment: DeploymentEntity,
    plan: TemplatePlan,
    r: PlannedResource,
    seq: number,
    host: FrontDoorTemplateHost,
    op: OperationEntity,
    ctx: OperationContext,
  ): Promise<ArmErrorDetail | undefined> {
    let row = await this.db.findOne(DeploymentOperationEntity, { where: { deploymentId: deployment.id, resourceId: r.id } });
    if (row?.provisioningState === DeploymentState.Succeeded) return undefined;
    if (row?.provisioningState === DeploymentState.Failed) return failureOf(row, r.id);
    if (!row?.targetOperationId) {
      const path = `${r.id}?api-version=${encodeURIComponent(r.apiVersion)}`;
      const live = await this.send(op, 'GET', path);
      if (live.status !== 200 && live.status !== 404)
        return this.recordFailure(await this.startRow(deployment, row, r, seq, 'Read'), live.status, replyError(live));
      // ARM names a resource PUT 'Create' whether or not the resource existed: ProvisioningOperation has no 'Update'.
      row = await this.startRow(deployment, row, r, seq, 'Create');
      let body: object;
      try {
        body = await resolveResource(plan, r.id, host, evaluationOptions());
        // A nested deployment is the group deployment it stands for: PUT there, then waited for like any resource.
        if (isNestedDeploymentType(r.type)) body = nestedDeploymentRequest(nestedDeployment(plan, r, body as JsonObject));
      } catch (err) {
        if (!(err instanceof ArmError)) throw err;
        return this.recordFailure(row, err.status, err.toDetail());
      }
      const reply = await this.send(op, 'PUT', path, body);
      if (reply.status >= 400) return this.recordFailure(row, reply.status, replyError(reply));
      return this.accepted(row, reply, ctx);
    }
    return this.awaitTarget(row, ctx);
  }

  /** The row of a resource being written (a re-run reuses the one a crashed run left). */
  private async startRow(
    deployment: DeploymentEntity,
    row: DeploymentOperationEntity | null,
    r: Pick<PlannedResource, 'id' | 'type' | 'name'>,
    seq: number,
    provisioningOperation: string,
  ): Promise<DeploymentOperationEntity> {
    return this.db.save(
      this.db.create(DeploymentOperationEntity, {
        id: row?.id ?? newOperationId(),
        deploymentId: deployment.id,
        seq,
        resourceId: r.id,
        resourceType: r.type,
        resourceName: r.name,
        provisioningOperation,
        provisioningState: DeploymentState.Running,
        statusCode: null,
        statusMessage: null,
        targetOperationId: null,
        timestamp: new Date(),
        durationMs: null,
      }),
    );
  }

  /** A 200/201/202 answer: done at once, or an operation to wait for (its id is in the async-operation URL). */
  private async accepted(row: DeploymentOperationEntity, reply: FrontDoorReply, ctx: OperationContext): Promise<ArmErrorDetail | undefined> {
    const statusCode = httpStatusName(reply.status);
    const target = operationIdOf(reply);
    if (!target) return this.recordSuccess(row, statusCode);
    row.targetOperationId = target;
    row.statusCode = statusCode;
    await this.db.save(row);
    return this.awaitTarget(row, ctx);
  }

  /**
   * Complete mode: the group's clusters the template does not declare are deleted (their pools go with them). What its
   * nested deployments into the same group deployed counts as declared (ARM compares the combined collection).
   */
  private async deleteUnmentioned(
    deployment: DeploymentEntity,
    rg: ResourceGroupEntity,
    plan: TemplatePlan,
    op: OperationEntity,
    ctx: OperationContext,
  ): Promise<ArmErrorDetail[]> {
    const declared = new Set(plan.resources.filter((r) => r.condition).map((r) => r.id.toLowerCase()));
    await this.addNestedResources(rg, declared);
    const clusters = await this.listAll(
      op,
      `/subscriptions/${deployment.subscriptionId}/resourceGroups/${rg.name}/providers/${ResourceTypes.managedClusters}?api-version=${op.apiVersion}`,
    );
    const extra = clusters.filter((c) => !declared.has(c.id.toLowerCase()));
    const results = await Promise.all(
      extra.map(async (c, i) => {
        let row = await this.db.findOne(DeploymentOperationEntity, { where: { deploymentId: deployment.id, resourceId: c.id } });
        if (row?.provisioningState === DeploymentState.Succeeded) return undefined;
        if (row?.targetOperationId) return this.awaitTarget(row, ctx);
        row = await this.startRow(deployment, row, { id: c.id, type: ResourceTypes.managedClusters, name: c.name }, plan.resources.length + i, 'Delete');
        const reply = await this.send(op, 'DELETE', `${c.id}?api-version=${op.apiVersion}`);
        if (reply.status >= 400) return this.recordFailure(row, reply.status, replyError(reply));
        return this.accepted(row, reply, ctx);
      }),
    );
    return results.filter((f): f is ArmErrorDetail => f !== undefined);
  }

  /** Adds the output resources of the nested deployments in `ids` that ran in `rg`, and theirs in turn. */
  private async addNestedResources(rg: ResourceGroupEntity, ids: Set<string>): Promise<void> {
    const prefix = `/subscriptions/${rg.subscriptionId}/resourcegroups/${rg.name}/providers/microsoft.resources/deployments/`.toLowerCase();
    const seen = new Set<string>();
    for (let pending = [...ids].filter((id) => id.startsWith(prefix)); pending.length > 0;) {
      const names = pending.map((id) => id.slice(prefix.length)).filter((n) => !seen.has(n));
      for (const n of names) seen.add(n);
      const nested = names.length > 0 ? await this.db.find(DeploymentEntity, { where: { resourceGroupId: rg.id, nameKey: In(names) } }) : [];
      pending = [];
      for (const id of nested.flatMap((d) => d.outputResources.map((r) => r.id.toLowerCase()))) {
        ids.add(id);
        if (id.startsWith(prefix)) pending.push(id);
      }
    }
  }

  /** Every page of a list (nextLink is absolute and points back at the API). */
  private async listAll(op: OperationEntity, path: string): Promise<{ id: string; name: string }[]> {
    const out: { id: string; name: string }[] = [];
    for (let next: string | undefined = path; next;) {
      const reply = await this.send(op, 'GET', next);
      if (reply.status !== 200) {
        const e = replyError(reply);
        throw new ArmError(reply.status, e.code, e.message, e.target, e.details);
      }
      const page = reply.body as { value?: { id: string; name: string }[]; nextLink?: string };
      out.push(...(page.value ?? []));
      next = page.nextLink;
    }
    return out;
  }

  private send(op: OperationEntity, method: string, path: string, body?: unknown): Promise<FrontDoorReply> {
    return this.frontDoor.send(method, path, { body, caller: callerOf(op), correlationId: op.correlationId });
  }

  /**
   * Waits for the operation a resource's write started. A nested group deployment nobody runs yet is run here, in
   * this deployment's slot (ctx.runNested): waiting for a free slot instead could wait forever once deployments that
   * nest others hold every slot. A cancel of this deployment ends the wait at once; the nested run goes on by itself.
   */
  private async awaitTarget(row: DeploymentOperationEntity, ctx: OperationContext): Promise<ArmErrorDetail | undefined> {
    for (;;) {
      const target = await this.db.findOne(OperationEntity, { where: { id: row.targetOperationId ?? '' } });
      if (!target || target.isTerminal()) {
        if (target?.status === OperationStatus.Succeeded) return this.recordSuccess(row, row.statusCode ?? 'OK');
        const error = target?.error ?? { code: 'OperationCanceled', message: 'The resource operation was canceled.' };
        return this.recordFailure(row, error.code === 'InternalServerError' ? 500 : 400, error as ArmErrorDetail);
      }
      const ranHere = target.kind === OperationKind.DeploymentPut && (await ctx.untilCanceled(ctx.runNested(target.id)));
      if (!ranHere) await ctx.pause(POLL_MS);
    }
  }

  private async recordSuccess(row: DeploymentOperationEntity, statusCode: string): Promise<undefined> {
    await this.db.update(
      DeploymentOperationEntity,
      { id: row.id },
      {
        provisioningState: DeploymentState.Succeeded,
        statusCode,
        durationMs: Date.now() - row.timestamp.getTime(),
      },
    );
    return undefined;
  }

  private async recordFailure(row: DeploymentOperationEntity, status: number, error: ArmErrorDetail): Promise<ArmErrorDetail> {
    await this.db.update(
      DeploymentOperationEntity,
      { id: row.id },
      {
        provisioningState: DeploymentState.Failed,
        statusCode: httpStatusName(status),
        statusMessage: { status: 'Failed', error },
        durationMs: Date.now() - row.timestamp.getTime(),
      },
    );
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
}

/** The principal that started the deployment: its resources' writes are made as it. */
function callerOf(op: OperationEntity): Caller {
  return { id: op.createdBy ?? 'unknown', type: 'Application' };
}

function failureOf(row: Pick<DeploymentOperationEntity, 'statusMessage'>, resourceId: string): ArmErrorDetail {
  const error = (row.statusMessage as { error?: ArmErrorDetail } | null)?.error ?? {
    code: 'ResourceDeploymentFailure',
    message: 'The resource operation failed.',
  };
  return { code: error.code, message: error.message, target: resourceId, ...(error.details ? { details: error.details } : {}) };
}
