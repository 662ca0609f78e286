import { ApiVersions } from '@cerulean/arm';
import { BUILT_IN_ROLES, findRole, RoleDefinition } from '@cerulean/identity';
import { Body, Controller, Delete, Get, Put, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ArmApiVersions } from '../common/api-version.guard';
import { Arm, ArmCall } from '../common/arm-request';
import { servedScope } from '../common/served-route';
import { roleDefinitionIdFor, RoleAssignmentsService, toRoleAssignment } from './role-assignments.service';
import { ArmError } from '@cerulean/arm';

/** The scopes Microsoft.Authorization resources hang under: root, subscription, resource group, resource, child resource. */
const SCOPES = [
  '',
  'subscriptions/:subscriptionId',
  'subscriptions/:subscriptionId/resourceGroups/:resourceGroupName',
  'subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/:namespace/:type/:name',
  'subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/:namespace/:type/:name/:childType/:childName',
];
const routes = (suffix: string): string[] => SCOPES.map((s) => `${s}${s ? '/' : ''}providers/Microsoft.Authorization/${suffix}`);

/** The scope a request's role assignment or definition hangs under, from the served route's parameters. */
export const scopeOf = (req: FastifyRequest): string => servedScope(req, '/providers/Microsoft.Authorization/');

/** Microsoft.Authorization/roleAssignments: PUT/GET/DELETE one, list at a scope (with Azure's $filter forms). */
@Controller()
@ArmApiVersions(ApiVersions.authorization, 'Microsoft.Authorization/roleAssignments')
export class RoleAssignmentsController {
  constructor(private readonly assignments: RoleAssignmentsService) {}

  @Get(routes('roleAssignments'))
  async list(@Req() req: FastifyRequest, @Query('$filter') filter: string | undefined) {
    const scope = scopeOf(req);
    await this.assignments.assertScopeExists(scope);
    return { value: (await this.assignments.list(scope, filter)).map(toRoleAssignment) };
  }

  @Get(routes('roleAssignments/:roleAssignmentName'))
  async get(@Req() req: FastifyRequest) {
    return toRoleAssignment(await this.assignments.get(scopeOf(req), nameOf(req)));
  }

  @Put(routes('roleAssignments/:roleAssignmentName'))
  async put(@Req() req: FastifyRequest, @Body() body: unknown, @Arm() call: ArmCall, @Res({ passthrough: true }) reply: FastifyReply) {
    const props = body && typeof body === 'object' ? (body as { properties?: unknown }).properties : undefined;
    if (!props || typeof props !== 'object') throw ArmError.badRequest('InvalidRequestContent', "The request content must be an object with 'properties'.");
    const r = await this.assignments.create(scopeOf(req), nameOf(req), props, call.caller.id);
    reply.status(r.created ? 201 : 200);
    return toRoleAssignment(r.assignment);
  }

  @Delete(routes('roleAssignments/:roleAssignmentName'))
  async delete(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const deleted = await this.assignments.delete(scopeOf(req), nameOf(req));
    if (!deleted) {
      reply.status(204);
      return undefined;
    }
    return toRoleAssignment(deleted);
  }
}

const nameOf = (req: FastifyRequest): string => (req.params as { roleAssignmentName?: string; roleDefinitionId?: string }).roleAssignmentName ?? '';

export function toRoleDefinition(scope: string, role: RoleDefinition) {
  return {
    id: roleDefinitionIdFor(scope, role.id),
    name: role.id,
    type: 'Microsoft.Authorization/roleDefinitions',
    properties: {
      roleName: role.roleName,
      type: 'BuiltInRole',
      description: role.description,
      assignableScopes: ['/'],
      permissions: [{ actions: [...role.actions], notActions: [...role.notActions], dataActions: [], notDataActions: [] }],
      createdOn: null,
      updatedOn: null,
      createdBy: null,
      updatedBy: null,
    },
  };
}

/** Microsoft.Authorization/roleDefinitions: Azure's built-in roles, at any scope (read only). */
@Controller()
@ArmApiVersions(ApiVersions.authorization, 'Microsoft.Authorization/roleDefinitions')
export class RoleDefinitionsController {
  constructor(private readonly assignments: RoleAssignmentsService) {}

  @Get(routes('roleDefinitions'))
  async list(@Req() req: FastifyRequest, @Query('$filter') filter: string | undefined) {
    const scope = scopeOf(req);
    await this.assignments.assertScopeExists(scope);
    let roles = [...BUILT_IN_ROLES];
    if (filter !== undefined && filter.trim() !== '') {
      const m = /^\s*roleName\s+eq\s+'([^']*)'\s*$/i.exec(filter);
      const t = /^\s*type\s+eq\s+'([^']*)'\s*$/i.exec(filter);
      if (m) roles = roles.filter((r) => r.roleName.toLowerCase() === m[1].toLowerCase());
      else if (t) roles = t[1].toLowerCase() === 'builtinrole' ? roles : [];
      else
        throw ArmError.badRequest(
          'InvalidFilterParameter',
          `The filter '${filter}' is not supported. Supported filters are roleName eq '{name}' and type eq 'BuiltInRole'.`,
        );
    }
    return { value: roles.map((r) => toRoleDefinition(scope, r)) };
  }

  @Get(routes('roleDefinitions/:roleDefinitionId'))
  async get(@Req() req: FastifyRequest) {
    const scope = scopeOf(req);
    const id = (req.params as { roleDefinitionId: string }).roleDefinitionId;
    const role = findRole(id);
    if (!role) throw ArmError.notFound('RoleDefinitionDoesNotExist', `The specified role definition with ID '${id}' does not exist.`);
    return toRoleDefinition(scope, role);
  }
}
