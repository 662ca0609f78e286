import { createServer } from 'node:net';
import { ArmError } from '@cerulean/arm';
import { clusterNetwork, KubernetesVersionCatalog, NodeImageCatalog } from '@cerulean/catalog';
import { Env } from '@cerulean/config';
import { ClusterCredentialRepository, ClusterCredentials, ManagedClusterEntity, ResourceGroupEntity } from '@cerulean/domain';
import {
  CONTROL_PLANE_ALIAS,
  CONTROL_PLANE_API_PORT,
  CONTROL_PLANE_ETCD_DIR,
  CONTROL_PLANE_PKI_DIR,
  ControlPlaneRole,
  controlPlaneVolumeName,
  NODE_PROVIDER,
  NodeLabels,
  NodeProvider,
  NodeSpec,
  ProviderError,
} from '@cerulean/node-provider';
import { issueApiServerKubeletClientCertificate } from '@cerulean/pki';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { kubeRequest } from './kube-api.client';
import { NodeFleet, rethrowProviderError } from './node-fleet.service';

const versions = new KubernetesVersionCatalog();
const MiB = 2 ** 20;
/** Docker's CPU weight for the control plane: four nodes' worth (a node has Docker's default, 1024). */
const CONTROL_PLANE_CPU_SHARES = 4096;
const READY_POLL_MS = 100;
// How Docker says a published host port is held: by its own allocator, or by another listener on the host.
const PORT_TAKEN = /port is already allocated|address already in use/i;
// A cluster moves port at most this often in one operation; more means the host keeps taking them.
const PORT_MOVES = 3;

/** Whether nothing on this host listens on `host:port` (a bind succeeds). */
export function hostPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** The control plane container's name: one per cluster. */
export const controlPlaneName = (clusterId: string): string => `cerulean-cp-${clusterId}`;

/**
 * The lifecycle of a cluster's control plane: one container (the node image in control-plane mode) serving the
 * Kubernetes API over mTLS with the cluster's certificates, published on 127.0.0.1:<apiServerPort>. The only
 * code that creates, replaces, stops or removes it.
 */
@Injectable()
export class ControlPlane {
  private readonly images: NodeImageCatalog;
  private readonly logger = new Logger(ControlPlane.name);

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    @Inject(NODE_PROVIDER) private readonly provider: NodeProvider,
    private readonly fleet: NodeFleet,
    private readonly credentials: ClusterCredentialRepository,
    private readonly env: Env,
  ) {
    this.images = new NodeImageCatalog(undefined, env.NODE_IMAGE_REPOSITORY);
  }

  /**
   * Idempotent: keeps a running control plane whose Kubernetes version and certificate generation match, recreates
   * it otherwise, starts it if stopped, and returns once it answers `/readyz` to the admin certificate.
   */
  async ensure(cluster: ManagedClusterEntity, rg: ResourceGroupEntity): Promise<void> {
    const creds = await this.credentials.loadOrProvision(this.db, cluster);
    for (let moves = 0; ; moves++) {
      const port = cluster.apiServerPort;
      if (port === null) throw ArmError.internal(`Managed cluster '${cluster.name}' has no API server port.`);
      try {
        await this.place(cluster, rg, creds, port);
        await this.waitReady(cluster, creds, port);
        return;
      } catch (err) {
        if (!(err instanceof ProviderError && PORT_TAKEN.test(err.message))) rethrowProviderError(err);
        if (moves >= PORT_MOVES) {
          throw new ArmError(
            409,
            'ApiServerPortInUse',
            `The API server port ${this.env.NODE_PUBLISH_HOST}:${port} of managed cluster '${cluster.name}' is taken by another process on this host: ${err.message}`,
          );
        }
        // Held by something else (e.g. a docker-proxy a daemon crash left behind, or a port Docker still thinks it
        // allocated): the cluster moves to a free port; its kubeconfig follows (it is built from apiServerPort).
        await this.remove(cluster.id);
        const moved = await this.credentials.movePort(this.db, cluster, (p) => hostPortFree(this.env.NODE_PUBLISH_HOST, p));
        this.logger.warn(`API server port ${port} of cluster ${cluster.name} is taken (${err.message}): moved to ${moved}`);
      }
    }
  }

  /** Keeps a current control plane container, replaces a stale one, and starts it on `port`. */
  private async place(cluster: ManagedClusterEntity, rg: ResourceGroupEntity, creds: ClusterCredentials, port: number): Promise<void> {
    const spec = await this.withKubeletClient(this.spec(cluster, rg, creds, port), creds);
    await this.provider.ensureNetwork(cluster.id, this.fleet.clusterLabels(cluster, rg));
    for (const existing of await this.list(cluster.id)) {
      const current =
        existing.name === spec.name &&
        existing.labels[NodeLabels.kubernetesVersion] === spec.labels[NodeLabels.kubernetesVersion] &&
        existing.labels[NodeLabels.credentialsGeneration] === spec.labels[NodeLabels.credentialsGeneration];
      if (!current) await this.provider.removeNode(existing.name);
    }
    await this.provider.ensureNode(spec);
  }

  /**
   * The API server's client certificate toward kubelets (container logs), issued now from the cluster CA like a
   * node's: nothing is stored, a recreated control plane (rotation included) gets a new one.
   */
  private async withKubeletClient(spec: NodeSpec, creds: ClusterCredentials): Promise<NodeSpec> {
    const cert = await issueApiServerKubeletClientCertificate(creds.ca);
    return {
      ...spec,
      files: [
        ...(spec.files ?? []),
        { path: `${CONTROL_PLANE_PKI_DIR}/apiserver-kubelet-client.crt`, content: cert.certPem, mode: 0o644 },
        { path: `${CONTROL_PLANE_PKI_DIR}/apiserver-kubelet-client.key`, content: cert.keyPem, mode: 0o600 },
      ],
    };
  }

  /** Stops the control plane (stopped clusters); a missing one is fine. */
  async stop(clusterId: string): Promise<void> {
    try {
      for (const cp of await this.list(clusterId)) await this.provider.stopNode(cp.name);
    } catch (err) {
      rethrowProviderError(err);
    }
  }

  /** Removes the control plane; NodeFleet.teardown also removes it with the cluster's other containers. */
  async remove(clusterId: string): Promise<void> {
    try {
      for (const cp of await this.list(clusterId)) await this.provider.removeNode(cp.name);
    } catch (err) {
      rethrowProviderError(err);
    }
  }

  private list(clusterId: string) {
    return this.fleet.listClusterNodes(clusterId).then((all) => all.filter((n) => n.labels[NodeLabels.role] === ControlPlaneRole));
  }

  private spec(cluster: ManagedClusterEntity, rg: ResourceGroupEntity, creds: ClusterCredentials, port: number): NodeSpec {
    const kubernetesVersion = versions.resolve(cluster.kubernetesVersion) ?? cluster.kubernetesVersion;
    const image = this.images.latest();
    const clusterLabels = this.fleet.clusterLabels(cluster, rg);
    const network = clusterNetwork(cluster.properties);
    return {
      name: controlPlaneName(cluster.id),
      clusterId: cluster.id,
      image: this.images.imageRef(image),
      zone: '',
      // etcd, the API server and the agent supervising them. A limit, not a reservation: idle it uses far less.
      nanoCpus: 1_000_000_000,
      // First to the host's cores when they are contended (a create boots it beside every node, and every node waits
      // for it), as AKS runs the control plane on capacity of its own; idle, it takes nothing from the nodes.
      cpuShares: CONTROL_PLANE_CPU_SHARES,
      memoryBytes: 512 * MiB,
      labels: {
        ...clusterLabels,
        [NodeLabels.role]: ControlPlaneRole,
        [NodeLabels.kubernetesVersion]: kubernetesVersion,
        [NodeLabels.credentialsGeneration]: String(creds.generation),
        [NodeLabels.nodeImageVersion]: image.version,
      },
      env: {
        CERULEAN_ROLE: ControlPlaneRole,
        CERULEAN_CLUSTER: cluster.name,
        CERULEAN_CLUSTER_ID: cluster.id,
        CERULEAN_KUBERNETES_VERSION: kubernetesVersion,
        CERULEAN_CONTROL_PLANE_API: this.env.CONTROL_PLANE_API,
        CERULEAN_POD_CIDR: network.podCidr,
        CERULEAN_SERVICE_CIDR: network.serviceCidr,
        CERULEAN_DNS_SERVICE_IP: network.dnsServiceIP,
      },
      fixedPorts: [{ containerPort: CONTROL_PLANE_API_PORT, hostPort: port }],
      aliases: [CONTROL_PLANE_ALIAS],
      files: [
        { path: `${CONTROL_PLANE_PKI_DIR}/ca.crt`, content: creds.ca.certPem, mode: 0o644 },
        { path: `${CONTROL_PLANE_PKI_DIR}/apiserver.crt`, content: creds.apiServer.certPem, mode: 0o644 },
        { path: `${CONTROL_PLANE_PKI_DIR}/apiserver.key`, content: creds.apiServer.keyPem, mode: 0o600 },
        // Service-account tokens are signed with the serving key, kube-apiserver's default without --service-account-key-file:
        // a certificate rotation rotates it too, as on AKS.
        { path: `${CONTROL_PLANE_PKI_DIR}/sa.key`, content: creds.apiServer.keyPem, mode: 0o600 },
      ],
      // Survives every replacement (rotation, upgrade, stop/start); NodeFleet.teardown removes it with the cluster.
      volumes: [
        { name: controlPlaneVolumeName(cluster.id), target: CONTROL_PLANE_ETCD_DIR, labels: { ...clusterLabels, [NodeLabels.role]: ControlPlaneRole } },
      ],
    };
  }

  /** docker-proxy accepts TCP before the server listens: only an authenticated 200 on /readyz counts. */
  private async waitReady(cluster: ManagedClusterEntity, creds: ClusterCredentials, port: number): Promise<void> {
    const deadline = Date.now() + this.env.NODE_READY_TIMEOUT_SECONDS * 1000;
    let last: string;
    for (;;) {
      try {
        const { status } = await kubeRequest(this.env.NODE_PUBLISH_HOST, port, cluster.fqdn, creds, 'GET', '/readyz');
        if (status === 200) return;
        last = `HTTP ${status}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline) {
        throw new ArmError(
          500,
          'ControlPlaneNotReady',
          `The API server of managed cluster '${cluster.name}' did not become ready within ${this.env.NODE_READY_TIMEOUT_SECONDS} s: ${last}`,
        );
      }
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
  }
}
