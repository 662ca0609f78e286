import { ApiVersions, ResourceTypes } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { POOL_ROUTE, PoolPath } from '../clusters/routes';
import { ArmApiVersions } from '../common/api-version.guard';
import { Arm, ArmCall } from '../common/arm-request';
import { setOperationHeaders } from '../common/lro-reply';
import { DeleteMachinesService } from './delete-machines.service';
import { DeleteMachinesDto } from './dto/delete-machines.dto';

/** AKS AgentPools_DeleteMachines: 202 with Azure-AsyncOperation + Location (final-state-via azure-async-operation). */
@Controller()
@ArmApiVersions(ApiVersions.containerService, ResourceTypes.agentPools)
export class DeleteMachinesController {
  constructor(
    private readonly service: DeleteMachinesService,
    private readonly env: Env,
  ) {}

  @Post(`${POOL_ROUTE}/deleteMachines`)
  @HttpCode(202)
  async deleteMachines(
    @Param() p: PoolPath,
    @Body() body: DeleteMachinesDto,
    @Arm() call: ArmCall,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    const op = await this.service.deleteMachines(p.subscriptionId, p.resourceGroupName, p.resourceName, p.agentPoolName, body.machineNames, call);
    setOperationHeaders(reply, call, op, this.env.RETRY_AFTER_SECONDS);
  }
}
