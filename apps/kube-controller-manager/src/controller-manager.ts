import { KubeClient, type KubeClientConfig } from './client/kube-client';
import type { Controller, ControllerContext, Log } from './controllers/controller';
import { EndpointsController } from './controllers/endpoints';
import { EndpointSliceController } from './controllers/endpointslice';
import { GarbageCollector } from './controllers/garbage-collector';
import { InformerHub } from './controllers/informer-hub';
import { NamespaceController } from './controllers/namespace';
import { NodeIpamController } from './controllers/node-ipam';
import { NodeLifecycleController } from './controllers/node-lifecycle';
import { PodGcController } from './controllers/pod-gc';
import { ReplicaSetController } from './controllers/replicaset.controller';
import { DeploymentController } from './controllers/deployment.controller';
import { DisruptionController } from './controllers/disruption';
import { RootCaPublisher } from './controllers/root-ca-publisher';
import { ServiceAccountsController } from './controllers/serviceaccounts';
import { JobController } from './controllers/job.controller';
import { CronJobController } from './controllers/cronjob.controller';
import { TtlAfterFinishedController } from './controllers/ttl-after-finished';
import { DaemonSetController } from './controllers/daemonset.controller';
import { StatefulSetController } from './controllers/statefulset.controller';
import { HorizontalPodAutoscalerController } from './controllers/hpa.controller';
import { ResourceQuotaController } from './controllers/resource-quota';
import { PersistentVolumeController } from './controllers/persistent-volume.controller';
import { PvcProtectionController } from './controllers/pvc-protection';
import { PvProtectionController } from './controllers/pv-protection';
import { Scheduler } from './scheduler/scheduler';

export interface ControllerManagerConfig extends KubeClientConfig {
  /** Controllers to run by name (all when absent); `scheduler` names the scheduler. */
  enabled?: string[];
  /** Upstream's --allocate-node-cidrs: the node-ipam controller runs only when set (and needs clusterCidr). */
  allocateNodeCidrs?: boolean;
  /** Upstream's --cluster-cidr: the pod range nodes get their share of. */
  clusterCidr?: string;
  /** Upstream's --node-cidr-mask-size (IPv4 default 24). */
  nodeCidrMaskSize?: number;
  /** Upstream's --horizontal-pod-autoscaler-sync-period (15 s). */
  hpaSyncPeriodMs?: number;
  log?: Log;
}

export interface RunningControllerManager {
  client: KubeClient;
  controllers: Controller[];
  scheduler?: Scheduler;
  stop(): Promise<void>;
}

/**
 * The controller manager in-process: one client, one set of shared informers, the scheduler and every controller.
 * Add a controller here (one line) and it runs in the process and in the in-process tests alike.
 */
export function startControllerManager(config: ControllerManagerConfig): RunningControllerManager {
  const client = new KubeClient({ ...config, userAgent: config.userAgent ?? 'kube-controller-manager/cerulean' });
  const informers = new InformerHub(client, (path, err) => config.log?.('watch failed; retrying', { path, error: (err as Error).message }));
  const ctx: ControllerContext = { client, informers, log: config.log };
  const wanted = (name: string) => !config.enabled || config.enabled.includes(name);
  // By name (each class's `name`), made only when wanted: a controller's constructor opens its informers' watches.
  const all: Record<string, () => Controller> = {
    'garbage-collector': () => new GarbageCollector(ctx),
    namespace: () => new NamespaceController(ctx),
    endpoints: () => new EndpointsController(ctx),
    endpointslice: () => new EndpointSliceController(ctx),
    serviceaccount: () => new ServiceAccountsController(ctx),
    // Upstream publishes its --root-ca-file; the cluster CA is the one this client trusts the API server with.
    ...(config.ca && { 'root-ca-cert-publisher': () => new RootCaPublisher(ctx, String(config.ca)) }),
    'node-lifecycle': () => new NodeLifecycleController(ctx),
    ...(config.allocateNodeCidrs && {
      'node-ipam': () => {
        if (!config.clusterCidr) throw new Error('allocateNodeCidrs needs a clusterCidr');
        return new NodeIpamController(ctx, { clusterCidr: config.clusterCidr, nodeCidrMaskSize: config.nodeCidrMaskSize ?? 24 });
      },
    }),
    'pod-garbage-collector': () => new PodGcController(ctx),
    disruption: () => new DisruptionController(ctx),
    replicaset: () => new ReplicaSetController(ctx),
    deployment: () => new DeploymentController(ctx),
    job: () => new JobController(ctx),
    cronjob: () => new CronJobController(ctx),
    'ttl-after-finished': () => new TtlAfterFinishedController(ctx),
    daemonset: () => new DaemonSetController(ctx),
    statefulset: () => new StatefulSetController(ctx),
    resourcequota: () => new ResourceQuotaController(ctx),
    'persistentvolume-binder': () => new PersistentVolumeController(ctx),
    'persistentvolume-protection': () => new PvProtectionController(ctx),
    'persistentvolumeclaim-protection': () => new PvcProtectionController(ctx),
    horizontalpodautoscaling: () => new HorizontalPodAutoscalerController(ctx, { syncPeriodMs: config.hpaSyncPeriodMs }),
  };
  const controllers = Object.entries(all)
    .filter(([name]) => wanted(name))
    .map(([name, make]) => {
      const c = make();
      if (c.name !== name) throw new Error(`controller registered as ${name} calls itself ${c.name}`);
      return c;
    });
  const scheduler = wanted('scheduler') ? new Scheduler(client, informers, { log: config.log }) : undefined;
  informers.start();
  for (const c of controllers) c.start();
  scheduler?.start();
  return {
    client,
    controllers,
    scheduler,
    stop: async () => {
      await Promise.all([...controllers.map((c) => c.stop()), scheduler?.stop()]);
      await informers.stop();
      client.close();
    },
  };
}
