import { createHash, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { NodeAgentStatus } from '@cerulean/node-provider';
import type { NodeAgent } from './node-agent';

export type LogLine = (entry: Record<string, unknown>) => void;

export const jsonLog: LogLine = (entry) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
};

type Answer = { statusCode: number; body: string; contentType: string; headers?: Record<string, string> };
/** `mutating`: only the platform may call it (bearer credential); reads stay open (the README's `curl .../status`). */
type Route = { mutating: boolean; run: () => Answer };

const json = (status: NodeAgentStatus): Answer => ({
  statusCode: 200,
  body: JSON.stringify(status),
  contentType: 'application/json',
});

const error = (statusCode: number, message: string, headers?: Record<string, string>): Answer => ({
  statusCode,
  body: JSON.stringify({ error: message }),
  contentType: 'application/json',
  headers,
});

export interface AgentServerOptions {
  /**
   * The platform's credential for this node (mounted as a file at creation). Without one, every mutating call is
   * refused: an agent never falls back to open.
   */
  token?: string;
  /** The node's own name: accepted as a Host besides IP literals and localhost. */
  nodeName?: string;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time comparison (of digests, so the lengths match and leak nothing either). */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The bearer token of an `authorization` header, if it is one. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

const IPV4_HOST = /^(\d{1,3}\.){3}\d{1,3}(:\d+)?$/;
const IPV6_HOST = /^\[[0-9a-fA-F:.]+\](:\d+)?$/;

/**
 * Why a request looks like it comes from a browser page, or undefined. Browsers put `Origin` on cross-origin and
 * on every POST, and `Sec-Fetch-Site` on everything; the platform and curl send neither. A Host that is not an
 * address (or localhost, or the node's own name) is a DNS-rebinding page posing as same-origin.
 */
export function browserRefusal(headers: http.IncomingHttpHeaders, nodeName?: string): string | undefined {
  if (headers.origin !== undefined) return 'requests with an Origin header (browser pages) are refused';
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'none') return `browser requests (Sec-Fetch-Site: ${String(site)}) are refused`;
  const host = (headers.host ?? '').toLowerCase();
  const name = host.replace(/:\d+$/, '');
  const allowed =
    host === '' || IPV4_HOST.test(host) || IPV6_HOST.test(host) || name === 'localhost' || (nodeName !== undefined && name === nodeName.toLowerCase());
  return allowed ? undefined : `Host ${host} is refused: use the agent's address`;
}

/** The agent's HTTP surface; one JSON log line per request. */
export function createAgentServer(agent: NodeAgent, log: LogLine = jsonLog, options: AgentServerOptions = {}): http.Server {
  const routes: Record<string, Record<string, Route>> = {
    '/healthz': { GET: { mutating: false, run: () => ({ statusCode: 200, body: 'ok', contentType: 'text/plain' }) } },
    '/status': { GET: { mutating: false, run: () => json(agent.status()) } },
    '/cordon': { POST: { mutating: true, run: () => json(agent.cordon()) } },
    '/uncordon': { POST: { mutating: true, run: () => json(agent.uncordon()) } },
    '/drain': { POST: { mutating: true, run: () => json(agent.drain()) } },
  };

  const authorize = (req: http.IncomingMessage): Answer | undefined => {
    if (!options.token) return error(403, 'this agent has no platform credential: it accepts no changes');
    const presented = bearerToken(req.headers.authorization);
    if (presented === undefined || !tokenMatches(presented, options.token)) {
      return error(401, 'a valid platform credential is required', { 'www-authenticate': 'Bearer realm="cerulean-node-agent"' });
    }
    return undefined;
  };

  return http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://agent').pathname;
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      log({ msg: 'request', method, path, status: res.statusCode, durationMs: Math.round(durationMs * 100) / 100 });
    });
    // Request bodies are ignored, but must be consumed for keep-alive to work.
    req.resume();

    const byMethod = routes[path];
    const route = byMethod?.[method];
    const refusal = browserRefusal(req.headers, options.nodeName);
    let answer: Answer;
    if (refusal) answer = error(403, refusal);
    else if (!byMethod) answer = error(404, `no route ${path}`);
    else if (!route) answer = error(405, `${method} not allowed on ${path}`, { allow: Object.keys(byMethod).join(', ') });
    else {
      try {
        answer = (route.mutating ? authorize(req) : undefined) ?? route.run();
      } catch (err) {
        answer = error(500, err instanceof Error ? err.message : String(err));
      }
    }
    res.writeHead(answer.statusCode, { ...answer.headers, 'content-type': answer.contentType, 'content-length': Buffer.byteLength(answer.body) });
    res.end(answer.body);
  });
}
