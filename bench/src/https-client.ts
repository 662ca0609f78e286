import { Agent, request } from 'node:https';

/** Any bearer token is accepted (see test-support/platform.ts); a JWT-looking one gives systemData a user. */
export const BENCH_TOKEN =
  'eyJhbGciOiJub25lIn0.' + Buffer.from(JSON.stringify({ upn: 'bench@cerulean.localhost' })).toString('base64url') + '.';

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

  constructor(readonly baseUrl: string, ca: Buffer) {
    this.agent = new Agent({ ca, keepAlive: true, maxSockets: 16 });
  }

  call<T = unknown>(method: string, path: string, body?: unknown): Promise<HttpsResponse<T>> {
    const url = path.startsWith('https://') ? path : `${this.baseUrl}${path}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${BENCH_TOKEN}` };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    return new Promise((res, rej) => {
      const t0 = performance.now();
      const req = request(url, { method, headers, agent: this.agent }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => {
          const ms = performance.now() - t0;
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = undefined;
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

  close(): void {
    this.agent.destroy();
  }
}
