import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ArmErrorDetail, armHttpRequest, ArmHttpReply } from '@cerulean/arm';

export interface ConnectionOptions {
  endpoint?: string;
  ca?: string;
  subscription?: string;
  token?: string;
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

/** The ARM endpoint the CLI talks to, from flags or `CERULEAN_*` variables (defaults: the local platform). */
export class Connection {
  readonly origin: string;
  private readonly ca?: string;
  private readonly token: string;
  private subscription?: string;

  constructor(opts: ConnectionOptions, env: NodeJS.ProcessEnv = process.env) {
    this.origin = (opts.endpoint ?? env.CERULEAN_ENDPOINT ?? `https://127.0.0.1:${env.CERULEAN_API_PORT ?? '8443'}`).replace(/\/+$/, '');
    const caPath = opts.ca ?? env.CERULEAN_CA ?? [join(env.CERULEAN_DATA_DIR ?? resolve(__dirname, '../../../../.data'), 'tls', 'ca.pem')].find((p) => existsSync(p));
    this.ca = caPath ? readFileSync(caPath, 'utf8') : undefined;
    const token = opts.token ?? env.CERULEAN_TOKEN;
    if (!token) throw new CliError('No access token: set CERULEAN_TOKEN (or pass --token).', 2);
    this.token = token;
    this.subscription = opts.subscription ?? env.CERULEAN_SUBSCRIPTION_ID;
  }

  async request(method: string, url: string, body?: { json?: unknown; raw?: string }): Promise<ArmHttpReply> {
    try {
      return await armHttpRequest({ method, url, origin: this.origin, ca: this.ca, token: this.token, body: body?.json, rawBody: body?.raw });
    } catch (err) {
      throw new CliError(`Cannot reach ${this.origin}: ${(err as Error).message}`);
    }
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
