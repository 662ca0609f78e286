import { timingSafeEqual } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import { KubeError } from '@cerulean/kube';
import type { ServiceAccountTokens } from './auth/service-account-tokens';
import { UserInfo } from './http';

export const ANONYMOUS_USER: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

/**
 * Anonymous requests are accepted on these paths only (upstream's AuthenticationConfiguration `anonymous.conditions`,
 * the health probes, as hardened clusters restrict anonymous auth); RBAC then decides, through
 * system:public-info-viewer. Anywhere else a request without credentials is 401, `/version` included: a client whose
 * certificate the cluster CA no longer signs (after a rotation) learns nothing but that.
 */
const ANONYMOUS_PATHS = new Set(['/healthz', '/livez', '/readyz']);

/**
 * Who sent the request, as kube-apiserver's authenticator chain decides it: the in-process loopback token, a client
 * certificate the cluster CA signed (CN = user, O = groups), then a service-account bearer token. A bearer token that
 * is not valid is 401 (no fallback to anonymous); no credentials at all is anonymous where allowed, else 401.
 */
export async function authenticate(req: IncomingMessage, path: string, ctx: { loopbackToken?: string; tokens?: ServiceAccountTokens }): Promise<UserInfo> {
  const bearer = bearerToken(req.headers.authorization);
  if (ctx.loopbackToken && bearer !== undefined && sameSecret(bearer, ctx.loopbackToken)) return LOOPBACK_USER;
  const cert = certificateUser(req);
  if (cert) return cert;
  if (bearer !== undefined) {
    const user = bearer && ctx.tokens ? await ctx.tokens.authenticate(bearer) : undefined;
    if (!user) throw KubeError.unauthorized();
    return user;
  }
  if (ANONYMOUS_PATHS.has(path)) return ANONYMOUS_USER;
  throw KubeError.unauthorized();
}

/**
 * A connection's client certificate does not change (TLS 1.3 has no renegotiation), so its user is read from the
 * certificate once per connection; each request still checks the certificate has not expired since the handshake.
 */
const connectionUsers = new WeakMap<TLSSocket, { user: UserInfo | undefined; notAfter: number }>();

function certificateUser(req: IncomingMessage): UserInfo | undefined {
  const socket = req.socket as TLSSocket;
  if (!socket.authorized) return undefined;
  let known = connectionUsers.get(socket);
  if (!known) {
    known = userOfCertificate(socket);
    connectionUsers.set(socket, known);
  }
  return Date.now() < known.notAfter ? known.user : undefined;
}

function userOfCertificate(socket: TLSSocket): { user: UserInfo | undefined; notAfter: number } {
  const cert = socket.getPeerCertificate();
  if (!cert?.subject) return { user: undefined, notAfter: Infinity };
  // The handshake checked the dates; an end date Node cannot parse leaves the connection's user unexpiring.
  const parsed = Date.parse(cert.valid_to);
  const notAfter = Number.isNaN(parsed) ? Infinity : parsed;
  const cn = cert.subject.CN;
  const o = cert.subject.O;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return { user: undefined, notAfter };
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return { user: { name, groups: [...groups, 'system:authenticated'] }, notAfter };
}

/**
 * The server's own clients in its process (the in-process controller manager) present a random bearer token made at
 * start and never written anywhere, as kube-apiserver's loopback client does: they act as `system:apiserver`.
 */
const LOOPBACK_USER: UserInfo = { name: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };

function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(.*)$/i.exec(header ?? '');
  return m ? m[1].trim() : undefined;
}

/** Whether two secrets are the same, compared in constant time. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
