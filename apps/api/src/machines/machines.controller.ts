import { ApiVersions, decodeSkipToken, toPage, pageSizeOf } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { Controller, Get, Param } from '@nestjs/common';
import { POOL_ROUTE, PoolPath } from '../clusters/routes';
import { ArmApiVersions } from '../common/api-version.guard';
import { Arm, ArmCall } from '../common/arm-request';
import { MACHINE_TYPE } from './machine.mapper';
import { MachinesService } from './machines.service';

/** AKS Machines_List and Machines_Get (`agentPools/{pool}/machines[/{machineName}]`). */
@Controller()
@ArmApiVersions(ApiVersions.containerService, MACHINE_TYPE)
export class MachinesController {
  constructor(
    private readonly machines: MachinesService,
    private readonly env: Env,
  ) {}

  @Get(`${POOL_ROUTE}/machines`)
  async list(@Param() p: PoolPath, @Arm() call: ArmCall) {
    const all = await this.machines.list(p.subscriptionId, p.resourceGroupName, p.resourceName, p.agentPoolName);
    const offset = decodeSkipToken(call.query.$skipToken);
    const pageSize = pageSizeOf(call.query, this.env.PAGE_SIZE);
    return toPage(all.slice(offset, offset + pageSize + 1), offset, { base: call.baseUrl, path: call.path, query: call.query, pageSize });
  }

  @Get(`${POOL_ROUTE}/machines/:machineName`)
  get(@Param() p: PoolPath & { machineName: string }) {
    return this.machines.get(p.subscriptionId, p.resourceGroupName, p.resourceName, p.agentPoolName, p.machineName);
  }
}
