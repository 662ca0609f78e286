/**
 * The worker's only view of where nodes run. Docker implements it today; another provider
 * (Kubernetes pods, VMs) must fit without touching the API or the operation engine.
 * Every method is idempotent: repeating a call after a crash converges, never duplicates.
 */

// Persisted on every container and network (Docker labels): renaming one orphans existing nodes.
export const NodeLabels = {
  managed: 'cerulean.managed',
  /** Which Cerulean installation (database) owns the node: orphan sweeps never touch another's. */
  installation: 'cerulean.installation',
  subscription: 'cerulean.subscription',
  resourceGroup: 'cerulean.resource-group',
  cluster: 'cerulean.cluster',
  clusterId: 'cerulean.cluster-id',
  pool: 'cerulean.pool',
  node: 'cerulean.node',
  zone: 'cerulean.zone',
  nodeImageVersion: 'cerulean.node-image-version',
  kubernetesVersion: 'cerulean.kubernetes-version',
  /** Absent on nodes; `control-plane` on the cluster's API server container (not a node: never counted in a pool). */
  role: 'cerulean.role',
  /** On nodes: the version of the agent credential it was given (NODE_AGENT_AUTH_VERSION); absent on older nodes. */
  agentAuth: 'cerulean.agent-auth',
  /** On the control plane: the credentials generation its certificates belong to. */
  credentialsGeneration: 'cerulean.credentials-generation',
} as const;

export const ControlPlaneRole = 'control-plane';

/** The port the node agent listens on inside its container (kubelet's port, for familiarity). */
export const NODE_AGENT_PORT = 10250;

/** The control plane's HTTPS port inside its container (kube-apiserver's usual secure port). */
export const CONTROL_PLANE_API_PORT = 6443;
/** Plain-HTTP port where node agents report to the control plane; on the cluster network only, never published. */
export const CONTROL_PLANE_HEARTBEAT_PORT = 10251;
/** The control plane's DNS name on the cluster network (Docker alias); node agents find it there. */
export const CONTROL_PLANE_ALIAS = 'cerulean-control-plane';
/** Where the control plane reads its certificates and keys (written into the container before it starts). */
export const CONTROL_PLANE_PKI_DIR = '/etc/cerulean/pki';
/** Where a node finds the cluster CA and its own client certificate for the Kubernetes API (ca.crt, node.crt, node.key). */
export const NODE_KUBE_DIR = '/etc/cerulean/kube';
/** Where the control plane's etcd keeps its data: a per-cluster volume, so the cluster's state outlives the container. */
export const CONTROL_PLANE_ETCD_DIR = '/var/lib/etcd';
/** The per-cluster etcd volume (labelled with the cluster: removed with it, or by the orphan reaper). */
export const controlPlaneVolumeName = (clusterId: string): string => `cerulean-etcd-${clusterId}`;

/** A file written into the container before each start (e.g. keys: never passed as environment variables). */
export interface NodeFile {
  /** Absolute path in the container. */
  path: string;
  content: string;
  mode: number;
}

/** A named volume mounted into the node: it outlives the container (kept across replacement), removed only by name. */
export interface NodeVolume {
  name: string;
  /** Absolute mount point in the container. */
  target: string;
  /** Set when the volume is created (list and reap volumes by them, like nodes). */
  labels: Record<string, string>;
}

export interface VolumeHandle {
  name: string;
  labels: Record<string, string>;
}

export interface NodeSpec {
  /** Node name; also the container name and hostname (`aks-<pool>-<8 digits>-vmss00000N`). */
  name: string;
  /** Cluster id (uuid): selects the cluster's network. */
  clusterId: string;
  /** Image reference (repository:tag), the tag being the node image version. */
  image: string;
  /** Docker labels, including every `NodeLabels` key that applies. */
  labels: Record<string, string>;
  /** Environment for the node agent (see apps/node-agent). */
  env: Record<string, string>;
  nanoCpus: number;
  memoryBytes: number;
  /** Relative CPU weight when the host's cores are contended (Docker's CpuShares; default 1024, like every node). */
  cpuShares?: number;
  zone: string;
  /** Container ports published on the publish host at fixed host ports (the control plane's API server). */
  fixedPorts?: { containerPort: number; hostPort: number }[];
  /** Files put into the container before it starts. */
  files?: NodeFile[];
  /** More DNS names on the cluster network besides `name`. */
  aliases?: string[];
  /** Named volumes, created (with their labels) unless they exist. */
  volumes?: NodeVolume[];
  /**
   * The node runs pods: it gets what nested containers need (see buildContainerCreateOptions) and a disk of its own for
   * containerd, removed with the node.
   */
  containerRuntime?: boolean;
}

export type NodeRuntimeState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface NodeHandle {
  name: string;
  /** Provider-specific id (Docker container id). */
  id: string;
  state: NodeRuntimeState;
  labels: Record<string, string>;
  zone: string;
  /** Base URL of the node agent as published on the loopback address, when running. */
  agentUrl?: string;
  createdAt: Date;
}

export interface NetworkHandle {
  name: string;
  id: string;
  labels: Record<string, string>;
}

export interface NodeProvider {
  /** Creates the cluster's private network unless it exists. */
  ensureNetwork(clusterId: string, labels: Record<string, string>): Promise<NetworkHandle>;
  /**
   * Removes the cluster's network; a missing network is not an error. False when the engine refuses for
   * "active endpoints" although no container is attached any more (Docker's stale endpoints, moby#42119, which
   * only an engine restart clears): the network is left to the orphan reaper, which tries again later.
   */
  removeNetwork(clusterId: string): Promise<boolean>;
  /** Creates the node unless it exists, starts it unless running, and returns it with its agent URL. */
  ensureNode(spec: NodeSpec): Promise<NodeHandle>;
  /** Force-removes the node; a missing node is not an error. */
  removeNode(name: string): Promise<void>;
  inspectNode(name: string): Promise<NodeHandle | undefined>;
  /** Every node whose labels include all of `labels`. */
  listNodes(labels: Record<string, string>): Promise<NodeHandle[]>;
  /** Every network whose labels include all of `labels`. */
  listNetworks(labels: Record<string, string>): Promise<NetworkHandle[]>;
  /** Every Cerulean volume whose labels include all of `labels`. */
  listVolumes(labels: Record<string, string>): Promise<VolumeHandle[]>;
  /** Removes a volume and its data; a missing one is not an error, one still mounted is a `Conflict`. */
  removeVolume(name: string): Promise<void>;
  stopNode(name: string): Promise<void>;
  startNode(name: string): Promise<NodeHandle>;
  /**
   * Runs `cmd` in a running node and returns its output and exit code. Not idempotent: the caller makes
   * sure a command runs once. A command still running after `timeoutMs` is killed with every process
   * it started. Throws `NotFound` for a missing node and `Conflict` for one that is not running.
   */
  exec(name: string, cmd: string[], options: ExecOptions): Promise<ExecResult>;
}

/** A file placed in an exec's working directory before the command starts. */
export interface ExecFile {
  /** Relative to the working directory, without `..`. */
  path: string;
  content: Buffer;
  /** Default 0o644. */
  mode?: number;
}

export interface ExecOptions {
  timeoutMs: number;
  /** Absolute directory the command runs in. With `files`, it is created first (its parent must exist). */
  workingDir?: string;
  files?: ExecFile[];
  /** The most output kept (first and last halves; the middle is cut). Default 1 MiB. */
  maxOutputBytes?: number;
}

export interface ExecResult {
  /** Absent when the command timed out and was killed. */
  exitCode?: number;
  /** stdout and stderr interleaved as they arrived. */
  output: string;
  /** Bytes of output cut from the middle. */
  droppedBytes: number;
  timedOut: boolean;
  startedAt: Date;
  finishedAt: Date;
}

export const NODE_PROVIDER = Symbol('NODE_PROVIDER');
