import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { ArmErrorDetail, Caller } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { Injectable } from '@nestjs/common';

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

const TIMEOUT_MS = 30_000;

/**
 * The platform's own ARM endpoint, as the deployment engine sees it. A template's resources are written the way
 * ARM's deployment service writes them: by calling the resource provider's public API (the same route, validation,
 * locks and operations as any client's PUT), so nothing can differ between a template and a direct request.
 */
@Injectable()
export class ArmFrontDoor {
  private readonly origin: string;
  private ca?: string;

  constructor(private readonly env: Env) {
    const host = ['0.0.0.0', '::', ''].includes(env.API_HOST) ? '127.0.0.1' : env.API_HOST;
    this.origin = `https://${host.includes(':') ? `[${host}]` : host}:${env.API_PORT}`;
  }

  /** `pathAndQuery` is a resource id (or any ARM path) with its query, or an absolute URL handed out by the API. */
  async send(method: string, pathAndQuery: string, req: FrontDoorRequest): Promise<FrontDoorReply> {
    const url = new URL(pathAndQuery, this.origin);
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string> = {
      authorization: `Bearer ${deploymentToken(req.caller)}`,
      accept: 'application/json',
      'x-ms-client-request-id': randomUUID(),
      ...(req.correlationId ? { 'x-ms-correlation-request-id': req.correlationId } : {}),
      ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
    };
    return new Promise<FrontDoorReply>((resolve, reject) => {
      const r = request(
        { protocol: 'https:', hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path: url.pathname + url.search, method, headers, ca: this.caAuthority(), timeout: TIMEOUT_MS },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown;
            try {
              body = text ? JSON.parse(text) : undefined;
            } catch {
              body = { error: { code: 'InvalidResponse', message: text.slice(0, 500) } };
            }
            const flat: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
            resolve({ status: res.statusCode ?? 0, headers: flat, body });
          });
          res.on('error', reject);
        },
      );
      r.on('timeout', () => r.destroy(new Error(`${method} ${url.pathname} got no answer within ${TIMEOUT_MS} ms`)));
      r.on('error', reject);
      r.end(payload);
    });
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

/**
 * The bearer token a deployment's requests carry: the deploying principal's identity (systemData names it as the
 * creator of every resource the deployment writes).
 */
function deploymentToken(caller: Caller): string {
  const claims = caller.type === 'Application' ? { appid: caller.id } : { upn: caller.id };
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}
