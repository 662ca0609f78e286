import { timingSafeEqual } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import { UserInfo } from './http';

/**
 * Client-certificate authentication, as kube-apiserver does it: a certificate the client CA signed (the TLS layer
 * verified the chain) names the user in CN and its groups in O. Anything else is anonymous (undefined → 401).
 */
export function authenticate(req: IncomingMessage, loopbackToken?: string): UserInfo | undefined {
  if (loopbackToken && isLoopbackToken(req.headers.authorization, loopbackToken)) return LOOPBACK_USER;
  const socket = req.socket as TLSSocket;
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert?.subject) return undefined;
  const cn = cert.subject.CN;
  const o = cert.subject.O;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return undefined;
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return { name, groups: [...groups, 'system:authenticated'] };
}

/**
 * The server's own clients in its process (the in-process controller manager) present a random bearer token made at
 * start and never written anywhere, as kube-apiserver's loopback client does: they act as `system:apiserver`.
 */
const LOOPBACK_USER: UserInfo = { name: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };

function isLoopbackToken(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
