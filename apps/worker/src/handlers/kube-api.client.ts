import { request } from 'node:https';
import { Env } from '@cerulean/config';
import { ClusterCredentialRepository, ClusterCredentials, ManagedClusterEntity } from '@cerulean/domain';
import { Injectable, Logger } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';

const REQUEST_TIMEOUT_MS = 3_000;

/** One call to a cluster's Kubernetes API on its published port, with the cluster's admin certificate (like kubectl). */
export function kubeRequest(
  host: string,
  port: number,
  fqdn: string,
  creds: Pick<ClusterCredentials, 'ca' | 'admin'>,
  method: string,
  path: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        path,
        method,
        servername: fqdn,
        ca: creds.ca.certPem,
        cert: creds.admin.certPem,
        key: creds.admin.keyPem,
        timeout: REQUEST_TIMEOUT_MS,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The platform's side of a cluster's Kubernetes API: what the cloud's node controller does there. */
@Injectable()
export class KubeApiClient {
  private readonly logger = new Logger(KubeApiClient.name);

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly credentials: ClusterCredentialRepository,
    private readonly env: Env,
  ) {}

  /**
   * Deletes removed nodes' Node objects and Leases at once, as AKS's cloud node controller does for a deleted VM, so no
   * NotReady ghost stays behind. Best effort: a control plane that does not answer (stopped, being replaced) is
   * logged, not fatal to the operation that removed the node.
   */
  async deleteNodes(cluster: Pick<ManagedClusterEntity, 'id' | 'name' | 'fqdn' | 'apiServerPort'>, names: string[]): Promise<void> {
    if (names.length === 0 || cluster.apiServerPort === null) return;
    const creds = await this.credentials.load(this.db, cluster.id);
    if (!creds) return;
    for (const name of names) {
      for (const path of [
        `/api/v1/nodes/${encodeURIComponent(name)}`,
        `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${encodeURIComponent(name)}`,
      ]) {
        try {
          const r = await kubeRequest(this.env.NODE_PUBLISH_HOST, cluster.apiServerPort, cluster.fqdn, creds, 'DELETE', path);
          if (r.status >= 300 && r.status !== 404) this.logger.warn(`DELETE ${path} on cluster ${cluster.name}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
        } catch (err) {
          this.logger.warn(`DELETE ${path} on cluster ${cluster.name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
  }
}
