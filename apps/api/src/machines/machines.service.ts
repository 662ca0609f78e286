import { ArmError } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { ClusterCredentialRepository, clusterLockKey, ManagedClusterEntity, OperationRepository, PowerStateCode, ProvisioningState } from '@cerulean/domain';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { request } from 'node:https';
import { text as readText } from 'node:stream/consumers';
import { EntityManager } from 'typeorm';
import { AgentPoolsService } from '../agent-pools/agent-pools.service';
import { KubeNodeWire, Machine, MACHINE_TYPE, POOL_LABEL, toMachine } from './machine.mapper';

const CONTROL_PLANE_TIMEOUT_MS = 3_000;

/**
 * Machines_List/Get: the pool's nodes as the cluster's own API server knows them (the NodeList its node agents
 * keep current with heartbeats), read with the cluster's admin credential like `kubectl get nodes`. A stopped
 * cluster has no machines running; a cluster still being built has only those that registered so far.
 */
@Injectable()
export class MachinesService {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly pools: AgentPoolsService,
    private readonly credentials: ClusterCredentialRepository,
    private readonly operations: OperationRepository,
    private readonly env: Env,
  ) {}

  async list(sub: string, rgName: string, clusterName: string, poolName: string): Promise<Machine[]> {
    const { rg, cluster, pool } = await this.pools.get(sub, rgName, clusterName, poolName);
    const nodes = await this.nodes(cluster);
    const owner = {
      subscriptionId: cluster.subscriptionId,
      resourceGroup: rg.name,
      cluster: cluster.name,
      pool: pool.name,
      nodeResourceGroup: cluster.nodeResourceGroup,
      vmssName: `aks-${pool.name}-${pool.vmssSuffix}-vmss`,
      zonal: pool.availabilityZones.length > 0,
    };
    return nodes.filter((n) => n.metadata.labels?.[POOL_LABEL] === pool.name).map((n) => toMachine(owner, n));
  }

  async get(sub: string, rgName: string, clusterName: string, poolName: string, machineName: string): Promise<Machine> {
    const machines = await this.list(sub, rgName, clusterName, poolName);
    const found = machines.find((m) => m.name.toLowerCase() === machineName.toLowerCase());
    if (!found) throw ArmError.resourceNotFound(MACHINE_TYPE, `${clusterName}/${poolName}/${machineName}`, rgName);
    return found;
  }

  private async nodes(cluster: ManagedClusterEntity): Promise<KubeNodeWire[]> {
    if (cluster.powerState !== PowerStateCode.Running || cluster.apiServerPort === null) return [];
    const creds = await this.credentials.load(this.db, cluster.id);
    if (!creds) return [];
    try {
      return await getNodes(this.env.NODE_PUBLISH_HOST, cluster.apiServerPort, cluster.fqdn, creds);
    } catch (err) {
      // While the control plane is being (re)built (the cluster is changing, or an operation such as a certificate
      // rotation is replacing it) it may not answer, or not yet with the credentials just stored; afterwards its
      // silence is news.
      if (cluster.provisioningState !== ProvisioningState.Succeeded || (await this.operations.findInProgress(this.db, clusterLockKey(cluster.id))) !== null)
        return [];
      throw new ArmError(
        503,
        'ControlPlaneUnavailable',
        `The API server of managed cluster '${cluster.name}' does not answer: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
}

function getNodes(
  host: string,
  port: number,
  fqdn: string,
  creds: { ca: { certPem: string }; admin: { certPem: string; keyPem: string } },
): Promise<KubeNodeWire[]> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        path: '/api/v1/nodes',
        method: 'GET',
        servername: fqdn,
        ca: creds.ca.certPem,
        cert: creds.admin.certPem,
        key: creds.admin.keyPem,
        timeout: CONTROL_PLANE_TIMEOUT_MS,
        agent: false,
      },
      (res) =>
        readText(res).then((body) => {
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
          try {
            resolve((JSON.parse(body) as { items?: KubeNodeWire[] }).items ?? []);
          } catch (err) {
            reject(err as Error);
          }
        }, reject),
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}
