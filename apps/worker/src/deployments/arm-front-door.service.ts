import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArmError, ArmErrorDetail, armHttpRequest, Caller } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { ServicePrincipalEntity } from '@cerulean/domain';
import { appTokenClaims, ARM_AUDIENCES, issuerV2, loadSigningKey, signJwt, SigningKey } from '@cerulean/identity';
import { loadMasterKey, SecretBox } from '@cerulean/pki';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';

export interface FrontDoorReply {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON, or undefined for an empty body. */
  body: unknown;
}

export interface FrontDoorRequest {
  body?: unknown;
  /** The deployment's correlation id: every request a deployment makes carries it, as ARM's do. */
  correlationId?: string | null;
  /** Who the request is made for: the principal that started the deployment. */
  caller: Caller;
}

/**
 * The platform's own ARM endpoint, as the deployment engine sees it. A template's resources are written the way
 * ARM's deployment service writes them: by calling the resource provider's public API (the same route, validation,
 * locks and operations as any client's PUT), so nothing can differ between a template and a direct request.
 */
@Injectable()
export class ArmFrontDoor {
  private readonly origin: string;
  /** Origins the API hands out in absolute URLs (nextLink, Location): its own, and the public one when configured. */
  private readonly knownOrigins: Set<string>;
  private ca?: string;
  private key?: SigningKey;

  constructor(
    private readonly env: Env,
    @InjectEntityManager() private readonly db: EntityManager,
  ) {
    const host = ['0.0.0.0', '::', ''].includes(env.API_HOST) ? '127.0.0.1' : env.API_HOST;
    this.origin = new URL(`https://${host.includes(':') ? `[${host}]` : host}:${env.API_PORT}`).origin;
    this.knownOrigins = new Set([this.origin, ...(env.PUBLIC_BASE_URL ? [new URL(env.PUBLIC_BASE_URL).origin] : [])]);
  }

  /**
   * `pathAndQuery` is a resource id (or any ARM path) with its query, or an absolute URL handed out by the API.
   * Whatever it is, the request goes to the API's own origin: anything that is not a path there (another host or
   * port, `//host`, a backslash) is refused before any connection is made, and the refusal names no network detail.
   */
  async send(method: string, pathAndQuery: string, req: FrontDoorRequest): Promise<FrontDoorReply> {
    const path = this.ownPath(pathAndQuery);
    const reply = await armHttpRequest({
      method,
      url: path,
      origin: this.origin,
      ca: this.caAuthority(),
      token: await this.tokenFor(req.caller),
      body: req.body,
      headers: { 'x-ms-client-request-id': randomUUID(), ...(req.correlationId ? { 'x-ms-correlation-request-id': req.correlationId } : {}) },
    });
    const body = reply.body ?? (reply.text ? { error: { code: 'InvalidResponse', message: reply.text.slice(0, 500) } } : undefined);
    return { status: reply.status, headers: reply.headers, body };
  }

  /** The path and query of a URL on the API itself, or a refusal. */
  ownPath(target: string): string {
    const refuse = () =>
      ArmError.badRequest('BadRequest', 'The deployment engine only sends requests to resources of this platform: the request target is not a platform path.');
    // eslint-disable-next-line no-control-regex
    if (/[\\\u0000-\u001f\u007f\s]/.test(target)) throw refuse();
    let url: URL;
    try {
      url = target.startsWith('/') && !target.startsWith('//') ? new URL(target, this.origin) : new URL(target);
    } catch {
      throw refuse();
    }
    // A path starting `//` would be read as another host when resolved again.
    if (!this.knownOrigins.has(url.origin) || url.username !== '' || url.password !== '' || url.pathname.startsWith('//')) throw refuse();
    return `${url.pathname}${url.search}`;
  }

  /**
   * A token of the principal that started the deployment, signed with the platform's token key (shared through
   * the data folder, as the CA is): every write is authorized, throttled and logged as that principal's, the way
   * ARM's deployment service acts on behalf of the deployer.
   */
  private async tokenFor(caller: Caller): Promise<string> {
    const principal = await this.db.findOne(ServicePrincipalEntity, { where: { appId: caller.id } });
    if (!principal) throw new Error(`the deploying principal '${caller.id}' no longer exists`);
    this.key ??= loadSigningKey(this.env.DATA_DIR, new SecretBox(loadMasterKey({ masterKey: this.env.MASTER_KEY, dataDir: this.env.DATA_DIR })));
    const claims = appTokenClaims({
      appId: principal.appId,
      objectId: principal.id,
      tenantId: principal.tenantId,
      resource: ARM_AUDIENCES[0],
      issuer: issuerV2(this.origin, principal.tenantId),
      version: 2,
    });
    return signJwt(claims, this.key);
  }

  /** The API makes its CA on first start; read it when first needed (the worker may start before the API). */
  private caAuthority(): string {
    this.ca ??= readFileSync(join(this.env.DATA_DIR, 'tls', 'ca.pem'), 'utf8');
    return this.ca;
  }
}

/** The ARM error of a failed reply (a body without one still yields a code and a message). */
export function replyError(reply: FrontDoorReply): ArmErrorDetail {
  const error = (reply.body as { error?: ArmErrorDetail } | undefined)?.error;
  if (error && typeof error.code === 'string') return error;
  return { code: `Http${reply.status}`, message: `The request failed with status ${reply.status}.` };
}

/** The id at the end of an `Azure-AsyncOperation` (`…/operations/{id}`) or `Location` (`…/operationresults/{id}`) URL. */
export function operationIdOf(reply: FrontDoorReply): string | undefined {
  const url = reply.headers['azure-asyncoperation'] ?? reply.headers.location ?? '';
  return /\/(?:operations|operationresults|operationStatuses)\/([^/?]+)/i.exec(url)?.[1];
}
