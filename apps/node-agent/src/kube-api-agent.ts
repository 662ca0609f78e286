import * as https from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';

export interface KubeApiTls {
  ca: string;
  cert: string;
  key: string;
}

/**
 * An HTTPS agent for the cluster's Kubernetes API with the node's client certificate. Serving certificates issued
 * before the control plane's alias was in their names still say `kubernetes`: either name is accepted.
 */
export function kubeApiAgent(tls: KubeApiTls, maxSockets = 4): https.Agent {
  return new https.Agent({
    keepAlive: true,
    maxSockets,
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    checkServerIdentity: (host: string, cert: PeerCertificate) => {
      const err = checkServerIdentity(host, cert);
      return err && checkServerIdentity('kubernetes', cert) ? err : undefined;
    },
  });
}
