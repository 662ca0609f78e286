import { Env, platformBaseUrl } from '@cerulean/config';
import { ServicePrincipalEntity, ServicePrincipalSecretEntity } from '@cerulean/domain';
import { verifySecret } from '@cerulean/identity';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EntityManager } from 'typeorm';
import { PrincipalsService } from './principals.service';

/** What the bootstrap credential file holds (DATA_DIR/secrets/bootstrap-principal.json, 0600). */
export interface BootstrapCredential {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  objectId: string;
  /** Where the platform listens (the authority host and the ARM endpoint). */
  endpoint: string;
}

export const bootstrapCredentialPath = (dataDir: string): string => join(resolve(dataDir), 'secrets', 'bootstrap-principal.json');

export function readBootstrapCredential(dataDir: string): BootstrapCredential | undefined {
  try {
    return JSON.parse(readFileSync(bootstrapCredentialPath(dataDir), 'utf8')) as BootstrapCredential;
  } catch {
    return undefined;
  }
}

/** Run after the bootstrap principal exists, in the same transaction (access control makes it Owner at the root scope). */
export type BootstrapHook = (principal: ServicePrincipalEntity, db: EntityManager) => Promise<void>;

/**
 * At first start, the bootstrap admin principal is created and its credential written once to a 0600 file
 * in the data folder (scripts/up.sh prints it once; the tests read it). On later starts the file is checked
 * against the database: a fresh database, or a lost file, gets a new principal or a new secret.
 * One advisory lock serializes API processes starting together.
 */
@Injectable()
export class BootstrapPrincipal implements OnApplicationBootstrap {
  private readonly logger = new Logger('Identity');
  private readonly hooks: BootstrapHook[] = [];

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly principals: PrincipalsService,
    private readonly env: Env,
  ) {}

  addHook(hook: BootstrapHook): void {
    this.hooks.push(hook);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.db.transaction(async (db) => {
      await db.query(`SELECT pg_advisory_xact_lock(hashtext('cerulean:bootstrap-principal'))`);
      const file = readBootstrapCredential(this.env.DATA_DIR);
      const existing = await db.findOneBy(ServicePrincipalEntity, { isBootstrap: true });
      let principal = existing;
      if (!existing) {
        const created = await this.principals.create('cerulean-bootstrap-admin', { bootstrap: true, db });
        principal = created.principal;
        this.write(created.principal, created.secretText);
        this.logger.log(`created the bootstrap principal ${created.principal.appId}; credential in ${bootstrapCredentialPath(this.env.DATA_DIR)}`);
      } else if (!(await this.fileMatches(file, existing, db))) {
        const issued = await this.principals.addSecret(existing.id, { displayName: 'bootstrap (re-issued)' }, db);
        this.write(existing, issued.secretText);
        this.logger.warn(`the bootstrap credential file did not match the database: issued a new secret for ${existing.appId}`);
      }
      for (const hook of this.hooks) await hook(principal!, db);
    });
  }

  private async fileMatches(file: BootstrapCredential | undefined, principal: ServicePrincipalEntity, db: EntityManager): Promise<boolean> {
    if (!file || file.clientId !== principal.appId || typeof file.clientSecret !== 'string') return false;
    const secrets = await db.findBy(ServicePrincipalSecretEntity, { principalId: principal.id });
    for (const s of secrets) if (s.endAt.getTime() > Date.now() && (await verifySecret(file.clientSecret, s.secretHash))) return true;
    return false;
  }

  private write(principal: ServicePrincipalEntity, secret: string): void {
    const path = bootstrapCredentialPath(this.env.DATA_DIR);
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    const body: BootstrapCredential = {
      tenantId: principal.tenantId,
      clientId: principal.appId,
      clientSecret: secret,
      objectId: principal.id,
      endpoint: platformBaseUrl(this.env),
    };
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
  }
}
