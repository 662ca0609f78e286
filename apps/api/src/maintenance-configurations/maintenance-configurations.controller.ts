import { ApiVersions, ApiVersionSet, decodeSkipToken, pageSizeOf, toPage } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { Body, Controller, Delete, Get, Param, Put, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { CLUSTER_ROUTE, ClusterPath } from '../clusters/routes';
import { ArmApiVersions } from '../common/api-version.guard';
import { Arm, ArmCall } from '../common/arm-request';
import { MaintenanceConfigurationBodyDto } from './dto/maintenance-configuration.dto';
import { MAINTENANCE_CONFIGURATION_TYPE, toMaintenanceConfiguration } from './maintenance-configuration.mapper';
import { MaintenanceConfigurationsService } from './maintenance-configurations.service';

const CONFIGS_ROUTE = `${CLUSTER_ROUTE}/maintenanceConfigurations`;
const CONFIG_ROUTE = `${CONFIGS_ROUTE}/:configName`;

interface ConfigPath extends ClusterPath {
  configName: string;
}

/** maintenanceConfigurations first appeared in api-version 2020-12-01. */
const MAINTENANCE_API_VERSIONS: ApiVersionSet = {
  ...ApiVersions.containerService,
  versions: new Set([...ApiVersions.containerService.versions].filter((v) => v.slice(0, 10) >= '2020-12-01')),
};

/** AKS MaintenanceConfigurations_ListByManagedCluster/Get/CreateOrUpdate/Delete (all synchronous). */
@Controller()
@ArmApiVersions(MAINTENANCE_API_VERSIONS, MAINTENANCE_CONFIGURATION_TYPE)
export class MaintenanceConfigurationsController {
  constructor(
    private readonly configs: MaintenanceConfigurationsService,
    private readonly env: Env,
  ) {}

  @Get(CONFIGS_ROUTE)
  async list(@Param() p: ClusterPath, @Arm() call: ArmCall) {
    const { found, configs } = await this.configs.list(p.subscriptionId, p.resourceGroupName, p.resourceName);
    const owner = { subscriptionId: found.cluster.subscriptionId, resourceGroup: found.rg.name, cluster: found.cluster.name };
    const offset = decodeSkipToken(call.query.$skipToken);
    const pageSize = pageSizeOf(call.query, this.env.PAGE_SIZE);
    return toPage(
      configs.slice(offset, offset + pageSize + 1).map((c) => toMaintenanceConfiguration(owner, c, call.apiVersion)),
      offset,
      { base: call.baseUrl, path: call.path, query: call.query, pageSize },
    );
  }

  @Get(CONFIG_ROUTE)
  async get(@Param() p: ConfigPath, @Arm() call: ArmCall) {
    const { found, config } = await this.configs.get(p.subscriptionId, p.resourceGroupName, p.resourceName, p.configName);
    return toMaintenanceConfiguration(
      { subscriptionId: found.cluster.subscriptionId, resourceGroup: found.rg.name, cluster: found.cluster.name },
      config,
      call.apiVersion,
    );
  }

  @Put(CONFIG_ROUTE)
  async put(@Param() p: ConfigPath, @Body() body: MaintenanceConfigurationBodyDto, @Arm() call: ArmCall, @Res({ passthrough: true }) reply: FastifyReply) {
    const r = await this.configs.createOrUpdate(p.subscriptionId, p.resourceGroupName, p.resourceName, p.configName, body ?? {}, call);
    reply.status(r.created ? 201 : 200);
    return toMaintenanceConfiguration(
      { subscriptionId: r.found.cluster.subscriptionId, resourceGroup: r.found.rg.name, cluster: r.found.cluster.name },
      r.config,
      call.apiVersion,
    );
  }

  @Delete(CONFIG_ROUTE)
  async delete(@Param() p: ConfigPath, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    const deleted = await this.configs.delete(p.subscriptionId, p.resourceGroupName, p.resourceName, p.configName);
    reply.status(deleted ? 200 : 204);
  }
}
