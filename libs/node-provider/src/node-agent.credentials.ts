import { createHmac } from 'node:crypto';
import type { NodeFile } from './node-provider';

/** Where a node's agent reads its credential (written into the container before every start; 0600). */
export const NODE_AGENT_TOKEN_PATH = '/etc/cerulean/agent-token';

// Persisted on node containers: nodes without it predate agent credentials and are replaced on the next converge.
export const NODE_AGENT_AUTH_VERSION = 'v1';

const KEY_BYTES = 32;

/**
 * The platform's per-node credentials for the node agents' mutating endpoints (cordon, uncordon, drain): an HMAC of
 * the cluster id and node name under a platform key, so nothing per node has to be stored and a node's credential
 * opens no other node's agent. The node gets its own as a file; the worker recomputes it for every call.
 */
export class NodeAgentCredentials {
  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`the node agent key must be ${KEY_BYTES} bytes, not ${key.length}`);
  }

  tokenFor(clusterId: string, nodeName: string): string {
    return createHmac('sha256', this.key).update(`cerulean-node-agent/${NODE_AGENT_AUTH_VERSION}\0${clusterId}\0${nodeName}`).digest('base64url');
  }

  /** The file that hands the node its credential. */
  tokenFile(clusterId: string, nodeName: string): NodeFile {
    return { path: NODE_AGENT_TOKEN_PATH, content: `${this.tokenFor(clusterId, nodeName)}\n`, mode: 0o600 };
  }
}
