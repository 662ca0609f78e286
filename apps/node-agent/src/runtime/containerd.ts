import { existsSync, promises as fs, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { runOnNode, shellQuote, spawnOnNode } from '../exec';
import { REGISTRY_CONFIG_DIR, writeRegistryHosts } from './registry-hosts';
import type { LogLine } from '../server';
import { SupervisedChild, waitUntil } from '../supervisor';

export const CONTAINERD_BINARY = '/usr/bin/containerd';
export const CTR_BINARY = '/usr/bin/ctr';
export const CONTAINERD_SOCKET = '/run/containerd/containerd.sock';
export const CONTAINERD_CONFIG = '/etc/containerd/config.toml';
export const CNI_BIN_DIR = '/usr/lib/cni';
export const CNI_CONF_DIR = '/etc/cni/net.d';
/** host-local IPAM's leases (its default dataDir). */
const CNI_IPAM_STATE_DIR = '/var/lib/cni/networks';
/** The archives the node image carries (mirrors NODE_IMAGE_WORKLOAD_DIR in libs/node-provider). */
export const WORKLOAD_IMAGE_DIR = '/opt/cerulean/images';
/** Mirrors PAUSE_IMAGE in libs/node-provider: built with the node image, never pulled. */
export const SANDBOX_IMAGE = 'cerulean.local/pause:3.10';
/** containerd's namespace for the CRI plugin's containers and images. */
export const CRI_NAMESPACE = 'k8s.io';
const CGROUP_ROOT = '/sys/fs/cgroup';
/** Mounted again one by one: combined names such as cpu,cpuacct fail where the host mounts them apart. */
export const CGROUP_V1_CONTROLLERS = ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids'];
const CONTAINERD_READY_TIMEOUT_MS = 60_000;
/**
 * Go's collector lets the heap grow to twice what is live before it collects (GOGC=100). An idle node's containerd
 * lives on memory its image import left behind: collecting at +50 % keeps it smaller for little CPU.
 */
export const CONTAINERD_ENV: Record<string, string> = { GOGC: '50' };

/**
 * containerd's configuration for a node: the CRI plugin with runc (cgroupfs, as the node's cgroup tree is its own),
 * the CNI plugins of the image, the locally built sandbox image. The node has no CAP_SYS_RESOURCE, so containers may
 * not get an oom_score_adj below the node's own (restrict_oom_score_adj); the host's AppArmor profiles do not apply
 * inside a node.
 */
export function containerdConfig(options: { sandboxImage?: string; logLevel?: string } = {}): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return [
    'version = 2',
    'root = "/var/lib/containerd"',
    'state = "/run/containerd"',
    // Plugins a node never uses: less memory and a faster start.
    'disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]',
    '',
    '[grpc]',
    `  address = "${CONTAINERD_SOCKET}"`,
    '',
    '[debug]',
    `  level = "${options.logLevel ?? 'warn'}"`,
    '',
    `[${cri}]`,
    `  sandbox_image = "${options.sandboxImage ?? SANDBOX_IMAGE}"`,
    '  restrict_oom_score_adj = true',
    '  disable_apparmor = true',
    '  enable_selinux = false',
    `[${cri}.containerd]`,
    '  snapshotter = "overlayfs"',
    '  default_runtime_name = "runc"',
    `[${cri}.containerd.runtimes.runc]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `[${cri}.containerd.runtimes.runc.options]`,
    '  SystemdCgroup = false',
    `[${cri}.cni]`,
    `  bin_dir = "${CNI_BIN_DIR}"`,
    `  conf_dir = "${CNI_CONF_DIR}"`,
    // Per-registry hosts.toml files (registry-hosts.ts): the installation registry's names map to its cluster alias.
    `[${cri}.registry]`,
    `  config_path = "${REGISTRY_CONFIG_DIR}"`,
    '',
  ].join('\n');
}

interface MountEntry {
  mountPoint: string;
  fsType: string;
  options: string[];
}

/** /proc/self/mountinfo's mount point, file system type and per-mount options. */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const fields = left.split(' ');
    const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    out.push({ mountPoint: unescape(fields[4]), fsType: right.split(' ')[0], options: fields[5].split(',') });
  }
  return out;
}

export type CgroupPlan = { kind: 'ready' } | { kind: 'remount-v1'; unmount: string[] } | { kind: 'unsupported'; reason: string };

/**
 * What it takes to give containerd a writable cgroup tree rooted at the node's own cgroup. Docker mounts the
 * hierarchy read-only; with the node's private cgroup namespace, mounting each v1 controller again gives a tree whose
 * root is the node's cgroup, so pods' cgroups sit under the node's limits.
 */
export function planCgroups(mounts: MountEntry[]): CgroupPlan {
  const under = mounts.filter((m) => m.mountPoint === CGROUP_ROOT || m.mountPoint.startsWith(`${CGROUP_ROOT}/`));
  if (under.some((m) => m.mountPoint === CGROUP_ROOT && m.fsType === 'cgroup2')) {
    return { kind: 'unsupported', reason: 'the host uses cgroup v2 only (unified hierarchy); nodes support cgroup v1 hosts for now' };
  }
  const controllers = CGROUP_V1_CONTROLLERS.map((c) => under.find((m) => m.mountPoint === `${CGROUP_ROOT}/${c}`));
  if (controllers.every((m) => m && m.fsType === 'cgroup' && m.options.includes('rw'))) return { kind: 'ready' };
  // Deepest first, the root last.
  const unmount = under.map((m) => m.mountPoint).sort((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a));
  return { kind: 'remount-v1', unmount };
}

/** One shell for the whole remount: each process the agent spawns costs a fork of a large process on a slow node. */
export function cgroupMountScript(unmount: string[]): string {
  return [
    'set -e',
    ...unmount.map((m) => `umount ${shellQuote(m)}`),
    `mount -t tmpfs -o mode=755 cgroup_root ${CGROUP_ROOT}`,
    ...CGROUP_V1_CONTROLLERS.map((c) => `mkdir -p ${CGROUP_ROOT}/${c} && mount -t cgroup -o ${c} cgroup ${CGROUP_ROOT}/${c}`),
    `mkdir -p ${CGROUP_ROOT}/systemd && mount -t cgroup -o none,name=systemd cgroup ${CGROUP_ROOT}/systemd`,
  ].join('\n');
}

/**
 * How often the remount is tried. A path lookup in flight on the cgroup tmpfs (the agent reading its own limits at
 * start) makes umount fail with EBUSY for a moment, and one such failure left a node NotReady for good.
 */
export const CGROUP_MOUNT_ATTEMPTS = 5;

export interface CgroupMountSteps {
  mountInfo: () => string;
  run: (argv: string[]) => Promise<unknown>;
  pause: (ms: number) => Promise<void>;
}

const REAL_CGROUP_STEPS: CgroupMountSteps = {
  mountInfo: () => readFileSync('/proc/self/mountinfo', 'utf8'),
  run: runOnNode,
  pause: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Remounts the cgroup hierarchy, planned again from the mount table before each attempt (a failed one may have done part). */
export async function prepareCgroups(log: LogLine, steps: CgroupMountSteps = REAL_CGROUP_STEPS): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const plan = planCgroups(parseMountInfo(steps.mountInfo()));
    if (plan.kind === 'ready') return;
    if (plan.kind === 'unsupported') throw new Error(plan.reason);
    try {
      await steps.run(['sh', '-c', cgroupMountScript(plan.unmount)]);
      log({ msg: 'cgroup hierarchy mounted for containers', controllers: CGROUP_V1_CONTROLLERS });
      return;
    } catch (err) {
      if (attempt >= CGROUP_MOUNT_ATTEMPTS) throw err;
      log({ msg: 'cgroup hierarchy not remounted, trying again', attempt, error: err instanceof Error ? err.message : String(err) });
      await steps.pause(100 * attempt);
    }
  }
}

function socketAccepts(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socket);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export type RuntimeState = { ready: true } | { ready: false; reason: string; message: string };

/**
 * containerd inside the node: prepares the cgroup tree, writes the configuration, keeps containerd running (restarted
 * with back-off when it dies) and imports the images the node image carries. `state()` feeds the Node's Ready
 * condition, as kubelet's runtime check does: the node is Ready once containerd serves; the image import goes on in
 * the background (`imagesImported()`), as image pulls do on a real node.
 */
export class ContainerdRuntime {
  private current: RuntimeState = { ready: false, reason: 'ContainerRuntimeNotReady', message: 'container runtime is starting' };
  private child: SupervisedChild | undefined;
  private serving!: () => void;
  private readonly servingPromise = new Promise<void>((resolve) => (this.serving = resolve));
  private imported!: () => void;
  private readonly importedPromise = new Promise<void>((resolve) => (this.imported = resolve));

  constructor(
    private readonly log: LogLine,
    private readonly options: { socket?: string; imageDir?: string; registryMirrors?: Record<string, string> } = {},
  ) {}

  static available(): boolean {
    return existsSync(CONTAINERD_BINARY) && existsSync(CTR_BINARY);
  }

  get socket(): string {
    return this.options.socket ?? CONTAINERD_SOCKET;
  }

  state(): RuntimeState {
    return this.current;
  }

  /** Resolves once containerd accepts connections on its socket. */
  whenServing(): Promise<void> {
    return this.servingPromise;
  }

  /** Resolves once the node image's own images are in containerd (or their import, or containerd, failed). */
  imagesImported(): Promise<void> {
    return this.importedPromise;
  }

  async start(): Promise<void> {
    const started = performance.now();
    try {
      // A restarted node (cluster stop/start) gets a new podCIDR when it registers again: the pod network of its last
      // life must not serve a sandbox before the new one is written (the CRI reports the network not ready until
      // then), and no pod's network namespace survived, so neither do its address leases. Synchronous, before the
      // first await: the pod network writes the new config as soon as it learns the podCIDR.
      rmSync(CNI_CONF_DIR, { recursive: true, force: true });
      rmSync(CNI_IPAM_STATE_DIR, { recursive: true, force: true });
      await prepareCgroups(this.log);
      await fs.mkdir(path.dirname(CONTAINERD_CONFIG), { recursive: true });
      await fs.mkdir(CNI_CONF_DIR, { recursive: true });
      await fs.writeFile(CONTAINERD_CONFIG, containerdConfig());
      await writeRegistryHosts(this.options.registryMirrors ?? {});
      this.child = new SupervisedChild(
        { name: 'containerd', command: CONTAINERD_BINARY, args: ['--config', CONTAINERD_CONFIG], env: CONTAINERD_ENV },
        this.log,
      );
      this.child.start();
      await waitUntil('containerd', () => socketAccepts(this.socket), CONTAINERD_READY_TIMEOUT_MS, 50);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.current = { ready: false, reason: 'ContainerRuntimeNotReady', message: `container runtime is down: ${message}` };
      this.log({ msg: 'container runtime failed to start', error: message });
      this.imported();
      return;
    }
    const serving = performance.now();
    this.current = { ready: true };
    this.serving();
    this.log({ msg: 'container runtime serving', ms: Math.round(serving - started) });
    try {
      const images = await this.importImages();
      this.log({ msg: 'node images imported', ms: Math.round(performance.now() - serving), images });
    } catch (err) {
      this.log({ msg: 'importing the node images failed', error: err instanceof Error ? err.message : String(err) });
    } finally {
      this.imported();
    }
  }

  async stop(): Promise<void> {
    await this.child?.stop();
  }

  /** The image archives, each in one `ctr import` (unpacked for the overlayfs snapshotter, as a pull would). */
  private async importImages(): Promise<string[]> {
    const dir = this.options.imageDir ?? WORKLOAD_IMAGE_DIR;
    if (!existsSync(dir)) return [];
    const names: string[] = [];
    for (const file of (await fs.readdir(dir)).filter((f) => f.endsWith('.tar')).sort()) {
      // Its own process: an import takes seconds, and the node's shell would hold every other command behind it.
      const out = await spawnOnNode([
        CTR_BINARY,
        '--address',
        this.socket,
        '--namespace',
        CRI_NAMESPACE,
        'images',
        'import',
        '--snapshotter',
        'overlayfs',
        path.join(dir, file),
      ]);
      for (const m of out.matchAll(/^unpacking (\S+)/gm)) names.push(m[1]);
    }
    return names.sort();
  }
}
