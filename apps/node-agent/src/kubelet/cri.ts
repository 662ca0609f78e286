import * as grpc from '@grpc/grpc-js';
import type { INamespace } from 'protobufjs';
import criApi from '../../data/cri-api.json';
import { grpcClients } from '../../../../libs/kube/src/grpc-clients';

/** containerd's socket inside the node; its CRI plugin serves runtime.v1. */
export const DEFAULT_CRI_ENDPOINT = 'unix:///run/containerd/containerd.sock';
/**
 * Upstream's --runtime-request-timeout (2 min), for every call but the streaming ones. Most calls are quick, but on a
 * node starting many pods at once RunPodSandbox waits its turn for CPU: 100 pods on 3 nodes of a 2-core machine took
 * up to 25 s each, and a shorter deadline (10 s, 20 s for sandboxes, until 2026-12) gave up on sandboxes containerd
 * was about to finish, so the retry made each one twice and the batch's slowest pod took 66 s instead of ~40 s.
 */
const DEFAULT_DEADLINE_MS = 2 * 60_000;

/** CRI's int64 timestamps (nanoseconds since the epoch) arrive as decimal strings (protobufjs `longs: String`). */
export type Int64 = string;

export type ContainerStateName = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface LinuxContainerResources {
  cpu_period?: number;
  cpu_quota?: number;
  cpu_shares?: number;
  memory_limit_in_bytes?: number;
  oom_score_adj?: number;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname: string;
  log_directory: string;
  dns_config?: { servers: string[]; searches: string[]; options: string[] };
  port_mappings?: { protocol: 'TCP' | 'UDP' | 'SCTP'; container_port: number; host_port: number; host_ip: string }[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  linux: {
    cgroup_parent: string;
    security_context: { namespace_options: { network: NamespaceMode; pid: NamespaceMode; ipc: NamespaceMode } };
    resources?: LinuxContainerResources;
  };
}

export interface Mount {
  container_path: string;
  host_path: string;
  readonly: boolean;
  selinux_relabel?: boolean;
}

export interface ContainerConfig {
  metadata: { name: string; attempt: number };
  image: { image: string; user_specified_image?: string };
  command: string[];
  args: string[];
  working_dir: string;
  envs: { key: string; value: string }[];
  mounts: Mount[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  log_path: string;
  stdin: boolean;
  stdin_once: boolean;
  tty: boolean;
  linux: {
    resources: LinuxContainerResources;
    /** `target_id` with pid TARGET: the container whose process namespace this one joins (kubectl debug --target). */
    security_context: { namespace_options: { network: NamespaceMode; pid: NamespaceMode; ipc: NamespaceMode; target_id?: string } };
  };
}

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  created_at: Int64;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodSandboxStatus extends PodSandbox {
  network?: { ip: string; additional_ips: { ip: string }[] } | null;
}

export interface CriContainer {
  id: string;
  pod_sandbox_id: string;
  metadata: { name: string; attempt: number };
  image_ref: string;
  state: ContainerStateName;
  created_at: Int64;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface CriContainerStatus {
  id: string;
  metadata: { name: string; attempt: number };
  state: ContainerStateName;
  created_at: Int64;
  started_at: Int64;
  finished_at: Int64;
  exit_code: number;
  image: { image: string } | null;
  image_ref: string;
  reason: string;
  message: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  log_path: string;
}

/** One container's figures from ListContainerStats (uint64 values as decimal strings; absent when not measured). */
export interface CriContainerStats {
  attributes: { id: string; metadata: { name: string; attempt: number } | null; labels: Record<string, string> } | null;
  cpu: { timestamp: Int64; usage_core_nano_seconds: { value: string } | null } | null;
  memory: { timestamp: Int64; working_set_bytes: { value: string } | null } | null;
}

export interface CriImage {
  id: string;
  repo_tags: string[];
  repo_digests: string[];
  /** uint64 as a decimal string. */
  size: string;
}

/** Registry credentials for one PullImage (CRI's AuthConfig); the runtime sends them to the image's registry. */
export interface AuthConfig {
  username: string;
  password: string;
}

/** A failed CRI call: the gRPC status code (grpc.status) and the runtime's message. */
export class CriError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly details: string,
  ) {
    super(`CRI ${method}: ${details || `gRPC status ${code}`}`);
  }

  get notFound(): boolean {
    return this.code === grpc.status.NOT_FOUND;
  }

  /** The error as a Go gRPC client prints it (`rpc error: code = NotFound desc = …`): what upstream's kubelet shows. */
  get grpcText(): string {
    return `rpc error: code = ${GRPC_CODE_NAMES[this.code] ?? `Code(${this.code})`} desc = ${this.details}`;
  }
}

/** grpc-go's names of the status codes (codes.Code.String()). */
const GRPC_CODE_NAMES: Record<number, string> = {
  0: 'OK',
  1: 'Canceled',
  2: 'Unknown',
  3: 'InvalidArgument',
  4: 'DeadlineExceeded',
  5: 'NotFound',
  6: 'AlreadyExists',
  7: 'PermissionDenied',
  8: 'ResourceExhausted',
  9: 'FailedPrecondition',
  10: 'Aborted',
  11: 'OutOfRange',
  12: 'Unimplemented',
  13: 'Internal',
  14: 'Unavailable',
  15: 'DataLoss',
  16: 'Unauthenticated',
};

type Unary = (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

type CriServices = Record<'RuntimeService' | 'ImageService', grpc.ServiceClientConstructor>;
let loadedServices: CriServices | undefined;

/** The two services' clients, built once per process from the bundled descriptor. */
function criServices(): CriServices {
  loadedServices ??= grpcClients(criApi as INamespace, 'runtime.v1') as CriServices;
  return loadedServices;
}

/**
 * A runtime.v1 client over the runtime's socket (containerd's CRI plugin): the RuntimeService and ImageService calls
 * the kubelet makes, each a promise with a deadline. The descriptor is bundled JSON (data/cri-api.json, generated from
 * kubernetes/cri-api by tools/gen-cri-api.ts), so the agent reads no .proto file at run time.
 */
export class CriClient {
  private readonly runtime: grpc.Client;
  private readonly images: grpc.Client;

  constructor(
    readonly endpoint: string = DEFAULT_CRI_ENDPOINT,
    private readonly deadlineMs = DEFAULT_DEADLINE_MS,
  ) {
    const services = criServices();
    // Both services share one channel: the same socket, one connection.
    const options = { 'grpc.max_receive_message_length': 16 * 1024 * 1024 };
    this.runtime = new services.RuntimeService(endpoint, grpc.credentials.createInsecure(), options);
    this.images = new services.ImageService(endpoint, grpc.credentials.createInsecure(), { ...options, channelOverride: this.runtime.getChannel() });
  }

  close(): void {
    this.runtime.close();
  }

  version(): Promise<{ runtime_name: string; runtime_version: string; runtime_api_version: string }> {
    return this.unary(this.runtime, 'Version', { version: 'v1' });
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    const r = await this.unary<{ pod_sandbox_id: string }>(this.runtime, 'RunPodSandbox', { config, runtime_handler: runtimeHandler });
    return r.pod_sandbox_id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    await this.unary(this.runtime, 'StopPodSandbox', { pod_sandbox_id: id });
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.unary(this.runtime, 'RemovePodSandbox', { pod_sandbox_id: id });
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    const r = await this.unary<{ status: PodSandboxStatus }>(this.runtime, 'PodSandboxStatus', { pod_sandbox_id: id });
    return r.status;
  }

  /**
   * The sandbox's network namespace (a file to enter it by), from the runtime's verbose status: containerd's
   * runtimeSpec names the netns it made, else its pause process's. Undefined when the runtime does not tell.
   */
  async podSandboxNetns(id: string): Promise<string | undefined> {
    const r = await this.unary<{ info?: Record<string, string> }>(this.runtime, 'PodSandboxStatus', { pod_sandbox_id: id, verbose: true });
    try {
      const info = JSON.parse(r.info?.info ?? '{}') as { pid?: number; runtimeSpec?: { linux?: { namespaces?: { type?: string; path?: string }[] } } };
      const path = info.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network')?.path;
      return path || (info.pid ? `/proc/${info.pid}/ns/net` : undefined);
    } catch {
      return undefined;
    }
  }

  async listPodSandbox(labels: Record<string, string> = {}): Promise<PodSandbox[]> {
    const r = await this.unary<{ items: PodSandbox[] }>(this.runtime, 'ListPodSandbox', { filter: { label_selector: labels } });
    return r.items;
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    // cri-api now declares KeyValue.value as bytes (the same wire format as the string older runtimes expect):
    // protobufjs would read a string there as base64.
    const envs = config.envs.map((e) => ({ key: e.key, value: Buffer.from(e.value, 'utf8') }));
    const r = await this.unary<{ container_id: string }>(this.runtime, 'CreateContainer', {
      pod_sandbox_id: podSandboxId,
      config: { ...config, envs },
      sandbox_config: sandboxConfig,
    });
    return r.container_id;
  }

  async startContainer(id: string): Promise<void> {
    await this.unary(this.runtime, 'StartContainer', { container_id: id });
  }

  /** containerd sends the stop signal, waits `timeoutSeconds`, then SIGKILLs: the call lasts up to that long. */
  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.unary(this.runtime, 'StopContainer', { container_id: id, timeout: timeoutSeconds }, timeoutSeconds * 1000 + this.deadlineMs);
  }

  async removeContainer(id: string): Promise<void> {
    await this.unary(this.runtime, 'RemoveContainer', { container_id: id });
  }

  async listContainers(filter: { podSandboxId?: string; labels?: Record<string, string> } = {}): Promise<CriContainer[]> {
    const r = await this.unary<{ containers: CriContainer[] }>(this.runtime, 'ListContainers', {
      filter: { pod_sandbox_id: filter.podSandboxId ?? '', label_selector: filter.labels ?? {} },
    });
    return r.containers;
  }

  async containerStatus(id: string): Promise<CriContainerStatus> {
    const r = await this.unary<{ status: CriContainerStatus }>(this.runtime, 'ContainerStatus', { container_id: id });
    return r.status;
  }

  async execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<{ stdout: Buffer; stderr: Buffer; exit_code: number }> {
    return this.unary(this.runtime, 'ExecSync', { container_id: id, cmd, timeout: timeoutSeconds }, timeoutSeconds * 1000 + this.deadlineMs);
  }

  async listContainerStats(): Promise<CriContainerStats[]> {
    const r = await this.unary<{ stats: CriContainerStats[] }>(this.runtime, 'ListContainerStats', { filter: {} });
    return r.stats ?? [];
  }

  /** A streaming exec: the runtime answers the URL of its streaming server where the command runs once connected. */
  async exec(req: { containerId: string; cmd: string[]; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): Promise<string> {
    const r = await this.unary<{ url: string }>(this.runtime, 'Exec', {
      container_id: req.containerId,
      cmd: req.cmd,
      tty: req.tty,
      stdin: req.stdin,
      stdout: req.stdout,
      stderr: req.stderr,
    });
    return r.url;
  }

  /** A streaming attach to the container's own stdio: the URL of the runtime's streaming server. */
  async attach(req: { containerId: string; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): Promise<string> {
    const r = await this.unary<{ url: string }>(this.runtime, 'Attach', {
      container_id: req.containerId,
      stdin: req.stdin,
      tty: req.tty,
      stdout: req.stdout,
      stderr: req.stderr,
    });
    return r.url;
  }

  /** The image if the runtime has it, else null. */
  async imageStatus(image: string): Promise<CriImage | null> {
    const r = await this.unary<{ image: CriImage | null }>(this.images, 'ImageStatus', { image: { image } });
    return r.image && r.image.id ? r.image : null;
  }

  async pullImage(image: string, sandboxConfig?: PodSandboxConfig, auth?: AuthConfig): Promise<string> {
    const r = await this.unary<{ image_ref: string }>(this.images, 'PullImage', {
      image: { image },
      auth: auth ?? null,
      sandbox_config: sandboxConfig ?? null,
    });
    return r.image_ref;
  }

  private unary<T>(client: grpc.Client, method: string, request: unknown, deadlineMs = this.deadlineMs): Promise<T> {
    const fn = (client as unknown as Record<string, Unary>)[method];
    return new Promise((resolve, reject) => {
      fn.call(client, request, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => {
        if (err) reject(new CriError(method, err.code, err.details));
        else resolve(res as T);
      });
    });
  }
}

/** CRI nanosecond timestamps to RFC 3339 seconds, as the API shows them; undefined for 0 (not happened). */
export function criTime(ns: Int64 | number | undefined): string | undefined {
  if (ns === undefined) return undefined;
  const big = BigInt(ns);
  if (big <= 0n) return undefined;
  return new Date(Number(big / 1_000_000_000n) * 1000).toISOString().replace('.000Z', 'Z');
}

export function criMillis(ns: Int64 | number | undefined): number {
  return ns === undefined ? 0 : Number(BigInt(ns) / 1_000_000n);
}
