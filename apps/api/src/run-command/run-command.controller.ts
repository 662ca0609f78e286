import { absoluteUrl, ApiVersions, ResourceTypes } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { Body, Controller, Get, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ArmApiVersions } from '../common/api-version.guard';
import { Arm, ArmCall } from '../common/arm-request';
import { RunCommandResultBody, toRunCommandResult } from './command-result.mapper';
import { RunCommandRequestDto } from './dto/run-command-request.dto';
import { RunCommandService } from './run-command.service';
import { CLUSTER_ROUTE, ClusterPath } from '../clusters/routes';

/**
 * AKS run command (R10.5): POST answers 202 with `Location` on `commandResults/{id}`, which answers 202 with
 * the RunCommandResult so far (provisioningState `pending`/`running`) while the command runs and then 200 with
 * the ended RunCommandResult (final-state-via: location). Like the
 * AKS example, there is no Azure-AsyncOperation: the result resource is the status.
 */
@Controller()
@ArmApiVersions(ApiVersions.containerService, ResourceTypes.managedClusters)
export class RunCommandController {
  constructor(
    private readonly commands: RunCommandService,
    private readonly env: Env,
  ) {}

  @Post(`${CLUSTER_ROUTE}/runCommand`)
  async run(@Param() p: ClusterPath, @Body() body: RunCommandRequestDto, @Arm() call: ArmCall, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    const accepted = await this.commands.run(p.subscriptionId, p.resourceGroupName, p.resourceName, body, call);
    this.accepted(reply, call, accepted.path);
  }

  @Get(`${CLUSTER_ROUTE}/commandResults/:commandId`)
  async result(
    @Param() p: ClusterPath & { commandId: string },
    @Arm() call: ArmCall,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RunCommandResultBody> {
    const found = await this.commands.get(p.subscriptionId, p.resourceGroupName, p.resourceName, p.commandId);
    if (found.running) {
      // AKS answers the 202 with the command's body as it stands: az's run-command poller reads
      // properties.provisioningState from every poll and fails on an empty body.
      this.accepted(reply, call, found.path);
      return toRunCommandResult(found.row);
    }
    return toRunCommandResult(found.result);
  }

  private accepted(reply: FastifyReply, call: ArmCall, path: string): void {
    reply
      .status(202)
      .header('Location', absoluteUrl(call.baseUrl, path, { 'api-version': call.apiVersion }))
      .header('Retry-After', String(this.env.RETRY_AFTER_SECONDS));
  }
}
