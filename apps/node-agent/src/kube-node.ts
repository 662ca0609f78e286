import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { networkInterfaces, release } from 'node:os';
import { dirname } from 'node:path';
import type { NodeAgentStatus, ResourceList } from '@cerulean/node-provider';
import { readText } from './cgroup';
import { CONTROL_PLANE_ALIAS, CONTROL_PLANE_API_PORT, parseTaint } from './control-plane';
import { expectOk, KubeApi, type KubeClientTls } from './kube-api';
import { KUBELET_SERVER_PORT } from './kubelet-server/port';
import { computeAllocatable } from './node-agent';
import { formatCpu, formatMemory } from './quantity';
import type { LogLine } from './server';

/** Mirrors NODE_KUBE_DIR in libs/node-provider: the node's client certificate for the cluster's Kubernetes API. */
export const NODE_KUBE_DIR = '/etc/cerulean/kube';
export const KUBE_API_URL = `https://${CONTROL_PLANE_ALIAS}:${CONTROL_PLANE_API_PORT}`;
/** The nominal CPU, memory and pods of the node's VM size (capacity itself is what the container may really use). */
export const VM_SIZE_CAPACITY_ANNOTATION = 'kubernetes.azure.com/vm-size-capacity';
const LEASE_NAMESPACE = 'kube-node-lease';
/** kubelet's defaults: the lease lasts 40 s and is renewed every 10 s; status is posted every 10 s. */
const LEASE_DURATION_SECONDS = 40;
export const NODE_SYNC_INTERVAL_MS = 10_000;
/** The first retry of a round that failed before the node was registered (kubelet: 100 ms, doubling up to 7 s). */
const REGISTER_RETRY_MS = 100;
const REGISTER_RETRY_MAX_MS = 7_000;
/**
 * Errors that say no API server listens yet: its container not on the network, or its process still starting. A node
 * starts together with its cluster's control plane here (on AKS the control plane is up long before), and a refused
 * connection costs the server nothing, so these are retried every 100 ms without the back-off; the node then
 * registers right after the server listens, not up to a doubled interval later (0.7 s in a 1-node create).
 */
const NOT_LISTENING_YET = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);
/**
 * After it starts, until its Node was posted Ready, the kubelet checks every 100 ms whether the node could turn Ready
 * and posts its status as soon as it can (upstream's fastStatusUpdateOnce), for at most its 120 s ready grace period.
 */
const FAST_STATUS_MS = 100;
const FAST_STATUS_FOR_MS = 120_000;

export interface KubeNodeSite {
  /** Azure region (topology.kubernetes.io/region). */
  location: string;
  /** The node resource group (MC_…), AKS's kubernetes.azure.com/cluster label. */
  nodeResourceGroup: string;
}

export { kubeApiAgent, type KubeClientTls } from './kube-api';

type Json = Record<string, unknown>;
type Taint = ReturnType<typeof parseTaint> & { timeAdded?: string };
/** The keys of the taints node lifecycle (kube-controller-manager) puts on and takes off a Node. */
const NODE_LIFECYCLE_TAINT_PREFIX = 'node.kubernetes.io/';

/**
 * The node's address on its cluster network (eth0, Docker's interface), what kubelet reports as InternalIP. The pod
 * network's own interfaces (the cni0 bridge, the pods' veths) and loopback (which carries the cluster DNS address)
 * are never it.
 */
export function internalIp(interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): string | undefined {
  const v4 = (name: string) => interfaces[name]?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
  const eth0 = v4('eth0');
  if (eth0) return eth0;
  for (const name of Object.keys(interfaces).sort()) {
    if (name === 'lo' || name === 'cni0' || name.startsWith('veth')) continue;
    const address = v4(name);
    if (address) return address;
  }
  return undefined;
}

/**
 * What the node can really hold: its container's CPU and memory limits (the VM size's nominal figures go to an
 * annotation), pods = the pool's maxPods.
 */
export function realCapacity(status: NodeAgentStatus): ResourceList {
  const capacity: ResourceList = { ...status.capacity };
  if (status.cgroup.cpus !== null) capacity.cpu = formatCpu(status.cgroup.cpus);
  if (status.cgroup.memoryMaxBytes !== null) capacity.memory = formatMemory(status.cgroup.memoryMaxBytes);
  return capacity;
}

/** The Node's metadata and spec, as AKS labels and taints it. */
export function nodeMeta(status: NodeAgentStatus, site: KubeNodeSite): { metadata: Json; spec: Json } {
  return {
    metadata: {
      name: status.name,
      labels: {
        ...status.labels,
        agentpool: status.pool,
        'kubernetes.azure.com/role': 'agent',
        'kubernetes.azure.com/cluster': site.nodeResourceGroup,
        'topology.kubernetes.io/region': site.location,
      },
      annotations: {
        [VM_SIZE_CAPACITY_ANNOTATION]: JSON.stringify(status.capacity),
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: {
      providerID: `cerulean:///clusters/${status.clusterId}/nodes/${status.name}`,
      // Merge patch replaces lists whole: an empty list clears taints the node no longer has.
      taints: status.taints.map(parseTaint),
      unschedulable: status.unschedulable,
    },
  };
}

/** What kubelet reads of its machine and its runtime for the Node's nodeInfo (cadvisor's MachineInfo, CRI Version). */
export interface NodeSystemInfo {
  kernelVersion: string;
  machineID: string;
  systemUUID: string;
  bootID: string;
  /** `<runtime name>://<version>` from the CRI's Version call; empty until the runtime has answered it. */
  containerRuntimeVersion: string;
}

const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

/**
 * The node's machine ID: /etc/machine-id (or dbus's copy), where kubelet reads it. The node image has none, so the first
 * start writes one (32 random hex digits), as systemd-machine-id-setup does on a machine's first boot; it lasts as long
 * as the node's container (restarts, cluster stop/start) and a replaced node gets a new one, as a new VM does.
 */
export function ensureMachineId(files: string[] = MACHINE_ID_FILES): string {
  for (const file of files) {
    const id = readText(file);
    if (id) return id;
  }
  const id = randomBytes(16).toString('hex');
  try {
    mkdirSync(dirname(files[0]), { recursive: true });
    writeFileSync(files[0], `${id}\n`);
  } catch {
    return '';
  }
  return id;
}

/**
 * The machine part of nodeInfo, from where kubelet (through cadvisor) reads it: the kernel's release, the machine ID, the
 * DMI product UUID (absent in the node's container here: empty, as kubelet leaves it) and the kernel's boot ID. A node
 * shares the host's kernel, so those are the host's, as on kind's nodes.
 */
export function readMachineInfo(machineIdFiles: string[] = MACHINE_ID_FILES): Omit<NodeSystemInfo, 'containerRuntimeVersion'> {
  return {
    kernelVersion: release(),
    machineID: ensureMachineId(machineIdFiles),
    systemUUID: readText('/sys/class/dmi/id/product_uuid') ?? '',
    bootID: readText('/proc/sys/kernel/random/boot_id') ?? '',
  };
}

/** The Node's status: capacity, allocatable, Ready, addresses and node info, as kubelet posts it. */
export function nodeStatus(status: NodeAgentStatus, address: string | undefined, system: NodeSystemInfo): Json {
  const capacity = realCapacity(status);
  return {
    capacity,
    allocatable: computeAllocatable(capacity),
    conditions: status.conditions,
    addresses: [...(address ? [{ type: 'InternalIP', address }] : []), { type: 'Hostname', address: status.name }],
    daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_SERVER_PORT } },
    nodeInfo: {
      kubeletVersion: `v${status.kubernetesVersion}`,
      kubeProxyVersion: `v${status.kubernetesVersion}`,
      operatingSystem: 'linux',
      architecture: status.labels['kubernetes.io/arch'] ?? 'amd64',
      osImage: 'Ubuntu 22.04.5 LTS',
      containerRuntimeVersion: system.containerRuntimeVersion,
      kernelVersion: system.kernelVersion,
      machineID: system.machineID,
      systemUUID: system.systemUUID,
      bootID: system.bootID,
    },
  };
}

/**
 * The Ready condition's status. libs/node-provider's readyCondition reads the same, but the agent takes only types from
 * there: a value import pulls the Docker provider (dockerode, ssh2's native module) into the node's bundle.
 */
function readyOf(status: NodeAgentStatus): string | undefined {
  return status.conditions.find((c) => c.type === 'Ready')?.status;
}

/**
 * The node agent as a kubelet towards the cluster's Kubernetes API, with the node's client certificate
 * (system:node:<name>, group system:nodes): registers the Node (POST /api/v1/nodes; an existing one gets its
 * labels, annotations and taints re-applied), then every interval posts its status (Ready) and renews its Lease
 * in kube-node-lease. A failed call is retried at the next tick: the control plane may be restarting.
 */
export class KubeNodeRegistration {
  private timer: NodeJS.Timeout | undefined;
  private registered = false;
  /** The Ready status the Node was last posted with. */
  private postedReady: string | undefined;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private readonly api: KubeApi;

  constructor(
    private readonly options: {
      status: () => NodeAgentStatus;
      /** The machine and runtime part of nodeInfo (node-role: readMachineInfo and the CRI's Version). */
      systemInfo: () => NodeSystemInfo;
      site: KubeNodeSite;
      tls: KubeClientTls;
      log: LogLine;
      apiUrl?: string;
      intervalMs?: number;
      now?: () => Date;
    },
  ) {
    this.api = new KubeApi(options.tls, options.apiUrl ?? KUBE_API_URL, { maxSockets: 2, userAgent: 'cerulean-node-agent' });
  }

  /**
   * Syncs now, then every interval. Until the node is registered, a failed round is tried again sooner (100 ms,
   * doubling up to 7 s, as kubelet registers; every 100 ms while nothing listens yet), so a node that starts while its
   * control plane is still coming up appears right after it, not a whole interval later. Until its Node was first
   * posted Ready (its container runtime may still be starting), the status goes out as soon as the node is Ready, not
   * at the next interval.
   */
  start(): void {
    const interval = this.options.intervalMs ?? NODE_SYNC_INTERVAL_MS;
    const fastUntil = Date.now() + FAST_STATUS_FOR_MS;
    const awaitingReady = () => this.registered && this.postedReady !== 'True' && Date.now() < fastUntil;
    let retryMs = REGISTER_RETRY_MS;
    let lastSync = 0;
    const schedule = (ms: number) => {
      if (this.stopped) return;
      this.timer = setTimeout(tick, ms);
      this.timer.unref();
    };
    const tick = () => {
      // Nothing to post yet: the node is still not Ready and the interval has not come round.
      if (awaitingReady() && Date.now() - lastSync < interval && readyOf(this.options.status()) !== 'True') return schedule(FAST_STATUS_MS);
      lastSync = Date.now();
      this.running = this.sync()
        .then(() => {
          retryMs = REGISTER_RETRY_MS;
          return awaitingReady() ? FAST_STATUS_MS : interval;
        })
        .catch((err: unknown) => {
          this.options.log({ msg: 'kubernetes API sync failed', error: err instanceof Error ? err.message : String(err) });
          if (this.registered) return interval;
          if (NOT_LISTENING_YET.has((err as NodeJS.ErrnoException).code ?? '')) return REGISTER_RETRY_MS;
          const next = retryMs;
          retryMs = Math.min(retryMs * 2, REGISTER_RETRY_MAX_MS, interval);
          return next;
        })
        .then(schedule);
    };
    tick();
  }

  /** Posts the final status (the agent is stopping: Ready=False) once, then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    if (this.registered) await this.postStatus().catch(() => undefined);
    this.api.close();
  }

  /** One round: register unless done, then status and lease (the kubelet, kubelet/kubelet.ts, runs the pods). */
  async sync(): Promise<void> {
    const createdWithStatus = !this.registered && (await this.register());
    if (!createdWithStatus) await this.postStatus();
    await this.renewLease();
  }

  /**
   * Creates the Node with its status, as kubelet's initialNode does (the API server keeps a Node's status on create),
   * so its first version already says Ready or not and what it holds: true then. An existing Node gets the platform's
   * metadata again and false: its status goes out as a status update.
   */
  private async register(): Promise<boolean> {
    const status = this.options.status();
    const { metadata, spec } = nodeMeta(status, this.options.site);
    const created = await this.call('POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata,
      spec,
      status: nodeStatus(status, internalIp(), this.options.systemInfo()),
    });
    let withStatus = false;
    if (created.status === 409) {
      // Registered before (the agent restarted): the platform's labels and taints win again, as kubelet's do. The taints
      // node lifecycle keeps (node.kubernetes.io/*: not-ready, unreachable, pressure, unschedulable) stay: they say what
      // the node is now, and a patch without them would let pods onto a node that is not Ready until the next pass. The
      // resourceVersion makes it fail (and the next round try again) if they changed in between.
      const path = `/api/v1/nodes/${encodeURIComponent(status.name)}`;
      const current = await this.call('GET', path);
      expectOk(current, 'read the Node');
      const node = JSON.parse(current.body) as { metadata: { resourceVersion?: string }; spec?: { taints?: Taint[] } };
      const platform = spec.taints as Taint[];
      const kept = (node.spec?.taints ?? []).filter(
        (t) => t.key.startsWith(NODE_LIFECYCLE_TAINT_PREFIX) && !platform.some((p) => p.key === t.key && p.effect === t.effect),
      );
      const patched = await this.call('PATCH', path, {
        metadata: { ...metadata, resourceVersion: node.metadata.resourceVersion },
        spec: { ...spec, taints: [...platform, ...kept] },
      });
      expectOk(patched, 'update the Node');
    } else {
      expectOk(created, 'register the Node');
      this.postedReady = readyOf(status);
      withStatus = true;
    }
    this.registered = true;
    this.options.log({ msg: 'node registered', node: status.name, ready: readyOf(status) });
    return withStatus;
  }

  private async postStatus(): Promise<void> {
    const status = this.options.status();
    const r = await this.call('PATCH', `/api/v1/nodes/${encodeURIComponent(status.name)}/status`, {
      status: nodeStatus(status, internalIp(), this.options.systemInfo()),
    });
    // Deleted under us (by the platform, or by hand): register again at the next tick.
    if (r.status === 404) this.registered = false;
    expectOk(r, 'post the Node status');
    this.postedReady = readyOf(status);
  }

  private async renewLease(): Promise<void> {
    const name = this.options.status().name;
    const now = (this.options.now?.() ?? new Date()).toISOString().replace(/Z$/, '000Z');
    const path = `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases/${encodeURIComponent(name)}`;
    const renewed = await this.call('PATCH', path, { spec: { holderIdentity: name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: now } });
    if (renewed.status !== 404) return expectOk(renewed, 'renew the Lease');
    const created = await this.call('POST', `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases`, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: LEASE_NAMESPACE },
      spec: { holderIdentity: name, leaseDurationSeconds: LEASE_DURATION_SECONDS, acquireTime: now, renewTime: now },
    });
    expectOk(created, 'create the Lease');
  }

  private call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: Json) {
    return this.api.call(method, path, body);
  }
}
