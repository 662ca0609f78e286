import { ArmError, isGuid } from '@cerulean/arm';
import { RoleAssignmentEntity, ServicePrincipalEntity, isUniqueViolation } from '@cerulean/domain';
import { findRole, scopeCovers } from '@cerulean/identity';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { ClustersService } from '../clusters/clusters.service';
import { ResourceGroupsService } from '../resource-groups/resource-groups.service';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';
import { AuthorizationService, normalizeScope } from './authorization.service';

const ROLE_DEFINITION_ID = /^(?:\/subscriptions\/[^/]+)?\/providers\/Microsoft\.Authorization\/roleDefinitions\/([^/]+)$/i;

/** `{scope}/providers/Microsoft.Authorization/{type}` with the scope's own prefix ('' for the root). */
export const scopePrefix = (scope: string): string => (scope === '/' ? '' : scope.replace(/\/+$/, ''));
const subscriptionOf = (scope: string): string | undefined => /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1];

/** The role definition id as Azure writes it for a scope: under the subscription, or tenant-level at the root. */
export const roleDefinitionIdFor = (scope: string, roleId: string): string => {
  const sub = subscriptionOf(scope);
  return `${sub ? `/subscriptions/${sub}` : ''}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
};

export function toRoleAssignment(a: RoleAssignmentEntity) {
  return {
    id: `${scopePrefix(a.scope)}/providers/Microsoft.Authorization/roleAssignments/${a.id}`,
    name: a.id,
    type: 'Microsoft.Authorization/roleAssignments',
    properties: {
      roleDefinitionId: roleDefinitionIdFor(a.scope, a.roleDefinitionId),
      principalId: a.principalId,
      principalType: a.principalType,
      scope: a.scope,
      condition: null,
      conditionVersion: null,
      description: a.description,
      createdOn: a.createdAt.toISOString(),
      updatedOn: a.createdAt.toISOString(),
      createdBy: a.createdBy,
      updatedBy: a.createdBy,
      delegatedManagedIdentityResourceId: null,
    },
  };
}

export interface AssignmentInput {
  roleDefinitionId?: unknown;
  principalId?: unknown;
  principalType?: unknown;
  description?: unknown;
}

/** Microsoft.Authorization/roleAssignments at the root, subscription, resource group and resource scopes. */
/** A validated role-assignment PUT, ready to insert. */
interface NewAssignment {
  scope: string;
  name: string;
  roleId: string;
  principalId: string;
  description: string | undefined;
  createdBy: string;
}

@Injectable()
export class RoleAssignmentsService {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly subscriptions: SubscriptionsService,
    private readonly groups: ResourceGroupsService,
    private readonly clusters: ClustersService,
    private readonly authz: AuthorizationService,
  ) {}

  /** The scope must exist: its subscription, its resource group, and a managed cluster it names. */
  async assertScopeExists(scope: string): Promise<void> {
    if (scope === '/') return;
    const m = /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+)(?:\/providers\/([^/]+)\/([^/]+)\/([^/]+)(?:\/.*)?)?)?$/i.exec(scope);
    if (!m) throw ArmError.badRequest('InvalidScope', `The scope '${scope}' is not valid.`);
    await this.subscriptions.get(m[1]);
    if (m[2] === undefined) return;
    await this.groups.get(m[1], m[2]);
    if (m[3] !== undefined && m[3].toLowerCase() === 'microsoft.containerservice' && m[4].toLowerCase() === 'managedclusters') {
      await this.clusters.get(m[1], m[2], m[5]);
    }
  }

  async get(scope: string, name: string): Promise<RoleAssignmentEntity> {
    const found = isGuid(name) ? await this.db.findOneBy(RoleAssignmentEntity, { id: name.toLowerCase(), scopeKey: normalizeScope(scope) }) : null;
    if (!found) throw ArmError.notFound('RoleAssignmentNotFound', `The role assignment '${name}' is not found.`);
    return found;
  }

  async create(scope: string, name: string, input: AssignmentInput, createdBy: string): Promise<{ created: boolean; assignment: RoleAssignmentEntity }> {
    if (!isGuid(name))
      throw ArmError.badRequest('InvalidRoleAssignmentId', `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`);
    const defId = typeof input.roleDefinitionId === 'string' ? ROLE_DEFINITION_ID.exec(input.roleDefinitionId.trim())?.[1] : undefined;
    if (typeof input.roleDefinitionId !== 'string' || input.roleDefinitionId.trim() === '') {
      throw ArmError.badRequest('InvalidRoleDefinitionId', 'The role definition ID (properties.roleDefinitionId) is required.');
    }
    const role = defId ? findRole(defId) : undefined;
    if (!role)
      throw ArmError.badRequest('RoleDefinitionDoesNotExist', `The specified role definition with ID '${defId ?? input.roleDefinitionId}' does not exist.`);
    if (typeof input.principalId !== 'string' || !isGuid(input.principalId)) {
      throw ArmError.badRequest('InvalidPrincipalId', 'A valid principal ID (a GUID, properties.principalId) must be provided to create a role assignment.');
    }
    if (input.principalType !== undefined && input.principalType !== null && input.principalType !== 'ServicePrincipal') {
      throw ArmError.badRequest(
        'UnmatchedPrincipalType',
        `The principal type '${String(input.principalType)}' does not match the principal '${input.principalId}', a ServicePrincipal.`,
      );
    }
    if (input.description !== undefined && input.description !== null && typeof input.description !== 'string') {
      throw ArmError.invalidParameter('properties.description', 'properties.description must be a string.');
    }
    await this.assertScopeExists(scope);
    const principalId = input.principalId.toLowerCase();
    const row: NewAssignment = { scope, name, roleId: role.id, principalId, description: input.description as string | undefined, createdBy };
    const result = await this.insertOnce(row).catch((err: unknown) => {
      // A concurrent PUT inserted the same name (or the same scope, role and principal) between our read and our
      // insert: the row lock cannot cover a row that did not exist yet. Once more, that request's row answers.
      if (isUniqueViolation(err)) return this.insertOnce(row);
      throw err;
    });
    // Postgres announces it to every API process; this one drops it now, for the caller's very next request.
    if (result.created) this.authz.changed(principalId);
    return result;
  }

  private insertOnce({
    scope,
    name,
    roleId,
    principalId,
    description,
    createdBy,
  }: NewAssignment): Promise<{ created: boolean; assignment: RoleAssignmentEntity }> {
    return this.db.transaction(async (tx) => {
      if (!(await tx.findOneBy(ServicePrincipalEntity, { id: principalId }))) {
        throw ArmError.badRequest('PrincipalNotFound', `Principal ${principalId.replace(/-/g, '')} does not exist in the directory.`);
      }
      const existing = await tx.findOne(RoleAssignmentEntity, { where: { id: name.toLowerCase() }, lock: { mode: 'pessimistic_write' } });
      if (existing) {
        if (existing.scopeKey === normalizeScope(scope) && existing.roleDefinitionId === roleId && existing.principalId === principalId) {
          return { created: false, assignment: existing };
        }
        throw ArmError.conflict('RoleAssignmentUpdateNotPermitted', 'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.');
      }
      const twin = await tx.findOneBy(RoleAssignmentEntity, { scopeKey: normalizeScope(scope), roleDefinitionId: roleId, principalId });
      // Each statement sees what committed before it: a concurrent PUT of this very assignment may have committed
      // between the lookup by name above and this one. It is the same assignment, not a twin.
      if (twin?.id === name.toLowerCase()) return { created: false, assignment: twin };
      if (twin)
        throw ArmError.conflict(
          'RoleAssignmentExists',
          `The role assignment already exists. The ID of the existing role assignment is ${twin.id.replace(/-/g, '')}.`,
        );
      const assignment = tx.create(RoleAssignmentEntity, {
        id: name.toLowerCase(),
        scope: scope === '/' ? '/' : scope.replace(/\/+$/, ''),
        scopeKey: normalizeScope(scope),
        roleDefinitionId: roleId,
        principalId,
        principalType: 'ServicePrincipal',
        description: description ?? null,
        createdBy,
      });
      await tx.insert(RoleAssignmentEntity, assignment);
      return { created: true, assignment: await tx.findOneByOrFail(RoleAssignmentEntity, { id: assignment.id }) };
    });
  }

  /** Deletes and returns the assignment; undefined when there was none (the caller answers 204). */
  async delete(scope: string, name: string): Promise<RoleAssignmentEntity | undefined> {
    if (!isGuid(name)) return undefined;
    const found = await this.db.findOneBy(RoleAssignmentEntity, { id: name.toLowerCase(), scopeKey: normalizeScope(scope) });
    if (!found) return undefined;
    await this.db.delete(RoleAssignmentEntity, { id: found.id });
    this.authz.changed(found.principalId);
    return found;
  }

  /**
   * Azure's list for a scope: the assignments that apply there (at or above it) and those below it;
   * `$filter=atScope()` keeps the ones at or above, `principalId eq '<id>'` / `assignedTo('<id>')` one principal's.
   */
  async list(scope: string, filter: string | undefined): Promise<RoleAssignmentEntity[]> {
    const f = parseFilter(filter);
    const all = await this.db.find(RoleAssignmentEntity, {
      where: f.principalId ? { principalId: f.principalId } : {},
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return all.filter((a) => scopeCovers(a.scope, scope) || (!f.atScope && scopeCovers(scope, a.scope)));
  }
}

export function parseFilter(filter: string | undefined): { atScope: boolean; principalId?: string } {
  if (filter === undefined || filter.trim() === '') return { atScope: false };
  const out: { atScope: boolean; principalId?: string } = { atScope: false };
  for (const clause of filter.split(/\s+and\s+/i)) {
    const c = clause.trim();
    let m: RegExpExecArray | null;
    if (/^atScope\(\)$/i.test(c)) out.atScope = true;
    else if ((m = /^(?:principalId\s+eq\s+|assignedTo\()'([0-9a-f-]{36})'\)?$/i.exec(c))) out.principalId = m[1].toLowerCase();
    else
      throw ArmError.badRequest(
        'InvalidFilterParameter',
        `The filter '${filter}' is not supported. Supported filters are atScope(), principalId eq '{id}' and assignedTo('{id}').`,
      );
  }
  return out;
}
