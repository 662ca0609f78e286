import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ArmErrorDetail, armHttpRequest, ArmHttpReply } from '@cerulean/arm';

export interface ConnectionOptions {
  endpoint?: string;
  ca?: string;
  subscription?: string;
  token?: string;
  tenant?: string;
  clientId?: string;
  clientSecret?: string;
}

interface ClientCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  endpoint?: string;
}

/** A CLI failure: printed as `ERROR: ...`, exit code 1 (2 for usage errors). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly detail?: ArmErrorDetail,
  ) {
    super(message);
  }
}

/**
 * The ARM endpoint the CLI talks to, from flags or `CERULEAN_*` variables (defaults: the local platform). It signs
 * in with, in order: a given access token (`--token`, CERULEAN_TOKEN); client credentials (`--tenant --client-id
 * --client-secret`, CERULEAN_TENANT_ID / CERULEAN_CLIENT_ID / CERULEAN_CLIENT_SECRET); the bootstrap principal the
 * platform wrote to `<data dir>/secrets/bootstrap-principal.json` (a local administrator's default).
 */
export class Connection {
  readonly origin: string;
  private readonly ca?: string;
  private token?: string;
  private readonly credentials?: ClientCredentials;
  private subscription?: string;

  constructor(opts: ConnectionOptions, env: NodeJS.ProcessEnv = process.env) {
    const dataDir = env.CERULEAN_DATA_DIR ?? resolve(__dirname, '../../../../.data');
    this.token = opts.token ?? env.CERULEAN_TOKEN;
    const tenantId = opts.tenant ?? env.CERULEAN_TENANT_ID;
    const clientId = opts.clientId ?? env.CERULEAN_CLIENT_ID;
    const clientSecret = opts.clientSecret ?? env.CERULEAN_CLIENT_SECRET;
    const bootstrap = join(dataDir, 'secrets', 'bootstrap-principal.json');
    if (!this.token) {
      if (tenantId && clientId && clientSecret) this.credentials = { tenantId, clientId, clientSecret };
      else if (existsSync(bootstrap)) this.credentials = JSON.parse(readFileSync(bootstrap, 'utf8')) as ClientCredentials;
      else
        throw new CliError(
          `No credentials: pass --token, or --tenant/--client-id/--client-secret (or CERULEAN_TENANT_ID/CLIENT_ID/CLIENT_SECRET); ${bootstrap} is missing.`,
          2,
        );
    }
    this.origin = (opts.endpoint ?? env.CERULEAN_ENDPOINT ?? this.credentials?.endpoint ?? `https://127.0.0.1:${env.CERULEAN_API_PORT ?? '8443'}`).replace(
      /\/+$/,
      '',
    );
    const caPath = opts.ca ?? env.CERULEAN_CA ?? [join(dataDir, 'tls', 'ca.pem')].find((p) => existsSync(p));
    this.ca = caPath ? readFileSync(caPath, 'utf8') : undefined;
    this.subscription = opts.subscription ?? env.CERULEAN_SUBSCRIPTION_ID;
  }

  /** The access token: given, or obtained once with client credentials from the platform's token endpoint. */
  private async accessToken(): Promise<string> {
    if (this.token) return this.token;
    const c = this.credentials as ClientCredentials;
    const reply = await this.send({
      method: 'POST',
      url: `/${encodeURIComponent(c.tenantId)}/oauth2/v2.0/token`,
      origin: this.origin,
      ca: this.ca,
      rawBody: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: c.clientId,
        client_secret: c.clientSecret,
        scope: 'https://management.core.windows.net//.default',
      }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const body = reply.body as { access_token?: string; error?: string; error_description?: string } | undefined;
    if (reply.status !== 200 || !body?.access_token)
      throw new CliError(`Sign-in as ${c.clientId} failed: ${body?.error ?? reply.status} ${body?.error_description ?? ''}`.trim());
    this.token = body.access_token;
    return this.token;
  }

  private async send(req: Parameters<typeof armHttpRequest>[0]): Promise<ArmHttpReply> {
    try {
      return await armHttpRequest(req);
    } catch (err) {
      throw new CliError(`Cannot reach ${this.origin}: ${(err as Error).message}`);
    }
  }

  async request(method: string, url: string, body?: { json?: unknown; raw?: string }): Promise<ArmHttpReply> {
    const token = await this.accessToken();
    return this.send({ method, url, origin: this.origin, ca: this.ca, token, body: body?.json, rawBody: body?.raw });
  }

  /** The request's answer when its status is one of `ok`; an ARM error otherwise. */
  async expect(method: string, url: string, ok: number[], body?: { json?: unknown; raw?: string }): Promise<ArmHttpReply> {
    const reply = await this.request(method, url, body);
    if (!ok.includes(reply.status)) throw replyError(reply);
    return reply;
  }

  /** `--subscription`, `CERULEAN_SUBSCRIPTION_ID`, or the first subscription the endpoint lists. */
  async subscriptionId(): Promise<string> {
    if (this.subscription) return this.subscription;
    const reply = await this.expect('GET', '/subscriptions?api-version=2022-12-01', [200]);
    const first = (reply.body as { value?: { subscriptionId: string }[] }).value?.[0]?.subscriptionId;
    if (!first) throw new CliError('The endpoint lists no subscription: pass --subscription.');
    this.subscription = first;
    return first;
  }
}

export function replyError(reply: ArmHttpReply): CliError {
  const error = (reply.body as { error?: ArmErrorDetail } | undefined)?.error;
  if (error?.code) return new CliError(`(${error.code}) ${error.message}`, 1, error);
  return new CliError(`The endpoint answered ${reply.status}${reply.text ? `: ${reply.text.slice(0, 300)}` : ''}`);
}

/** An ARM error with its details, one per line, indented. */
export function describeError(detail: ArmErrorDetail, indent = ''): string[] {
  const lines = [`${indent}${detail.code}: ${detail.message}${detail.target ? ` (target: ${detail.target})` : ''}`];
  for (const d of detail.details ?? []) lines.push(...describeError(d, `${indent}  `));
  return lines;
}
