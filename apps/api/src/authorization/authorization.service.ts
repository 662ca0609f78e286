import { RoleAssignmentEntity } from '@cerulean/domain';
import { findRole, OWNER_ROLE_ID, rolePermits, scopeCovers, scopeWithinSubscription } from '@cerulean/identity';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { BootstrapPrincipal } from '../identity/bootstrap-principal';

/** The role assignments that apply to one principal, loaded once per request. */
export class PrincipalGrants {
  constructor(readonly assignments: readonly Pick<RoleAssignmentEntity, 'scope' | 'roleDefinitionId'>[]) {}

  /** Some assignment at or above `scope` has a role that grants `action` (actions minus notActions, per role). */
  permits(action: string, scope: string): boolean {
    return this.assignments.some((a) => {
      if (!scopeCovers(a.scope, scope)) return false;
      const role = findRole(a.roleDefinitionId);
      return role !== undefined && rolePermits(role, action);
    });
  }

  /** The principal holds some role in the subscription (at the root, on it, or anywhere inside it). */
  memberOf(subscriptionId: string): boolean {
    return this.assignments.some((a) => scopeWithinSubscription(a.scope, subscriptionId));
  }
}

export const normalizeScope = (scope: string): string => (scope === '/' || scope === '' ? '/' : scope.replace(/\/+$/, '').toLowerCase());

/** Who may do what, from the role assignments in Postgres (no cache: a new assignment applies at once). */
@Injectable()
export class AuthorizationService implements OnModuleInit {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly bootstrap: BootstrapPrincipal,
  ) {}

  onModuleInit(): void {
    // The bootstrap principal is Owner at the root scope, on every start (idempotent).
    this.bootstrap.addHook(async (principal, db) => {
      await db.query(
        `INSERT INTO role_assignments (id, scope, scope_key, role_definition_id, principal_id, principal_type, description, created_by)
         VALUES (gen_random_uuid(), '/', '/', $1, $2, 'ServicePrincipal', 'Cerulean bootstrap administrator', 'cerulean')
         ON CONFLICT (scope_key, role_definition_id, principal_id) DO NOTHING`,
        [OWNER_ROLE_ID, principal.id],
      );
    });
  }

  async grantsOf(principalId: string): Promise<PrincipalGrants> {
    const rows = await this.db.find(RoleAssignmentEntity, { where: { principalId }, select: { scope: true, roleDefinitionId: true } });
    return new PrincipalGrants(rows);
  }
}
