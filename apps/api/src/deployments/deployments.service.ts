import { randomUUID } from 'node:crypto';
import { ArmError, ResourceTypes } from '@cerulean/arm';
import { LocationCatalog, normalizeLocation } from '@cerulean/catalog';
import { Env } from '@cerulean/config';
import {
  DeploymentEntity,
  DeploymentOperationEntity,
  DeploymentState,
  deploymentLockKey,
  OperationEntity,
  OperationKind,
  OperationRepository,
  OperationStatus,
  ProvisioningState,
  ResourceGroupEntity,
  ResourceGroupRepository,
  WhatIfResultEntity,
} from '@cerulean/domain';
import { loadMasterKey, SecretBox } from '@cerulean/pki';
import { OperationStarter } from '@cerulean/queue-contracts';
import {
  deploymentParametersView,
  maskSecureValues,
  sealPlan,
  isNestedDeploymentType,
  isResourceGroupType,
  JsonObject,
  NestedDeployment,
  nestedDeployment,
  ResourceNormalizer,
  TemplatePlan,
  whatIf,
  WhatIfChange,
} from '@cerulean/templates';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager, IsNull } from 'typeorm';
import { ArmCall } from '../common/arm-request';
import { HostedResources } from '../hosted-resources/hosted-resources.service';
import { toResourceGroup } from '../resource-groups/resource-group.mapper';
import { ResourceGroupsService, resourceGroupBeingDeleted } from '../resource-groups/resource-groups.service';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';
import {
  checkHostable,
  deploymentContext,
  DeploymentRequest,
  DeploymentTarget,
  parseDeploymentRequest,
  parseWhatIfResultFormat,
  templateHash,
  WhatIfResultFormat,
} from './deployment-plan';
import { TemplateEvaluationPool } from './template-evaluation.pool';
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

const locations = new LocationCatalog();

/** Where a deployment lives: a resource group, or the subscription itself (no `resourceGroupName`). */
export interface DeploymentScope {
  subscriptionId: string;
  resourceGroupName?: string;
}

/** A deployment with its group (null at subscription scope). */
export interface DeploymentAt {
  rg: ResourceGroupEntity | null;
  deployment: DeploymentEntity;
}

/** The scope's owner as the database has it: the group row, or the subscription's id (lower-case) at subscription scope. */
interface ScopeRow {
  subscriptionId: string;
  rg: ResourceGroupEntity | null;
}

type WhatIfResult = { status: string; properties: { changes: WhatIfChange[] } };

/** A nested deployment (a Bicep module) with its own plan (the group's template) and target group. */
interface NestedPlan {
  nested: NestedDeployment;
  plan: TemplatePlan;
  /** The group when it exists already (what-if compares its live resources). */
  existing: ResourceGroupEntity | null;
}

/** A plan with the nested deployments it holds, those of its nested deployments included (depth first). */
interface PlanTree {
  plan: TemplatePlan;
  nested: NestedPlan[];
}

/** What a group deployment and the nested deployments into the same group declare there, compared as one. */
interface GroupWhatIf {
  rg: ResourceGroupEntity | null;
  name: string;
  plans: TemplatePlan[];
  mode: DeploymentRequest['mode'];
}

const RESOURCE_GROUP_NORMALIZERS: Record<string, ResourceNormalizer> = {
  // A group PUT sets location and tags; managedBy and provisioningState are not the template's business.
  [ResourceTypes.resourceGroups]: { ignore: ['properties', 'managedBy'], caseInsensitive: ['location'] },
};

/**
 * Microsoft.Resources/deployments at resource group and at subscription scope: one service, the scope is a value.
 * A subscription-scope deployment has no group (resource_group_id null) and a location of its own.
 */
@Injectable()
export class DeploymentsService {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly groups: ResourceGroupsService,
    private readonly subscriptions: SubscriptionsService,
    private readonly hosted: HostedResources,
    private readonly groupRows: ResourceGroupRepository,
    private readonly operations: OperationRepository,
    private readonly starter: OperationStarter,
    private readonly env: Env,
    private readonly evaluation: TemplateEvaluationPool,
  ) {}

  private secretBox?: SecretBox;

  private box(): SecretBox {
    this.secretBox ??= new SecretBox(loadMasterKey({ masterKey: this.env.MASTER_KEY, dataDir: this.env.DATA_DIR }));
    return this.secretBox;
  }

  private async scopeRow(scope: DeploymentScope, tx: EntityManager = this.db, lock = false): Promise<ScopeRow> {
    if (scope.resourceGroupName !== undefined) {
      const rg = await this.groups.get(scope.subscriptionId, scope.resourceGroupName, tx, lock);
      return { subscriptionId: rg.subscriptionId, rg };
    }
    return { subscriptionId: (await this.subscriptions.get(scope.subscriptionId, tx)).id, rg: null };
  }

  async find(scope: DeploymentScope, name: string, tx: EntityManager = this.db, lock = false): Promise<DeploymentAt | undefined> {
    assertDeploymentName(name);
    const { subscriptionId, rg } = await this.scopeRow(scope, tx);
    const deployment = await tx.findOne(DeploymentEntity, {
      where: rg ? { resourceGroupId: rg.id, nameKey: name.toLowerCase() } : { subscriptionId, resourceGroupId: IsNull(), nameKey: name.toLowerCase() },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    return deployment ? { rg, deployment } : undefined;
  }

  async get(scope: DeploymentScope, name: string): Promise<DeploymentAt> {
    const found = await this.find(scope, name);
    if (!found) throw deploymentNotFound(name);
    return found;
  }

  async list(scope: DeploymentScope, offset: number, limit: number): Promise<DeploymentAt[]> {
    const { subscriptionId, rg } = await this.scopeRow(scope);
    const rows = await this.db.find(DeploymentEntity, {
      where: rg ? { resourceGroupId: rg.id } : { subscriptionId, resourceGroupId: IsNull() },
      order: { timestamp: 'DESC', id: 'ASC' },
      skip: offset,
      take: limit,
    });
    return rows.map((deployment) => ({ rg, deployment }));
  }

  /** Validate: the template, its parameters, the hosted types and each resource's body checks. Nothing is written. */
  async validate(scope: DeploymentScope, name: string, body: unknown, call: ArmCall) {
    assertDeploymentName(name);
    const request = parseDeploymentRequest(body);
    const at = await this.scopeRow(scope);
    const plan = await this.plan(at, name, request, call, true);
    return {
      id: deploymentId(at.subscriptionId, at.rg?.name ?? null, name),
      name,
      // DeploymentValidateResult has no location (a deployment's own GET does), at any scope.
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
  async createOrUpdate(scope: DeploymentScope, name: string, body: unknown, call: ArmCall) {
    assertDeploymentName(name);
    const request = parseDeploymentRequest(body);
    const at = await this.scopeRow(scope);
    const plan = await this.plan(at, name, request, call, true);
    return this.starter.run(async (tx) => {
      const current = await this.scopeRow(scope, tx, true);
      if (current.rg?.provisioningState === ProvisioningState.Deleting) throw resourceGroupBeingDeleted(current.rg.name);
      const existing = (await this.find(scope, name, tx, true))?.deployment;
      if (existing && RUNNING.includes(existing.provisioningState)) throw deploymentActive(existing);
      const location = current.rg ? null : (request.location as string);
      if (existing?.location && location && existing.location !== location) {
        throw ArmError.badRequest(
          'InvalidDeploymentLocation',
          `Invalid deployment location '${location}'. The deployment '${existing.name}' already exists in location '${existing.location}'.`,
          'location',
        );
      }
      const deployment =
        existing ??
        tx.create(DeploymentEntity, { id: randomUUID(), subscriptionId: current.subscriptionId, resourceGroupId: current.rg?.id ?? null, location });
      Object.assign(deployment, {
        name,
        nameKey: name.toLowerCase(),
        mode: request.mode,
        provisioningState: DeploymentState.Accepted,
        template: request.template,
        templateHash: templateHash(request.template),
        parameters: deploymentParametersView(plan.parameters),
        // Sealed: the plan holds secure parameter values (and what was made from them) until the run ends.
        plan: sealPlan(plan, this.box(), deployment.id),
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
      const operation = await this.starter.start(
        tx,
        {
          subscriptionId: current.subscriptionId,
          location: current.rg?.location ?? (location as string),
          kind: current.rg ? OperationKind.DeploymentPut : OperationKind.SubscriptionDeploymentPut,
          resourceId: deploymentId(current.subscriptionId, current.rg?.name ?? null, name),
          lockKey: deploymentLockKey(deployment.id),
          ...(current.rg ? { resourceGroupId: current.rg.id } : {}),
        },
        call,
        () => deploymentActive(deployment),
      );
      deployment.operationId = operation.id;
      await tx.save(deployment);
      return { ...current, deployment, operation, created: !existing };
    });
  }

  /**
   * What-if, as ARM serves it: 202 with a Location whose GET gives the WhatIfOperationResult. The comparison runs
   * while the request is answered (a template error is a 400 at once); the result is kept, with an operation that is
   * recorded already ended, for `WHAT_IF_KEEP_MS`.
   */
  async startWhatIf(scope: DeploymentScope, name: string, body: unknown, call: ArmCall): Promise<OperationEntity> {
    assertDeploymentName(name);
    const request = parseDeploymentRequest(body);
    const at = await this.scopeRow(scope);
    const result = await this.whatIf(at, name, request, parseWhatIfResultFormat(body), call);
    return this.db.transaction(async (tx) => {
      await tx.query(`DELETE FROM operations WHERE kind = $1 AND start_time < $2`, [OperationKind.DeploymentWhatIf, new Date(Date.now() - WHAT_IF_KEEP_MS)]);
      // Recorded already ended, never enqueued: the comparison ran above, while the request was answered.
      const op = await this.starter.start(
        tx,
        {
          subscriptionId: at.subscriptionId,
          location: at.rg?.location ?? (request.location as string),
          kind: OperationKind.DeploymentWhatIf,
          resourceId: deploymentId(at.subscriptionId, at.rg?.name ?? null, name),
          lockKey: `what-if:${randomUUID()}`,
          ...(at.rg ? { resourceGroupId: at.rg.id } : {}),
        },
        call,
        () => ArmError.internal(),
      );
      await this.operations.finish(tx, op.id, OperationStatus.Succeeded);
      await tx.insert(WhatIfResultEntity, { operationId: op.id, result });
      return op;
    });
  }

  /**
   * What-if: the plan against the live resources (GET shapes), with the hosted types' normalizers. At subscription
   * scope the template's resource groups come first. The resources of each nested deployment are flattened into the
   * list with their full ids (as ARM shows them; the nested deployments themselves are not listed); at resource group
   * scope those into the deployment's own group count as part of its template (Complete mode deletes neither).
   * `ResourceIdOnly`: each change without its payloads (before, after, delta).
   */
  private async whatIf(at: ScopeRow, name: string, request: DeploymentRequest, format: WhatIfResultFormat, call: ArmCall): Promise<WhatIfResult> {
    const all = await this.allChanges(at, name, request, call);
    const changes = format === 'ResourceIdOnly' ? all.map(({ resourceId, changeType }) => ({ resourceId, changeType })) : all;
    return { status: 'Succeeded', properties: { changes } };
  }

  private async allChanges(at: ScopeRow, name: string, request: DeploymentRequest, call: ArmCall): Promise<WhatIfChange[]> {
    // The comparison runs on the real values; the answer (and the stored result) shows secure ones masked.
    const secure = new Set<string>();
    return maskSecureValues(await this.unmaskedChanges(at, name, request, call, secure), secure);
  }

  private async unmaskedChanges(at: ScopeRow, name: string, request: DeploymentRequest, call: ArmCall, secure: Set<string>): Promise<WhatIfChange[]> {
    // What-if runs the preflight validate runs (ARM answers a failing one with InvalidTemplateDeployment, not changes),
    // on each nested deployment too.
    const { plan, nested } = await this.planTree(at, name, request, call, true, secure);
    const changes: WhatIfChange[] = [];
    if (!at.rg) {
      const groups = plan.resources.filter((r) => r.condition && isResourceGroupType(r.type));
      const live: Record<string, JsonObject> = {};
      for (const g of groups) {
        const existing = await this.existingGroup(at.subscriptionId, g.name);
        if (existing) live[g.id] = toResourceGroup(existing) as unknown as JsonObject;
      }
      changes.push(...whatIf({ ...plan, resources: groups }, live, { normalizers: RESOURCE_GROUP_NORMALIZERS }));
    }
    const byGroup = new Map<string, GroupWhatIf>();
    const add = (rg: ResourceGroupEntity | null, groupName: string, p: TemplatePlan, mode: DeploymentRequest['mode']) => {
      const key = groupName.toLowerCase();
      const entry = byGroup.get(key);
      if (!entry) byGroup.set(key, { rg, name: groupName, plans: [p], mode });
      else {
        entry.plans.push(p);
        // ARM allows Complete only for the root deployment; a subscription-scope nested one may use it here.
        if (mode === 'Complete') entry.mode = 'Complete';
      }
    };
    if (at.rg) add(at.rg, at.rg.name, plan, request.mode);
    for (const n of nested) add(n.existing, n.nested.resourceGroup, n.plan, n.nested.mode);
    for (const g of byGroup.values()) changes.push(...(await this.groupChanges(g.rg, g.plans, g.mode)));
    return changes;
  }

  /**
   * The changes of the group-scope plans into one group against its live resources (none when the group is still to
   * be made). Nested deployments are not listed: their resources are, from their own plans.
   */
  private async groupChanges(rg: ResourceGroupEntity | null, plans: TemplatePlan[], mode: DeploymentRequest['mode']): Promise<WhatIfChange[]> {
    const [first] = plans;
    if (!first) return [];
    const resources = new Map<string, TemplatePlan['resources'][number]>();
    for (const r of plans.flatMap((p) => p.resources)) if (!isNestedDeploymentType(r.type)) resources.set(r.id.toLowerCase(), r);
    const compared: Record<string, JsonObject> = {};
    if (rg) {
      const live = await this.hosted.liveInGroup(rg.subscriptionId, rg.name);
      // Agent pools and maintenance configurations are child resources: they are compared when the template declares
      // them, never deleted on their own.
      Object.assign(compared, live.clusters as Record<string, JsonObject>);
      for (const [id, child] of Object.entries({ ...live.pools, ...live.configs })) if (resources.has(id.toLowerCase())) compared[id] = child as JsonObject;
    }
    return whatIf({ ...first, resources: [...resources.values()] }, compared, { mode, normalizers: WHAT_IF_NORMALIZERS });
  }

  /** Cancel: 204 while the deployment runs, 409 otherwise. */
  async cancel(scope: DeploymentScope, name: string, call: ArmCall): Promise<void> {
    await this.db.transaction(async (tx) => {
      const found = await this.find(scope, name, tx, true);
      if (!found) throw deploymentNotFound(name);
      const { deployment } = found;
      const requested =
        RUNNING.includes(deployment.provisioningState) && deployment.operationId
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
  async delete(scope: DeploymentScope, name: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const found = await this.find(scope, name, tx, true);
      if (!found) return false;
      if (RUNNING.includes(found.deployment.provisioningState)) throw deploymentActive(found.deployment);
      await tx.delete(DeploymentEntity, { id: found.deployment.id });
      return true;
    });
  }

  async operationsOf(scope: DeploymentScope, name: string): Promise<DeploymentAt & { operations: DeploymentOperationEntity[] }> {
    const found = await this.get(scope, name);
    const operations = await this.db.find(DeploymentOperationEntity, { where: { deploymentId: found.deployment.id }, order: { seq: 'ASC' } });
    return { ...found, operations };
  }

  /** `secure` (what-if) collects the values made from secure values, to mask them in the answer. */
  private async plan(at: ScopeRow, name: string, request: DeploymentRequest, call: ArmCall, preflight: boolean, secure?: Set<string>): Promise<TemplatePlan> {
    return (await this.planTree(at, name, request, call, preflight, secure)).plan;
  }

  /** The plan and, with `preflight`, each nested deployment planned and checked as its group deployment will be. */
  private async planTree(at: ScopeRow, name: string, request: DeploymentRequest, call: ArmCall, preflight: boolean, secure?: Set<string>): Promise<PlanTree> {
    if (!at.rg) checkSubscriptionRequest(name, request);
    const target: DeploymentTarget = {
      subscriptionId: at.subscriptionId,
      tenantId: this.env.TENANT_ID,
      ...(at.rg ? { rg: at.rg } : { location: normalizeLocation(request.location as string) }),
      deploymentName: name,
      baseUrl: call.baseUrl,
    };
    // Template processing is CPU work bounded by the library's limits; it runs off the event loop with a time budget.
    const evaluated = await this.evaluation.process(request.template, request.parameters, deploymentContext(target), { collectSecure: secure !== undefined });
    for (const v of evaluated.secureValues) secure?.add(v);
    const plan = checkHostable(evaluated.plan, target);
    if (!preflight) return { plan, nested: [] };
    if (!at.rg) return { plan, nested: await this.nestedPlans(at, plan, call, secure) };
    const failures: { code: string; message: string; target?: string }[] = [];
    const active = plan.resources.filter((x) => x.condition && !isNestedDeploymentType(x.type));
    const planned = (type: string, resourceName: string) =>
      active.find((x) => x.type.toLowerCase() === type.toLowerCase() && x.name.toLowerCase() === resourceName.toLowerCase() && x.deferred.length === 0)?.body;
    for (const r of active.filter((x) => x.deferred.length === 0)) {
      try {
        await this.hosted.checkBody(at.rg.subscriptionId, at.rg.name, r.type, r.name, r.body, planned);
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
        [
          {
            code: 'PreflightValidationCheckFailed',
            message: 'Preflight validation failed. Please refer to the details for the specific errors.',
            details: failures,
          },
        ],
      );
    }
    return { plan, nested: await this.nestedPlans(at, plan, call, secure) };
  }

  /**
   * The group deployments of a plan's nested deployments, planned (with preflight) in their group, and theirs in
   * turn: the existing group, or at subscription scope the one the template declares (it is created before the nested
   * deployment runs). At resource group scope the group is the deployment's own unless `resourceGroup` names another,
   * which must exist. A nested deployment whose parameters wait for deploy-time values (reference()) is checked when
   * it runs.
   */
  private async nestedPlans(at: ScopeRow, plan: TemplatePlan, call: ArmCall, secure?: Set<string>): Promise<NestedPlan[]> {
    const out: NestedPlan[] = [];
    for (const r of plan.resources.filter((x) => x.condition && isNestedDeploymentType(x.type) && x.deferred.length === 0)) {
      const nested = nestedDeployment(plan, r);
      const existing = await this.existingGroup(at.subscriptionId, nested.resourceGroup);
      const declared = plan.resources.find((g) => g.condition && isResourceGroupType(g.type) && g.name.toLowerCase() === nested.resourceGroup.toLowerCase());
      if (!existing && !declared) throw ArmError.resourceGroupNotFound(nested.resourceGroup);
      const group = existing ?? {
        name: declared?.name ?? nested.resourceGroup,
        location: normalizeLocation(String(declared?.body['location'] ?? '')),
        tags: (declared?.body['tags'] ?? {}) as Record<string, string>,
      };
      const tree = await this.planTree(
        { subscriptionId: at.subscriptionId, rg: { ...group, subscriptionId: at.subscriptionId } as ResourceGroupEntity },
        nested.name,
        { template: nested.template, parameters: nested.parameters, mode: nested.mode },
        call,
        true,
        secure,
      );
      out.push({ nested, plan: tree.plan, existing }, ...tree.nested);
    }
    return out;
  }

  private async existingGroup(sub: string, name: string): Promise<ResourceGroupEntity | null> {
    return this.groupRows.findByName(this.db, sub, name);
  }
}

/** A subscription-scope deployment needs a location (ARM: InvalidDeployment) in a known region. */
function checkSubscriptionRequest(name: string, request: DeploymentRequest): void {
  if (typeof request.location !== 'string' || request.location.trim() === '') {
    throw ArmError.badRequest(
      'InvalidDeployment',
      `The 'location' property must be specified for '${name}'. Please see https://aka.ms/arm-deployment-subscription for usage details.`,
      'location',
    );
  }
  if (!locations.find(normalizeLocation(request.location))) {
    throw ArmError.badRequest(
      'LocationNotAvailableForDeployment',
      `The provided location '${request.location}' is not available for deployment. List of available regions is '${locations
        .list()
        .map((l) => l.name)
        .join(',')}'.`,
      'location',
    );
  }
  if (request.mode === 'Complete') {
    throw ArmError.badRequest(
      'InvalidDeploymentMode',
      `The deployment mode 'Complete' is not supported for deployments at subscription scope: use 'Incremental' (nested deployments into a resource group may use 'Complete').`,
      'properties.mode',
    );
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
