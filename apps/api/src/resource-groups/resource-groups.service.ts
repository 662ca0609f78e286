import {
  ArmError,
  Caller,
  assertResourceGroupName,
  assertSubscriptionId,
  createdSystemData,
  modifiedSystemData,
  parseTags,
  resourceGroupId,
  Tags,
} from '@cerulean/arm';
import { LocationCatalog, normalizeLocation } from '@cerulean/catalog';
import {
  ClusterRepository,
  OperationEntity,
  OperationKind,
  OperationRepository,
  ProvisioningState,
  ResourceGroupEntity,
  ResourceGroupRepository,
} from '@cerulean/domain';
import { OperationStarter } from '@cerulean/queue-contracts';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { ArmCall } from '../common/arm-request';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';

export interface ResourceGroupBody {
  location?: unknown;
  tags?: unknown;
  managedBy?: unknown;
}

const locations = new LocationCatalog();

/** ARM code for a write into a group that is being deleted. */
export const resourceGroupBeingDeleted = (name: string): ArmError =>
  ArmError.conflict('ResourceGroupBeingDeleted', `The resource group '${name}' is in deprovisioning state and cannot perform this operation.`);

@Injectable()
export class ResourceGroupsService {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly subscriptions: SubscriptionsService,
    private readonly groups: ResourceGroupRepository,
    private readonly clusters: ClusterRepository,
    private readonly operations: OperationRepository,
    private readonly starter: OperationStarter,
  ) {}

  /** Finds a group by name, case-insensitively (R1.2); 404 ResourceGroupNotFound when absent. */
  async get(subscriptionId: string, name: string, tx: EntityManager = this.db, lock = false): Promise<ResourceGroupEntity> {
    assertResourceGroupName(name);
    assertSubscriptionId(subscriptionId);
    // One query on the hit path (every request under a group): a group exists only in an existing subscription.
    const rg = await this.groups.findByName(tx, subscriptionId, name, lock);
    if (rg) return rg;
    await this.subscriptions.get(subscriptionId, tx); // a missing subscription is reported as such
    throw ArmError.resourceGroupNotFound(name);
  }

  async list(subscriptionId: string, offset: number, limit: number): Promise<ResourceGroupEntity[]> {
    const sub = await this.subscriptions.get(subscriptionId);
    return this.groups.list(this.db, sub.id, { offset, limit });
  }

  async createOrUpdate(subscriptionId: string, name: string, body: ResourceGroupBody, call: ArmCall): Promise<{ rg: ResourceGroupEntity; created: boolean }> {
    assertResourceGroupName(name);
    if (typeof body.location !== 'string' || body.location.trim() === '') {
      throw ArmError.badRequest('LocationRequired', 'The location property is required for this definition.', 'location');
    }
    const location = normalizeLocation(body.location);
    if (!locations.find(location)) {
      throw ArmError.badRequest(
        'LocationNotAvailableForResourceGroup',
        `The provided location '${body.location}' is not available for resource group. List of available regions is '${locations
          .list()
          .map((l) => l.name)
          .join(',')}'.`,
        'location',
      );
    }
    const tags = parseTags(body.tags);
    const managedBy = typeof body.managedBy === 'string' ? body.managedBy : null;
    return this.db.transaction(async (tx) => {
      const sub = await this.subscriptions.get(subscriptionId, tx);
      const existing = await this.groups.findByName(tx, sub.id, name, true);
      if (existing) {
        if (existing.provisioningState === ProvisioningState.Deleting) throw resourceGroupBeingDeleted(existing.name);
        if (existing.location !== location) {
          throw ArmError.badRequest(
            'InvalidResourceGroupLocation',
            `Invalid resource group location '${location}'. The Resource group already exists in location '${existing.location}'.`,
            'location',
          );
        }
        existing.name = name;
        existing.tags = tags;
        existing.managedBy = managedBy;
        existing.systemData = modifiedSystemData(existing.systemData, call.caller, call.receivedAt);
        return { rg: await this.groups.save(tx, existing), created: false };
      }
      const rg = await this.groups.create(tx, {
        subscriptionId: sub.id,
        name,
        nameKey: name.toLowerCase(),
        location,
        tags,
        managedBy,
        provisioningState: ProvisioningState.Succeeded,
        systemData: createdSystemData(call.caller, call.receivedAt),
      });
      return { rg, created: true };
    });
  }

  async update(subscriptionId: string, name: string, body: ResourceGroupBody, caller: Caller, at: Date): Promise<ResourceGroupEntity> {
    return this.db.transaction(async (tx) => {
      const rg = await this.get(subscriptionId, name, tx, true);
      if (rg.provisioningState === ProvisioningState.Deleting) throw resourceGroupBeingDeleted(rg.name);
      if (body.tags !== undefined) rg.tags = parseTags(body.tags) as Tags;
      if (body.managedBy !== undefined) rg.managedBy = typeof body.managedBy === 'string' ? body.managedBy : null;
      rg.systemData = modifiedSystemData(rg.systemData, caller, at);
      return this.groups.save(tx, rg);
    });
  }

  /**
   * Deleting a group deletes every cluster in it (R8.5): they show Deleting at once, any operation running on
   * them is canceled, and the worker tears them down before removing the group.
   */
  async delete(subscriptionId: string, name: string, call: ArmCall): Promise<OperationEntity> {
    const { operation } = await this.starter.run(async (tx) => {
      const rg = await this.get(subscriptionId, name, tx, true);
      const lockKey = `rg:${rg.id}`;
      if (rg.provisioningState === ProvisioningState.Deleting) {
        const running = await this.operations.findInProgress(tx, lockKey);
        if (running) return { operation: running }; // R14.2: deleting twice points at the same operation
      }
      rg.provisioningState = ProvisioningState.Deleting;
      await this.groups.save(tx, rg);
      const ids = (await this.clusters.listInGroup(tx, rg.id, true)).map((c) => c.id);
      await this.clusters.update(tx, ids, { provisioningState: ProvisioningState.Deleting });
      await this.operations.cancelOnClusters(tx, ids, {
        code: 'ResourceGroupDeleted',
        message: `The operation was canceled because resource group '${rg.name}' is being deleted.`,
      });
      const started = await this.starter.start(
        tx,
        {
          subscriptionId: rg.subscriptionId,
          location: rg.location,
          kind: OperationKind.ResourceGroupDelete,
          resourceId: resourceGroupId(rg.subscriptionId, rg.name),
          resourceGroupId: rg.id,
          lockKey,
        },
        call,
        (running) => ArmError.conflict('Conflict', `The resource group '${rg.name}' is already being deleted (operation ${running.id}).`),
      );
      return { operation: started };
    });
    return operation;
  }
}
