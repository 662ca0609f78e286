import { ArmError, assertGenericName, createdSystemData, modifiedSystemData } from '@cerulean/arm';
import { ClusterWithPools, MaintenanceConfigurationEntity, ProvisioningState } from '@cerulean/domain';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { ClustersService } from '../clusters/clusters.service';
import { ArmCall } from '../common/arm-request';
import { resourceGroupBeingDeleted } from '../resource-groups/resource-groups.service';
import { MaintenanceConfigurationBodyDto } from './dto/maintenance-configuration.dto';
import { MAINTENANCE_CONFIGURATION_TYPE } from './maintenance-configuration.mapper';
import { assertConfigName, resolveMaintenanceConfiguration } from './maintenance-configuration-rules';

/** JSON with object keys sorted: jsonb hands objects back in its own key order, not the order they were written in. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

export interface ConfigsOfCluster {
  found: ClusterWithPools;
  configs: MaintenanceConfigurationEntity[];
}

/**
 * MaintenanceConfigurations_*: synchronous proxy resources under a cluster, stored in Postgres. They are kept
 * and served as AKS accepts them; no scheduler acts on them yet (auto-upgrade windows are future work).
 */
@Injectable()
export class MaintenanceConfigurationsService {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly clusters: ClustersService,
  ) {}

  async list(sub: string, rg: string, clusterName: string): Promise<ConfigsOfCluster> {
    const found = await this.clusters.get(sub, rg, clusterName);
    const configs = await this.db.find(MaintenanceConfigurationEntity, { where: { clusterId: found.cluster.id }, order: { createdAt: 'ASC' } });
    return { found, configs };
  }

  async get(sub: string, rg: string, clusterName: string, name: string): Promise<ConfigsOfCluster & { config: MaintenanceConfigurationEntity }> {
    assertGenericName(name, 'configName');
    const found = await this.clusters.get(sub, rg, clusterName);
    const config = await this.db.findOne(MaintenanceConfigurationEntity, { where: { clusterId: found.cluster.id, nameKey: name.toLowerCase() } });
    if (!config) throw ArmError.resourceNotFound(MAINTENANCE_CONFIGURATION_TYPE, `${found.cluster.name}/${name}`, found.rg.name);
    return { found, configs: [config], config };
  }

  /** PUT: create (201) or replace (200) at once; the cluster row lock orders concurrent PUTs of one name. */
  async createOrUpdate(
    sub: string,
    rgName: string,
    clusterName: string,
    name: string,
    body: MaintenanceConfigurationBodyDto,
    call: ArmCall,
  ): Promise<{ found: ClusterWithPools; config: MaintenanceConfigurationEntity; created: boolean }> {
    assertGenericName(name, 'configName');
    const known = assertConfigName(name);
    return this.db.transaction(async (tx) => {
      const found = await this.clusters.get(sub, rgName, clusterName, tx, true);
      const { rg, cluster } = found;
      if (rg.provisioningState === ProvisioningState.Deleting) throw resourceGroupBeingDeleted(rg.name);
      if (cluster.provisioningState === ProvisioningState.Deleting) {
        throw ArmError.conflict('OperationNotAllowed', `Managed cluster '${cluster.name}' is being deleted.`);
      }
      const existing = await tx.findOne(MaintenanceConfigurationEntity, { where: { clusterId: cluster.id, nameKey: known.toLowerCase() } });
      const createdAt = existing ? new Date(existing.systemData.createdAt) : call.receivedAt;
      const properties = resolveMaintenanceConfiguration(known, body, createdAt) as Record<string, unknown>;
      const config = existing
        ? Object.assign(existing, {
            name,
            properties,
            // R5.5: lastModified* move only when the configuration changes, not on a PUT of the same body.
            systemData:
              canonicalJson(properties) === canonicalJson(existing.properties)
                ? existing.systemData
                : modifiedSystemData(existing.systemData, call.caller, call.receivedAt),
          })
        : tx.create(MaintenanceConfigurationEntity, {
            clusterId: cluster.id,
            name,
            nameKey: known.toLowerCase(),
            properties,
            systemData: createdSystemData(call.caller, call.receivedAt),
          });
      return { found, config: await tx.save(config), created: !existing };
    });
  }

  /** DELETE: 200 when it was there, 204 when not (the cluster must exist). */
  async delete(sub: string, rgName: string, clusterName: string, name: string): Promise<boolean> {
    assertGenericName(name, 'configName');
    const found = await this.clusters.get(sub, rgName, clusterName);
    const result = await this.db.delete(MaintenanceConfigurationEntity, { clusterId: found.cluster.id, nameKey: name.toLowerCase() });
    return (result.affected ?? 0) > 0;
  }
}
