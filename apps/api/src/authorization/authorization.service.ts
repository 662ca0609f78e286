import { databaseUrl, Env } from '@cerulean/config';
import { PgChannelListener, RoleAssignmentEntity } from '@cerulean/domain';
import { findRole, OWNER_ROLE_ID, rolePermits, scopeCovers, scopeWithinSubscription } from '@cerulean/identity';
import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { BootstrapPrincipal } from '../identity/bootstrap-principal.service';

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

/** Postgres announces every role assignment change here (migration RoleAssignmentsNotify). */
export const ROLE_ASSIGNMENTS_CHANNEL = 'cerulean_role_assignments';
const MAX_CACHED_PRINCIPALS = 10_000;

/**
 * Who may do what, from the role assignments in Postgres. Each principal's grants are cached in this process
 * while a LISTEN on ROLE_ASSIGNMENTS_CHANNEL is in place, and dropped when Postgres announces a change to that
 * principal's assignments (any writer, any API process). A change made through this process is also dropped
 * at once (`changed`), so the next request of the client that made it already sees it. Without the listener
 * (not yet connected, or lost) every request reads Postgres, as if there were no cache.
 */
@Injectable()
export class AuthorizationService implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger(AuthorizationService.name);
  private readonly cache = new Map<string, PrincipalGrants>();
  /** Bumped by every invalidation: a load that started before one must not fill the cache. */
  private generation = 0;
  private listening = false;
  private readonly listener: PgChannelListener;

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly bootstrap: BootstrapPrincipal,
    env: Env,
  ) {
    this.listener = new PgChannelListener(databaseUrl(env), ROLE_ASSIGNMENTS_CHANNEL, {
      onMessage: (principalId) => this.changed(principalId),
      onListening: () => {
        this.changed();
        this.listening = true;
      },
      onLost: (err) => {
        if (this.listening) this.log.warn(`role assignment change feed lost (${String(err)}): grants are read from Postgres until it is back`);
        this.listening = false;
        this.changed();
      },
    });
  }

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
    this.listener.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.listening = false;
    await this.listener.stop();
  }

  async grantsOf(principalId: string): Promise<PrincipalGrants> {
    const key = principalId.toLowerCase();
    const cached = this.listening ? this.cache.get(key) : undefined;
    if (cached) return cached;
    const generation = this.generation;
    const rows = await this.db.find(RoleAssignmentEntity, { where: { principalId: key }, select: { scope: true, roleDefinitionId: true } });
    const grants = new PrincipalGrants(rows);
    if (this.listening && generation === this.generation) {
      if (this.cache.size >= MAX_CACHED_PRINCIPALS) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, grants);
    }
    return grants;
  }

  /** Drops the cached grants of one principal (or of all): their assignments changed. */
  changed(principalId?: string): void {
    this.generation++;
    if (principalId === undefined) this.cache.clear();
    else this.cache.delete(principalId.toLowerCase());
  }
}
