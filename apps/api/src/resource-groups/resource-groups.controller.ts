import { decodeSkipToken, pageSizeOf, resourcesResultUrl, toPage } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { Body, Controller, Delete, Get, Head, HttpCode, Param, Patch, Put, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Arm, ArmCall } from '../common/arm-request';
import { toResourceGroup } from './resource-group.mapper';
import { ResourceGroupBody, ResourceGroupsService } from './resource-groups.service';

@Controller('subscriptions/:subscriptionId')
export class ResourceGroupsController {
  constructor(
    private readonly groups: ResourceGroupsService,
    private readonly env: Env,
  ) {}

  @Get('resourceGroups')
  async list(@Param('subscriptionId') sub: string, @Arm() call: ArmCall) {
    const offset = decodeSkipToken(call.query.$skipToken);
    const pageSize = pageSizeOf(call.query, this.env.PAGE_SIZE);
    const rows = await this.groups.list(sub, offset, pageSize + 1);
    return toPage(rows.map(toResourceGroup), offset, { base: call.baseUrl, path: call.path, query: call.query, pageSize });
  }

  @Put('resourceGroups/:resourceGroupName')
  async put(
    @Param('subscriptionId') sub: string,
    @Param('resourceGroupName') name: string,
    @Body() body: ResourceGroupBody | undefined,
    @Arm() call: ArmCall,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { rg, created } = await this.groups.createOrUpdate(sub, name, body ?? {}, call);
    reply.status(created ? 201 : 200);
    return toResourceGroup(rg);
  }

  @Get('resourceGroups/:resourceGroupName')
  async get(@Param('subscriptionId') sub: string, @Param('resourceGroupName') name: string) {
    return toResourceGroup(await this.groups.get(sub, name));
  }

  /** HEAD answers 204 when the group exists and 404 when it does not (ResourceGroups_CheckExistence). */
  @Head('resourceGroups/:resourceGroupName')
  @HttpCode(204)
  async head(@Param('subscriptionId') sub: string, @Param('resourceGroupName') name: string): Promise<void> {
    await this.groups.get(sub, name);
  }

  @Patch('resourceGroups/:resourceGroupName')
  async patch(
    @Param('subscriptionId') sub: string,
    @Param('resourceGroupName') name: string,
    @Body() body: ResourceGroupBody | undefined,
    @Arm() call: ArmCall,
  ) {
    return toResourceGroup(await this.groups.update(sub, name, body ?? {}, call.caller, call.receivedAt));
  }

  /** 202 + Location (Microsoft.Resources style); the result URL answers 202 until the group is gone, then 200. */
  @Delete('resourceGroups/:resourceGroupName')
  async delete(
    @Param('subscriptionId') sub: string,
    @Param('resourceGroupName') name: string,
    @Arm() call: ArmCall,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    const op = await this.groups.delete(sub, name, call);
    reply.status(202);
    reply.header('Location', resourcesResultUrl(call.baseUrl, op.subscriptionId, op.id, call.apiVersion));
    reply.header('Retry-After', String(this.env.RETRY_AFTER_SECONDS));
  }
}
