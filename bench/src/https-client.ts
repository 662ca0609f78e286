import { Agent, request } from 'node:https';
import { readBootstrapCredential } from '../../apps/api/src/identity/bootstrap-principal.service';

let token = '';
/** The bench principal's access token (the platform's bootstrap principal, signed in once the API is up). */
export const benchToken = (): string => token;
export const setBenchToken = (value: string): void => {
  token = value;
};

export interface HttpsResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
  /** From sending the request to the end of the answer. */
  ms: number;
}

/** A small keep-alive HTTPS client for the API (the bench's own calls, not the load generator). */
export class HttpsClient {
  private readonly agent: Agent;

  constructor(
    readonly baseUrl: string,
    ca: Buffer,
  ) {
    this.agent = new Agent({ ca, keepAlive: true, maxSockets: 16 });
  }

  call<T = unknown>(method: string, path: string, body?: unknown): Promise<HttpsResponse<T>> {
    const url = path.startsWith('https://') ? path : `${this.baseUrl}${path}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${benchToken()}` };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    return new Promise((res, rej) => {
      const t0 = performance.now();
      const req = request(url, { method, headers, agent: this.agent }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => {
          const ms = performance.now() - t0;
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = text;
          }
          res({ status: r.statusCode ?? 0, headers: r.headers, body: parsed as T, text, ms });
        });
      });
      req.on('error', rej);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** Calls and insists on one of `expected` statuses. */
  async expect<T = unknown>(expected: number[], method: string, path: string, body?: unknown): Promise<HttpsResponse<T>> {
    const r = await this.call<T>(method, path, body);
    if (!expected.includes(r.status)) throw new Error(`${method} ${path} answered ${r.status}, expected ${expected.join('/')}: ${r.text.slice(0, 300)}`);
    return r;
  }

  /** Polls /healthz until it answers 200; fails early when `proc` exits. */
  async waitHealthy(proc: { proc: { exitCode: number | null } }, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const status = await this.call('GET', '/healthz').then(
        (r) => r.status,
        (err: unknown) => {
          last = String(err);
          return 0;
        },
      );
      if (status === 200) return;
      if (proc.proc.exitCode !== null) throw new Error(`the API exited (${proc.proc.exitCode}) before answering /healthz`);
      if (Date.now() > deadline) throw new Error(`the API did not answer /healthz within ${timeoutMs} ms (${last})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Client credentials of the platform's bootstrap principal (written to its data folder) → an access token. */
  async signIn(dataDir: string): Promise<string> {
    const c = readBootstrapCredential(dataDir);
    if (!c) throw new Error(`no bootstrap principal credential under ${dataDir}/secrets`);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: c.clientId,
      client_secret: c.clientSecret,
      scope: 'https://management.core.windows.net//.default',
    }).toString();
    return new Promise((res, rej) => {
      const req = request(
        `${this.baseUrl}/${c.tenantId}/oauth2/v2.0/token`,
        { method: 'POST', agent: this.agent, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (b: Buffer) => chunks.push(b));
          r.on('end', () => {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { access_token?: string };
            if (r.statusCode === 200 && body.access_token) res(body.access_token);
            else rej(new Error(`sign-in as the bootstrap principal answered ${r.statusCode}`));
          });
        },
      );
      req.on('error', rej);
      req.end(form);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
