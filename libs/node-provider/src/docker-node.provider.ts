import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { Duplex, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Dockerode from 'dockerode';
import {
  NODE_AGENT_PORT,
  NodeLabels,
  type ExecOptions,
  type ExecResult,
  type NetworkHandle,
  type NodeFile,
  type NodeHandle,
  type NodeProvider,
  type NodeRuntimeState,
  type NodeSpec,
  type VolumeHandle,
} from './node-provider';
import { FirewallError, IptablesFirewall, type NodeNetworkFirewall } from './node-network.firewall';
import { OutputCapture } from './output-capture';
import { dockerMessage, dockerStatus, ProviderError } from './provider-error';
import { tarStream, withParentDirs, type RootfsEntry } from './tar';

export interface DockerNodeProviderOptions {
  /** Default: `new Dockerode()` on the default socket. */
  docker?: Dockerode;
  /** Host address node agents are published on. Default 127.0.0.1; never a public address. */
  publishHost?: string;
  /** Zone of the Docker host this provider drives; reported for nodes that carry no zone label. */
  zone?: string;
  /**
   * Confines each cluster network's containers to their bridge (no host ports, no metadata address, no egress).
   * Default: the host's iptables, which needs the Docker host to be this machine's network namespace.
   */
  firewall?: NodeNetworkFirewall;
  /** Containers that join every cluster network (the installation registry): connected on ensure, disconnected before removal. */
  networkPeers?: NetworkPeer[];
}

/** A container shared by every cluster network (see LocalRegistry). Both calls are idempotent. */
export interface NetworkPeer {
  connect(networkId: string): Promise<void>;
  disconnect(networkId: string): Promise<void>;
}

/** The host interface of a bridge network (Docker's `br-<id prefix>` unless the network names its own). */
export function bridgeName(network: Pick<Dockerode.NetworkInspectInfo, 'Id' | 'Options'>): string {
  return network.Options?.['com.docker.network.bridge.name'] || `br-${network.Id.slice(0, 12)}`;
}

/** The cluster's Docker network name. */
export function networkName(clusterId: string): string {
  return `cerulean-${clusterId}`;
}

const AGENT_PORT_KEY = `${NODE_AGENT_PORT}/tcp`;

/** Set in the environment of every exec'd command, so a timed-out one can be found and killed. */
const EXEC_MARKER_ENV = 'CERULEAN_EXEC_ID';
const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
/** How long after applying a network's isolation a node create trusts it is still in place. */
const ISOLATION_FRESH_MS = 10_000;
/** How long a kill, or Docker's recording of an exit code, may take. */
const KILL_GRACE_MS = 5000;

/**
 * The full container definition for a node; exported so tests can recreate a node exactly.
 * `network` should be the network's id: a name can be ambiguous while duplicates are being cleaned up.
 */
export function buildContainerCreateOptions(
  spec: NodeSpec,
  publishHost: string,
  network: string = networkName(spec.clusterId),
): Dockerode.ContainerCreateOptions {
  // The agent reads its identity from these; the worker's values win, these only fill gaps.
  const env: Record<string, string> = {
    CERULEAN_NODE_NAME: spec.name,
    CERULEAN_CLUSTER_ID: spec.clusterId,
    CERULEAN_ZONE: spec.zone,
    ...spec.env,
  };
  const fixed = Object.fromEntries((spec.fixedPorts ?? []).map((p) => [`${p.containerPort}/tcp`, [{ HostIp: publishHost, HostPort: String(p.hostPort) }]]));
  return {
    name: spec.name,
    Hostname: spec.name,
    Image: spec.image,
    Labels: { ...spec.labels, [NodeLabels.managed]: 'true' },
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    ExposedPorts: { [AGENT_PORT_KEY]: {}, ...Object.fromEntries(Object.keys(fixed).map((k) => [k, {}])) },
    HostConfig: {
      NanoCpus: spec.nanoCpus,
      ...(spec.cpuShares ? { CpuShares: spec.cpuShares } : {}),
      Memory: spec.memoryBytes,
      // No swap beyond the memory limit, like a VM without swap.
      MemorySwap: spec.memoryBytes,
      // HostPort '' lets Docker pick a free port; it is read back from inspect.
      PortBindings: { [AGENT_PORT_KEY]: [{ HostIp: publishHost, HostPort: '' }], ...fixed },
      RestartPolicy: { Name: 'unless-stopped' },
      Init: true,
      NetworkMode: network,
      // Names on the cluster network are answered by Docker's embedded DNS at once; anything else it forwards
      // upstream, which the network's isolation rejects. glibc's default 5 s x 2 retries would make every such lookup
      // (a heartbeat while the control plane is away, the goodbye at SIGTERM) hang 10 s: fail in 1 s instead.
      DnsOptions: ['timeout:1', 'attempts:1'],
      // The agent logs every request; the status poller would otherwise grow logs without bound.
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } },
      ...(spec.volumes?.length || spec.containerRuntime
        ? {
            Mounts: [
              ...(spec.volumes ?? []).map((v) => ({ Type: 'volume' as const, Source: v.name, Target: v.target })),
              // Anonymous: removed with the node (`remove({ v: true })`); overlayfs snapshots need a real filesystem below.
              ...(spec.containerRuntime ? [{ Type: 'volume' as const, Source: '', Target: NODE_CONTAINERD_DIR }] : []),
            ],
          }
        : {}),
      ...(spec.containerRuntime ? nestedContainerHostConfig() : {}),
    },
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [spec.name, ...(spec.aliases ?? [])] } } },
  };
}

/** containerd's root in a node; its own volume, because overlayfs cannot stack on the container's overlay root. */
export const NODE_CONTAINERD_DIR = '/var/lib/containerd';

/**
 * What a node needs to run containers inside itself with containerd and runc. `Privileged` cannot be used: these hosts'
 * root lacks CAP_SYS_RESOURCE, so Docker cannot grant every capability; everything else is granted. A private cgroup
 * namespace makes the node's own cgroup the root the agent remounts (machine-notes: "Containers inside node
 * containers"), so pods sit under the node's CPU and memory limits, as on a VM.
 */
function nestedContainerHostConfig(): Dockerode.HostConfig & { CgroupnsMode: 'private' | 'host'; MaskedPaths: string[]; ReadonlyPaths: string[] } {
  return {
    CapAdd: ['ALL'],
    CapDrop: ['SYS_RESOURCE'],
    SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
    // `--security-opt systempaths=unconfined` in the API's terms: a writable /proc/sys, for the CNI bridge (ip_forward)
    // and kube-proxy (bridge-nf-call-iptables), and nothing masked under /proc for the nested runtime.
    MaskedPaths: [],
    ReadonlyPaths: [],
    DeviceCgroupRules: ['a *:* rwm'],
    CgroupnsMode: 'private',
    // /run only: runCommand puts its context under /tmp through Docker's archive API, which cannot write into a tmpfs.
    Tmpfs: { '/run': 'rw,exec,nosuid,size=65536k' },
  };
}

const RUNTIME_STATES: ReadonlySet<string> = new Set<NodeRuntimeState>(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']);

function toRuntimeState(state: string): NodeRuntimeState {
  return RUNTIME_STATES.has(state) ? (state as NodeRuntimeState) : 'dead';
}

/** `NodeProvider` on a Docker engine: one container per node, one bridge network per cluster. */
export class DockerNodeProvider implements NodeProvider {
  private readonly docker: Dockerode;
  private readonly publishHost: string;
  private readonly zone?: string;
  private readonly firewall: NodeNetworkFirewall;
  private readonly peers: NetworkPeer[];
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Network id → when this process last applied its isolation (see createContainer). */
  private readonly isolatedAt = new Map<string, number>();

  constructor(options: DockerNodeProviderOptions = {}) {
    this.docker = options.docker ?? new Dockerode();
    this.publishHost = options.publishHost ?? '127.0.0.1';
    this.zone = options.zone;
    this.firewall = options.firewall ?? new IptablesFirewall();
    this.peers = options.networkPeers ?? [];
  }

  async ensureNetwork(clusterId: string, labels: Record<string, string>): Promise<NetworkHandle> {
    const name = networkName(clusterId);
    // Docker 20.10's CheckDuplicate is not atomic: concurrent creates can all succeed. Serializing
    // per cluster rules that out within this process; resolveNetwork heals races between processes.
    return this.serialized(name, async () => {
      const existing = await this.resolveNetwork(name);
      // Every converge re-applies the isolation: it survives a flushed or rebooted host's packet filter.
      if (existing) return this.withPeers(await this.isolated(existing));
      try {
        await this.docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          CheckDuplicate: true,
          Labels: { [NodeLabels.managed]: 'true', [NodeLabels.clusterId]: clusterId, ...labels },
        });
      } catch (err) {
        if (dockerStatus(err) !== 409) throw ProviderError.fromDocker(err, `create network ${name}`);
      }
      const created = await this.resolveNetwork(name);
      if (!created) throw new ProviderError(`network ${name} vanished while being created`, { code: 'Conflict', transient: true });
      return this.withPeers(await this.isolated(created));
    });
  }

  async removeNetwork(clusterId: string): Promise<boolean> {
    const name = networkName(clusterId);
    return this.serialized(name, async () => {
      let removed = true;
      for (const n of await this.networksNamed(name)) {
        try {
          for (const peer of this.peers) await this.run(() => peer.disconnect(n.id), `disconnect from network ${name}`);
          await this.removeNetworkById(n.id, name);
        } catch (err) {
          // Endpoints the engine still lists with no container attached do not clear by retrying.
          if (!(err instanceof ProviderError && err.code === 'Conflict' && (await this.endpointCount(n.id)) === 0)) throw err;
          removed = false;
        }
      }
      await this.releaseStaleIsolation();
      return removed;
    });
  }

  async ensureNode(spec: NodeSpec): Promise<NodeHandle> {
    const info = (await this.inspectContainer(spec.name)) ?? (await this.createContainer(spec));
    this.assertManaged(info, spec.name);
    let id = info.Id;

    switch (info.State.Status) {
      case 'running':
      case 'restarting':
        return this.toHandle(info);
      case 'paused':
        await this.run(() => this.docker.getContainer(id).unpause(), `unpause node ${spec.name}`);
        break;
      case 'removing':
        throw new ProviderError(`node ${spec.name} is being removed`, { code: 'Conflict', transient: true });
      case 'dead':
        // A dead container cannot be started again; replace it.
        await this.removeNode(spec.name);
        id = (await this.createContainer(spec)).Id;
        await this.startWithFiles(id, spec);
        break;
      default:
        // 'created' (a crash between create and start) and 'exited'.
        try {
          try {
            await this.startWithFiles(id, spec);
          } catch (err) {
            // Two processes raced to create the network and Docker 20.10 let both win: keep one, try again.
            if (!(err instanceof ProviderError && /is ambiguous/.test(err.message))) throw err;
            await this.serialized(networkName(spec.clusterId), () => this.resolveNetwork(networkName(spec.clusterId)));
            await this.startWithFiles(id, spec);
          }
        } catch (err) {
          // Docker checks the network only at start: a node whose network was replaced is recreated.
          if (!(err instanceof ProviderError && err.code === 'NetworkNotFound')) throw err;
          await this.removeNode(spec.name);
          id = (await this.createContainer(spec)).Id;
          await this.startWithFiles(id, spec);
        }
    }
    let started = await this.mustInspect(id, spec.name);
    // Docker 20.10 can start a container while another process removes its network as the loser of a create race
    // (a created container holds no endpoint yet): it then runs on a network that is gone, apart from its cluster.
    // Once more on the network that won.
    const winner = await this.serialized(networkName(spec.clusterId), () => this.resolveNetwork(networkName(spec.clusterId)));
    if (winner && started.HostConfig.NetworkMode !== winner.id && started.HostConfig.NetworkMode !== winner.name) {
      await this.removeNode(spec.name);
      id = (await this.createContainer(spec)).Id;
      await this.startWithFiles(id, spec);
      started = await this.mustInspect(id, spec.name);
    }
    return this.toHandle(started);
  }

  async removeNode(name: string): Promise<void> {
    const info = await this.inspectContainer(name);
    // Not ours (or already gone): leave it alone.
    if (!info || info.Config.Labels?.[NodeLabels.managed] !== 'true') return;
    try {
      await this.docker.getContainer(info.Id).remove({ force: true, v: true });
    } catch (err) {
      const status = dockerStatus(err);
      if (status === 404) return;
      if (status === 409 && /already in progress/i.test(dockerMessage(err))) return;
      throw ProviderError.fromDocker(err, `remove node ${name}`);
    }
  }

  async inspectNode(name: string): Promise<NodeHandle | undefined> {
    const info = await this.inspectContainer(name);
    return info && info.Config.Labels?.[NodeLabels.managed] === 'true' ? this.toHandle(info) : undefined;
  }

  async listNodes(labels: Record<string, string>): Promise<NodeHandle[]> {
    const filter = labelFilter({ ...labels, [NodeLabels.managed]: 'true' });
    const containers = await this.run(() => this.docker.listContainers({ all: true, filters: { label: filter } }), 'list nodes');
    return containers.map((c) => this.summaryToHandle(c));
  }

  async listNetworks(labels: Record<string, string>): Promise<NetworkHandle[]> {
    const filter = labelFilter({ ...labels, [NodeLabels.managed]: 'true' });
    const networks = await this.run(() => this.docker.listNetworks({ filters: { label: filter } }), 'list networks');
    return networks.map((n) => ({ name: n.Name, id: n.Id, labels: n.Labels ?? {} }));
  }

  async listVolumes(labels: Record<string, string>): Promise<VolumeHandle[]> {
    const filter = labelFilter({ ...labels, [NodeLabels.managed]: 'true' });
    const found = await this.run(() => this.docker.listVolumes({ filters: { label: filter } }), 'list volumes');
    return (found.Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {} }));
  }

  async removeVolume(name: string): Promise<void> {
    try {
      await this.docker.getVolume(name).remove();
    } catch (err) {
      if (dockerStatus(err) === 404) return;
      throw ProviderError.fromDocker(err, `remove volume ${name}`);
    }
  }

  /** Stops the node (the agent exits on SIGTERM at once). Stopping a missing or stopped node is a no-op. */
  async stopNode(name: string): Promise<void> {
    const info = await this.inspectContainer(name);
    if (!info) return;
    this.assertManaged(info, name);
    try {
      await this.docker.getContainer(info.Id).stop({ t: 10 });
    } catch (err) {
      const status = dockerStatus(err);
      if (status === 304 || status === 404) return;
      throw ProviderError.fromDocker(err, `stop node ${name}`);
    }
  }

  /** Starts an existing node; throws `NotFound` when it does not exist. */
  async startNode(name: string): Promise<NodeHandle> {
    const info = await this.mustInspect(name, name);
    this.assertManaged(info, name);
    await this.start(info.Id, name);
    return this.toHandle(await this.mustInspect(info.Id, name));
  }

  /**
   * `docker exec` with stdout and stderr captured together. Every process of the command carries a
   * marker in its environment; on timeout an exec of the node's busybox (sh, grep, kill) kills each
   * process whose environment has it, children included, since Docker has no call to kill an exec.
   */
  async exec(name: string, cmd: string[], options: ExecOptions): Promise<ExecResult> {
    const info = await this.mustInspect(name, name);
    this.assertManaged(info, name);
    if (info.State.Status !== 'running') {
      throw new ProviderError(`node ${name} is not running (${info.State.Status})`, { code: 'Conflict', transient: false, statusCode: 409 });
    }
    if (options.files) await this.putFiles(info.Id, name, options.workingDir, options.files);
    const marker = `${EXEC_MARKER_ENV}=${randomUUID()}`;
    const capture = new OutputCapture(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
    const startedAt = new Date();
    const { exec, stream, ended } = await this.startExec(info.Id, name, cmd, { env: [marker], workingDir: options.workingDir, sink: (c) => capture.push(c) });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      ended.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), options.timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      await this.killMarked(info.Id, name, marker);
      await Promise.race([ended, sleep(KILL_GRACE_MS)]);
      stream.destroy();
    }
    const finishedAt = new Date();
    const exitCode = timedOut ? undefined : await this.exitCodeOf(exec, name);
    return { exitCode, output: capture.text(), droppedBytes: capture.droppedBytes, timedOut, startedAt, finishedAt };
  }

  /** Creates `workingDir` holding `files` (one putArchive; the parent directory must exist). */
  private async putFiles(containerId: string, name: string, workingDir: string | undefined, files: NonNullable<ExecOptions['files']>): Promise<void> {
    if (!workingDir || !path.posix.isAbsolute(workingDir) || path.posix.dirname(workingDir) === workingDir) {
      throw new ProviderError(`exec in node ${name}: files need an absolute working directory below /`, { code: 'InvalidSpec', transient: false });
    }
    const dir = `/${path.posix.basename(workingDir)}`;
    const entries: RootfsEntry[] = [{ type: 'dir', path: dir, mode: 0o755 }];
    for (const f of files) {
      const rel = path.posix.normalize(f.path);
      if (path.posix.isAbsolute(rel) || rel === '.' || rel.startsWith('../')) {
        throw new ProviderError(`exec in node ${name}: file path '${f.path}' leaves the working directory`, { code: 'InvalidSpec', transient: false });
      }
      entries.push({ type: 'file', path: `${dir}/${rel}`, mode: f.mode ?? 0o644, content: f.content });
    }
    await this.run(
      () => this.docker.getContainer(containerId).putArchive(tarStream(withParentDirs(entries)), { path: path.posix.dirname(workingDir) }),
      `copy files into node ${name}`,
    );
  }

  private async startExec(
    containerId: string,
    name: string,
    cmd: string[],
    o: { env?: string[]; workingDir?: string; sink: (chunk: Buffer) => void },
  ): Promise<{ exec: Dockerode.Exec; stream: Duplex; ended: Promise<void> }> {
    const exec = await this.run(
      () => this.docker.getContainer(containerId).exec({ Cmd: cmd, Env: o.env, WorkingDir: o.workingDir, AttachStdout: true, AttachStderr: true, Tty: false }),
      `exec in node ${name}`,
    );
    const stream = await this.run(() => exec.start({ hijack: true, stdin: false }), `exec in node ${name}`);
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        o.sink(chunk);
        callback();
      },
    });
    this.docker.modem.demuxStream(stream, sink, sink);
    // The stream ends when the last process holding the command's stdout/stderr exits.
    const ended = new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
    return { exec, stream, ended };
  }

  private async killMarked(containerId: string, name: string, marker: string): Promise<void> {
    const script = 'for p in /proc/[0-9]*; do grep -qzxF "$1" "$p/environ" 2>/dev/null && kill -9 "${p#/proc/}" 2>/dev/null; done; true';
    const { stream, ended } = await this.startExec(containerId, name, ['sh', '-c', script, 'sh', marker], { sink: () => undefined });
    await Promise.race([ended, sleep(KILL_GRACE_MS)]);
    stream.destroy();
  }

  /** The exit code, once Docker has recorded it (it may lag the end of the output stream a little). */
  private async exitCodeOf(exec: Dockerode.Exec, name: string): Promise<number> {
    const deadline = Date.now() + KILL_GRACE_MS;
    for (;;) {
      const inspected = await this.run(() => exec.inspect(), `inspect exec in node ${name}`);
      if (!inspected.Running && typeof inspected.ExitCode === 'number') return inspected.ExitCode;
      if (Date.now() > deadline) {
        throw new ProviderError(`exec in node ${name}: the output stream ended but the command is still running`, { code: 'EngineError', transient: false });
      }
      await sleep(20);
    }
  }

  private async createContainer(spec: NodeSpec): Promise<Dockerode.ContainerInspectInfo> {
    const network = await this.resolveNetwork(networkName(spec.clusterId));
    if (!network) {
      throw new ProviderError(`create node ${spec.name}: network ${networkName(spec.clusterId)} does not exist (ensureNetwork first)`, {
        code: 'NetworkNotFound',
        transient: false,
      });
    }
    // A node repaired after the host lost its rules (reboot) must not start unconfined. A create right after its
    // network was ensured (every node of a converge) skips the repeat: a network inspect and two iptables checks on the
    // host per node, taking the xtables lock dockerd needs to start the containers.
    if (Date.now() - (this.isolatedAt.get(network.id) ?? -Infinity) > ISOLATION_FRESH_MS) await this.isolated(network);
    // Docker would create a missing volume itself, but unlabelled: nothing could then find it to remove it.
    for (const v of spec.volumes ?? []) {
      await this.run(() => this.docker.createVolume({ Name: v.name, Labels: { ...v.labels, [NodeLabels.managed]: 'true' } }), `create volume ${v.name}`);
    }
    try {
      const container = await this.docker.createContainer(buildContainerCreateOptions(spec, this.publishHost, network.id));
      return await this.mustInspect(container.id, spec.name);
    } catch (err) {
      if (dockerStatus(err) !== 409) throw ProviderError.fromDocker(err, `create node ${spec.name}`);
      return this.adopt(spec.name, err);
    }
  }

  /** A concurrent ensureNode won the name: adopt its container, which may take a moment to become inspectable. */
  private async adopt(name: string, conflict: unknown): Promise<Dockerode.ContainerInspectInfo> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const info = await this.inspectContainer(name);
      if (info) return info;
      await new Promise((r) => setTimeout(r, 25));
    }
    // The other creator failed and released the name: a retry will create it.
    throw new ProviderError(`create node ${name}: name taken, container not found`, { code: 'Conflict', transient: true, cause: conflict });
  }

  /** Files go in before every start, so a crash between create and start still starts with them. */
  private async startWithFiles(id: string, spec: NodeSpec): Promise<void> {
    if (spec.files?.length) {
      await this.run(() => this.docker.getContainer(id).putArchive(tarStream(filesArchive(spec.files ?? [])), { path: '/' }), `put files into ${spec.name}`);
    }
    await this.start(id, spec.name);
  }

  private async start(idOrName: string, name: string): Promise<void> {
    try {
      await this.docker.getContainer(idOrName).start();
    } catch (err) {
      // 304: already running (a concurrent ensureNode started it).
      if (dockerStatus(err) === 304) return;
      throw ProviderError.fromDocker(err, `start node ${name}`);
    }
  }

  private async inspectContainer(idOrName: string): Promise<Dockerode.ContainerInspectInfo | undefined> {
    try {
      return await this.docker.getContainer(idOrName).inspect();
    } catch (err) {
      if (dockerStatus(err) === 404) return undefined;
      throw ProviderError.fromDocker(err, `inspect node ${idOrName}`);
    }
  }

  private async mustInspect(idOrName: string, name: string): Promise<Dockerode.ContainerInspectInfo> {
    const info = await this.inspectContainer(idOrName);
    if (!info) throw new ProviderError(`node ${name} not found`, { code: 'NotFound', transient: false, statusCode: 404 });
    return info;
  }

  /**
   * The cluster's network. Duplicates (two processes racing ensureNetwork) are reduced to one: the
   * network nodes already use wins, then the oldest; unused losers are deleted.
   */
  private async resolveNetwork(name: string): Promise<NetworkHandle | undefined> {
    const found = await this.networksNamed(name);
    if (found.length <= 1) return found[0];
    const ranked = await Promise.all(found.map(async (n) => ({ n, used: await this.endpointCount(n.id) })));
    ranked.sort((a, b) => b.used - a.used); // stable: ties keep oldest-first
    const [winner, ...losers] = ranked;
    for (const l of losers) if (l.used === 0) await this.removeNetworkById(l.n.id, name);
    return winner.n;
  }

  private async withPeers(network: NetworkHandle): Promise<NetworkHandle> {
    for (const peer of this.peers) await this.run(() => peer.connect(network.id), `connect to network ${network.name}`);
    return network;
  }

  /** Applies the cluster network's isolation (see NodeNetworkFirewall) and returns the network. */
  private async isolated(network: NetworkHandle): Promise<NetworkHandle> {
    let info: Dockerode.NetworkInspectInfo;
    try {
      info = await this.docker.getNetwork(network.id).inspect();
    } catch (err) {
      throw ProviderError.fromDocker(err, `inspect network ${network.name}`);
    }
    await this.firewallCall(() => this.firewall.isolate(bridgeName(info)), `isolate network ${network.name}`);
    this.isolatedAt.set(network.id, Date.now());
    return network;
  }

  /**
   * Drops Cerulean's rules for bridges that no longer exist (networks removed here, by the orphan reaper, or by
   * anyone else). Bridges of every network still on the host keep theirs, whoever's they are.
   */
  async releaseStaleIsolation(): Promise<void> {
    const ruled = await this.firewallCall(() => this.firewall.isolated(), 'list isolated networks');
    if (ruled.length === 0) return;
    const networks = await this.run(() => this.docker.listNetworks(), 'list networks');
    const live = new Set(networks.map((n) => bridgeName(n)));
    for (const bridge of ruled) if (!live.has(bridge)) await this.firewallCall(() => this.firewall.release(bridge), `release ${bridge}`);
  }

  private async firewallCall<T>(fn: () => Promise<T>, action: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof FirewallError)) throw err;
      throw new ProviderError(`${action}: ${err.message}`, { code: 'FirewallError', transient: false, cause: err });
    }
  }

  /** Networks with exactly this name (Docker's name filter matches substrings), oldest first. */
  private async networksNamed(name: string): Promise<NetworkHandle[]> {
    const all = await this.run(() => this.docker.listNetworks({ filters: { name: [name] } }), `list networks ${name}`);
    return all
      .filter((n) => n.Name === name)
      .sort((a, b) => Date.parse(a.Created) - Date.parse(b.Created) || a.Id.localeCompare(b.Id))
      .map((n) => ({ name: n.Name, id: n.Id, labels: n.Labels ?? {} }));
  }

  /** Containers attached to a network; `listNetworks` omits them, only inspect has them. */
  private async endpointCount(id: string): Promise<number> {
    try {
      const info: Dockerode.NetworkInspectInfo = await this.docker.getNetwork(id).inspect();
      return Object.keys(info.Containers ?? {}).length;
    } catch (err) {
      if (dockerStatus(err) === 404) return -1;
      throw ProviderError.fromDocker(err, `inspect network ${id}`);
    }
  }

  private async serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(fn);
    this.locks.set(key, current);
    try {
      return await current;
    } finally {
      if (this.locks.get(key) === current) this.locks.delete(key);
    }
  }

  private async removeNetworkById(id: string, name: string): Promise<void> {
    this.isolatedAt.delete(id);
    try {
      await this.docker.getNetwork(id).remove();
    } catch (err) {
      if (dockerStatus(err) === 404) return;
      const mapped = ProviderError.fromDocker(err, `remove network ${name}`);
      // Nodes still detaching (a removal in flight) clear up by themselves: worth a retry.
      if (/active endpoints/i.test(mapped.message)) {
        throw new ProviderError(mapped.message, { code: 'Conflict', transient: true, statusCode: mapped.statusCode, cause: err });
      }
      throw mapped;
    }
  }

  private assertManaged(info: Dockerode.ContainerInspectInfo, name: string): void {
    if (info.Config.Labels?.[NodeLabels.managed] !== 'true') {
      throw new ProviderError(`a container named ${name} exists and is not a Cerulean node`, {
        code: 'Conflict',
        transient: false,
        statusCode: 409,
      });
    }
  }

  private async run<T>(fn: () => Promise<T>, action: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw ProviderError.fromDocker(err, action);
    }
  }

  private toHandle(info: Dockerode.ContainerInspectInfo): NodeHandle {
    const labels = info.Config.Labels ?? {};
    const binding = info.NetworkSettings.Ports?.[AGENT_PORT_KEY]?.find((b) => b.HostPort !== '');
    return {
      name: info.Name.replace(/^\//, ''),
      id: info.Id,
      state: toRuntimeState(info.State.Status),
      labels,
      zone: labels[NodeLabels.zone] ?? this.zone ?? '',
      agentUrl: binding ? this.agentUrl(binding.HostPort) : undefined,
      createdAt: new Date(info.Created),
    };
  }

  private summaryToHandle(c: Dockerode.ContainerInfo): NodeHandle {
    const labels = c.Labels ?? {};
    const port = c.Ports.find((p) => p.PrivatePort === NODE_AGENT_PORT && p.Type === 'tcp' && p.PublicPort > 0);
    return {
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      id: c.Id,
      state: toRuntimeState(c.State),
      labels,
      zone: labels[NodeLabels.zone] ?? this.zone ?? '',
      agentUrl: port ? this.agentUrl(String(port.PublicPort)) : undefined,
      createdAt: new Date(c.Created * 1000),
    };
  }

  private agentUrl(hostPort: string): string {
    const host = this.publishHost.includes(':') ? `[${this.publishHost}]` : this.publishHost;
    return `http://${host}:${hostPort}`;
  }
}

/** Tar entries for `files`, parents first (putArchive needs the folders to exist or be in the archive). */
export function filesArchive(files: NodeFile[]): RootfsEntry[] {
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) dirs.add(`/${parts.slice(0, i).join('/')}`);
  }
  return [
    ...[...dirs].sort().map((path): RootfsEntry => ({ type: 'dir', path, mode: 0o755 })),
    ...files.map((f): RootfsEntry => ({ type: 'file', path: f.path, mode: f.mode, content: Buffer.from(f.content, 'utf8') })),
  ];
}

/** Docker's `label` filter: every `key=value` must match. */
export function labelFilter(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`);
}
