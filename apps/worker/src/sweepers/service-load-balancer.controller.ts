import { randomBytes } from 'node:crypto';
import { NodeImageCatalog } from '@cerulean/catalog';
import { Env } from '@cerulean/config';
import {
  ClusterCredentialRepository,
  ClusterCredentials,
  ManagedClusterEntity,
  PowerStateCode,
  ProvisioningState,
  ResourceGroupEntity,
} from '@cerulean/domain';
import { DockerLoadBalancers, LoadBalancerLabels, NodeLabels } from '@cerulean/node-provider';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import Dockerode from 'dockerode';
import { EntityManager } from 'typeorm';
import { kubeRequest } from '../handlers/kube-api.client';
import { InstallationService } from '../handlers/installation.service';
import { NodeFleet } from '../handlers/node-fleet.service';
import {
  controlPlaneStarting,
  desiredLoadBalancers,
  hasStaleIngress,
  planLoadBalancers,
  renderIngress,
  sameIngress,
  type DesiredLoadBalancer,
  type ServiceObject,
} from './load-balancer.plan';
import { PeriodicPass } from './periodic';

type Call = (method: string, path: string, body?: { json: unknown; contentType?: string }) => Promise<{ status: number; body: string }>;

const servicePath = (namespace: string, name: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}`;

/**
 * The cloud provider's service controller (what cloud-provider-kind does for kind, and AKS with a public IP): every
 * `type: LoadBalancer` Service of a running cluster gets a load-balancer container on the cluster's network, published
 * on the host's loopback, and its address in `status.loadBalancer.ingress`. It polls (LOAD_BALANCER_SYNC_MS) rather
 * than watches: a list per cluster is cheap, and a poll needs no reconnect logic. It keeps no state of its own: the
 * containers (their labels say which Service and which ports they serve) and the Services' status are the state, so a
 * worker restart, or a second worker, picks up where the last pass stopped. Containers of a stopped cluster are removed
 * (they would forward to nothing) and made again when it runs; a deleted cluster's go with its teardown (they carry
 * the cluster's labels) or the orphan reaper.
 */
@Injectable()
export class ServiceLoadBalancerController implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ServiceLoadBalancerController.name);
  private readonly lbs: DockerLoadBalancers;
  private readonly images: NodeImageCatalog;
  private readonly periodic = new PeriodicPass(this.logger, 'load balancer sync', undefined, () => this.pass());

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly credentials: ClusterCredentialRepository,
    private readonly installation: InstallationService,
    private readonly fleet: NodeFleet,
    private readonly env: Env,
  ) {
    this.lbs = new DockerLoadBalancers(new Dockerode({ socketPath: env.DOCKER_SOCKET }), env.NODE_PUBLISH_HOST);
    this.images = new NodeImageCatalog(undefined, env.NODE_IMAGE_REPOSITORY);
  }

  onApplicationBootstrap(): void {
    if (this.env.CONTROL_PLANE_API === 'kube-apiserver') this.periodic.start(this.env.LOAD_BALANCER_SYNC_MS);
  }

  onApplicationShutdown(): void {
    this.periodic.stop();
  }

  /** One pass over every cluster of this installation. */
  sync(): Promise<void> {
    return this.periodic.run();
  }

  private async pass(): Promise<void> {
    const containers = await this.lbs.list({ [NodeLabels.installation]: this.installation.id() });
    const clusters = await this.db.find(ManagedClusterEntity);
    for (const cluster of clusters) {
      const mine = containers.filter((c) => c.labels[NodeLabels.clusterId] === cluster.id);
      try {
        if (cluster.powerState === PowerStateCode.Stopped || cluster.provisioningState === ProvisioningState.Stopping) {
          for (const c of mine) await this.lbs.remove(c.name);
        } else if (cluster.provisioningState !== ProvisioningState.Deleting) {
          await this.syncCluster(cluster, mine);
        }
      } catch (err) {
        this.logger.warn(`load balancers of cluster ${cluster.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  private async syncCluster(cluster: ManagedClusterEntity, containers: Awaited<ReturnType<DockerLoadBalancers['list']>>): Promise<void> {
    const port = cluster.apiServerPort;
    if (port === null) return;
    const creds = await this.credentials.load(this.db, cluster.id);
    if (!creds) return;
    const call: Call = (method, path, body) => kubeRequest(this.env.NODE_PUBLISH_HOST, port, cluster.fqdn, creds as ClusterCredentials, method, path, body);
    let listed: { status: number; body: string };
    try {
      listed = await call('GET', '/api/v1/services');
    } catch (err) {
      if (controlPlaneStarting(cluster.provisioningState, err)) return;
      throw err;
    }
    // A control plane that is starting or being replaced: nothing is known, so nothing is removed either.
    if (listed.status !== 200) return;
    const services = (JSON.parse(listed.body) as { items: ServiceObject[] }).items;
    const desired = desiredLoadBalancers(services);
    const plan = planLoadBalancers(desired, containers);
    const byUid = new Map(services.map((s) => [s.metadata.uid, s]));

    for (const c of plan.remove) {
      await this.lbs.remove(c.name);
      this.logger.log(`removed load balancer ${c.name} (${c.labels[LoadBalancerLabels.service] ?? '?'})`);
    }
    const wanted = new Set(desired.map((d) => d.uid));
    for (const svc of services) {
      if (!wanted.has(svc.metadata.uid) && hasStaleIngress(svc)) await this.writeIngress(call, svc, []);
    }
    for (const { desired: d, container } of plan.keep) {
      try {
        // Restarted (a host reboot) it may have new host ports: the status follows what Docker publishes.
        const handle = container.running ? container : await this.lbs.ensure(this.spec(cluster, d, container.labels));
        const svc = byUid.get(d.uid);
        const ingress = renderIngress(d.ports, handle.hostPorts);
        if (svc && ingress && !sameIngress(svc, ingress)) await this.writeIngress(call, svc, ingress);
      } catch (err) {
        this.logger.warn(`load balancer ${container.name} on cluster ${cluster.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (plan.create.length === 0) return;
    const rg = await this.db.findOne(ResourceGroupEntity, { where: { id: cluster.resourceGroupId } });
    if (!rg) return;
    const labels = this.fleet.clusterLabels(cluster, rg);
    for (const d of plan.create) {
      const svc = byUid.get(d.uid);
      if (!svc) continue;
      // One Service that fails (its image gone, the engine refusing) must not hold up the others: tried again next pass.
      try {
        await this.event(call, svc, 'EnsuringLoadBalancer', 'Ensuring load balancer');
        const handle = await this.lbs.ensure(this.spec(cluster, d, labels));
        const ingress = renderIngress(d.ports, handle.hostPorts);
        if (!ingress) throw new Error(`load balancer ${handle.name} runs without host ports`);
        await this.writeIngress(call, svc, ingress);
        this.logger.log(`load balancer ${handle.name} for ${d.namespace}/${d.name}: ${ingress[0].ports?.map((p) => p.port).join(',')}`);
        await this.event(call, svc, 'EnsuredLoadBalancer', 'Ensured load balancer');
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.logger.warn(`load balancer for ${d.namespace}/${d.name} on cluster ${cluster.name}: ${message}`);
        await this.event(call, svc, 'SyncLoadBalancerFailed', `Error syncing load balancer: ${message}`, 'Warning');
      }
    }
  }

  private spec(cluster: ManagedClusterEntity, d: DesiredLoadBalancer, clusterLabels: Record<string, string>) {
    return {
      name: d.containerName,
      clusterId: cluster.id,
      image: this.images.imageRef(this.images.latest()),
      labels: {
        ...clusterLabels,
        [LoadBalancerLabels.serviceUid]: d.uid,
        [LoadBalancerLabels.service]: `${d.namespace}/${d.name}`,
        [LoadBalancerLabels.portsHash]: d.portsHash,
      },
      ports: d.ports,
    };
  }

  /** Through the status subresource, as upstream's service controller: the user's spec is never written. */
  private async writeIngress(call: Call, svc: ServiceObject, ingress: NonNullable<ReturnType<typeof renderIngress>>): Promise<void> {
    const r = await call('PATCH', `${servicePath(svc.metadata.namespace, svc.metadata.name)}/status`, {
      json: { status: { loadBalancer: ingress.length ? { ingress } : { ingress: null } } },
      contentType: 'application/merge-patch+json',
    });
    if (r.status >= 300 && r.status !== 404)
      throw new Error(`update status of service ${svc.metadata.namespace}/${svc.metadata.name}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
  }

  /** An event on the Service, as upstream's service controller records them; best effort. */
  private async event(call: Call, svc: ServiceObject, reason: string, message: string, type: 'Normal' | 'Warning' = 'Normal'): Promise<void> {
    const now = new Date().toISOString();
    const { namespace, name, uid, resourceVersion } = svc.metadata;
    const r = await call('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, {
      json: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
        involvedObject: { apiVersion: 'v1', kind: 'Service', namespace, name, uid, resourceVersion },
        reason,
        message,
        type,
        source: { component: 'service-controller' },
        reportingComponent: 'service-controller',
        reportingInstance: 'cerulean-worker',
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    }).catch((err: unknown) => ({ status: 0, body: (err as Error).message }));
    if (r.status >= 300 || r.status === 0) this.logger.warn(`event ${reason} on service ${namespace}/${name}: ${r.status} ${r.body.slice(0, 200)}`);
  }
}
