import { ArmError, isGuid } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { ServicePrincipalEntity, ServicePrincipalSecretEntity } from '@cerulean/domain';
import { ConcurrencyLimit, generateSecret, hashSecret, secretHint, verifySecret } from '@cerulean/identity';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { PrincipalLiveness } from './principal-liveness.service';

/** Client secrets last two years unless asked otherwise (Entra's default for addPassword). */
const DEFAULT_SECRET_DAYS = 730;

export interface PrincipalWithSecrets {
  principal: ServicePrincipalEntity;
  secrets: ServicePrincipalSecretEntity[];
}

/** A new secret: the only time its text is known outside the caller. */
export interface IssuedSecret {
  secret: ServicePrincipalSecretEntity;
  secretText: string;
}

export type AuthenticationResult =
  /** `secretHash`: the stored hash the secret matched. */
  { ok: true; principal: ServicePrincipalEntity; secretHash: string } | { ok: false; reason: 'unknown_client' | 'bad_secret' | 'expired_secret' };

const inDate = (s: ServicePrincipalSecretEntity, now: number): boolean => s.endAt.getTime() > now && s.startAt.getTime() <= now + 300_000;

/** Service principals and their client secrets (stored as salted scrypt hashes only). */
@Injectable()
export class PrincipalsService {
  /** Secret checks (scrypt on libuv's pool) running at once in this process. */
  private readonly checks: ConcurrencyLimit;

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly env: Env,
    private readonly liveness: PrincipalLiveness,
  ) {
    this.checks = new ConcurrencyLimit(env.SECRET_CHECK_CONCURRENCY);
  }

  async authenticate(appId: string, secret: string): Promise<AuthenticationResult> {
    const found = await this.principalAndSecrets(appId);
    if (!found) return { ok: false, reason: 'unknown_client' };
    let expiredMatch = false;
    for (const s of found.secrets) {
      if (await this.checks.run(() => verifySecret(secret, s.secretHash))) {
        if (inDate(s, Date.now())) return { ok: true, principal: found.principal, secretHash: s.secretHash };
        expiredMatch = true;
      }
    }
    return { ok: false, reason: expiredMatch ? 'expired_secret' : 'bad_secret' };
  }

  /**
   * A secret already verified against `secretHash` (VerifiedSecrets): ok while that hash is still one of the
   * principal's secrets and in date. No scrypt. Undefined when it no longer is (the caller checks afresh).
   */
  async authenticateVerified(appId: string, secretHash: string): Promise<AuthenticationResult | undefined> {
    const found = await this.principalAndSecrets(appId);
    const s = found?.secrets.find((x) => x.secretHash === secretHash);
    return found && s && inDate(s, Date.now()) ? { ok: true, principal: found.principal, secretHash } : undefined;
  }

  private async principalAndSecrets(appId: string): Promise<PrincipalWithSecrets | undefined> {
    if (!isGuid(appId)) return undefined;
    const principal = await this.db.findOneBy(ServicePrincipalEntity, { appId: appId.toLowerCase() });
    if (!principal) return undefined;
    return { principal, secrets: await this.db.findBy(ServicePrincipalSecretEntity, { principalId: principal.id }) };
  }

  async list(): Promise<PrincipalWithSecrets[]> {
    const principals = await this.db.find(ServicePrincipalEntity, { order: { createdAt: 'ASC', id: 'ASC' } });
    const secrets = await this.db.find(ServicePrincipalSecretEntity, { order: { startAt: 'ASC' } });
    return principals.map((principal) => ({ principal, secrets: secrets.filter((s) => s.principalId === principal.id) }));
  }

  /** By object id or application id (Graph addresses service principals by either). */
  async get(idOrAppId: string, db: EntityManager = this.db, lock = false): Promise<PrincipalWithSecrets> {
    const principal = isGuid(idOrAppId)
      ? await db.findOne(ServicePrincipalEntity, {
          where: [{ id: idOrAppId.toLowerCase() }, { appId: idOrAppId.toLowerCase() }],
          ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
        })
      : null;
    if (!principal) {
      throw ArmError.notFound(
        'Request_ResourceNotFound',
        `Resource '${idOrAppId}' does not exist or one of its queried reference-property objects are not present.`,
      );
    }
    const secrets = await db.find(ServicePrincipalSecretEntity, { where: { principalId: principal.id }, order: { startAt: 'ASC' } });
    return { principal, secrets };
  }

  async create(displayName: string, options: { bootstrap?: boolean; db?: EntityManager } = {}): Promise<PrincipalWithSecrets & IssuedSecret> {
    const run = async (db: EntityManager) => {
      const principal = db.create(ServicePrincipalEntity, {
        id: randomUUID(),
        appId: randomUUID(),
        tenantId: this.env.TENANT_ID,
        displayName,
        isBootstrap: options.bootstrap ?? false,
      });
      await db.insert(ServicePrincipalEntity, principal);
      const issued = await this.addSecret(principal.id, {}, db);
      return { principal: await db.findOneByOrFail(ServicePrincipalEntity, { id: principal.id }), secrets: [issued.secret], ...issued };
    };
    return options.db ? run(options.db) : this.db.transaction(run);
  }

  /**
   * Runs a change of one principal or its secrets in a transaction that first locks the principal's row: changes
   * to one principal (delete, new or removed secrets, rotation) happen one after the other, and one that comes
   * after a delete finds no principal (404) instead of writing secrets for it.
   */
  private changing<T>(idOrAppId: string, change: (principal: ServicePrincipalEntity, db: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(async (db) => change((await this.get(idOrAppId, db, true)).principal, db));
  }

  async delete(idOrAppId: string): Promise<void> {
    const principal = await this.changing(idOrAppId, async (found, db) => {
      if (found.isBootstrap) {
        throw ArmError.badRequest('Request_BadRequest', `The bootstrap principal '${found.appId}' cannot be deleted; rotate its secret instead.`);
      }
      await db.delete(ServicePrincipalEntity, { id: found.id });
      return found;
    });
    // Its tokens stop working at once here; other API processes hear it from Postgres (PrincipalsNotify).
    this.liveness.deleted(principal.id);
  }

  async addSecret(principalId: string, options: { displayName?: string; endAt?: Date }, db: EntityManager = this.db): Promise<IssuedSecret> {
    const secretText = generateSecret();
    const startAt = new Date();
    const secret = db.create(ServicePrincipalSecretEntity, {
      keyId: randomUUID(),
      principalId,
      secretHash: await hashSecret(secretText),
      hint: secretHint(secretText),
      displayName: options.displayName ?? null,
      startAt,
      endAt: options.endAt ?? new Date(startAt.getTime() + DEFAULT_SECRET_DAYS * 86_400_000),
    });
    await db.insert(ServicePrincipalSecretEntity, secret);
    return { secret, secretText };
  }

  async addPassword(idOrAppId: string, options: { displayName?: string; endAt?: Date }): Promise<IssuedSecret> {
    return this.changing(idOrAppId, (principal, db) => this.addSecret(principal.id, options, db));
  }

  async removePassword(idOrAppId: string, keyId: string): Promise<void> {
    await this.changing(idOrAppId, async (principal, db) => {
      const result = isGuid(keyId) ? await db.delete(ServicePrincipalSecretEntity, { principalId: principal.id, keyId: keyId.toLowerCase() }) : { affected: 0 };
      if (!result.affected) {
        throw ArmError.badRequest('Request_BadRequest', `No password credential with keyId '${keyId}' was found on the service principal.`);
      }
    });
  }

  /** A new secret replaces every existing one, atomically (what `cerulean principal rotate-secret` does). */
  async rotate(idOrAppId: string): Promise<PrincipalWithSecrets & IssuedSecret> {
    return this.changing(idOrAppId, async (principal, db) => {
      await db.delete(ServicePrincipalSecretEntity, { principalId: principal.id });
      const issued = await this.addSecret(principal.id, {}, db);
      return { principal, secrets: [issued.secret], ...issued };
    });
  }
}
