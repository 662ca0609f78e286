import { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import { UserInfo } from './http';

/**
 * Client-certificate authentication, as kube-apiserver does it: a certificate the client CA signed (the TLS layer
 * verified the chain) names the user in CN and its groups in O. Anything else is anonymous (undefined → 401).
 */
export function authenticate(req: IncomingMessage): UserInfo | undefined {
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
