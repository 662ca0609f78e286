import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { NodeImageCatalog, type NodeImage } from '@cerulean/catalog';
import { ProviderError } from './provider-error';
import { NODE_AGENT_PORT, NodeLabels } from './node-provider';
import { tarStream, withParentDirs, type HostFileEntry, type RootfsEntry } from './tar';
import { APP_FILE, CODE_CACHE_FILE } from './code-cache';
import { dockerArchive, NODE_IMAGE_WORKLOAD_DIR, workloadImages } from './workload-images';

// The ustar writer moved to ./tar (DockerNodeProvider.exec needs it too); still exported from here.
export { tarHeader, tarStream, withParentDirs, type HostFileEntry, type RootfsEntry } from './tar';

const execFileAsync = promisify(execFile);

// Persisted on images: renaming one makes every existing image look stale (one rebuild, harmless).
export const NodeImageLabels = {
  version: NodeLabels.nodeImageVersion,
  contentHash: 'cerulean.node-image-hash',
  rootfsHash: 'cerulean.node-image-rootfs-hash',
} as const;

export const NODE_IMAGE_AGENT_DIR = '/opt/cerulean/agent';
export const NODE_IMAGE_NODE_PATH = '/usr/local/bin/node';
/**
 * Node's flags for the node agent (not for the API server it starts in a control plane: its children get their own
 * arguments); its code cache is made with them too.
 * - `--optimize-for-size` trades some speed for a smaller heap and less compiled code: the agent of an idle node held
 *   28 MiB of anonymous memory after 5 minutes with it and 35 MiB without (2026-12-05); the agent waits on containerd
 *   and the API server far more than it computes.
 * - `--use-openssl-ca`: the agent trusts only its cluster's CA, never a public one. Without it, the first TLS context
 *   given a `ca` copies Node's ~140 bundled root certificates into a new store: 24 ms of CPU in the node image, 5 % of
 *   every agent's samples while a 10-node cluster came up (2026-12-07). With it, the store is OpenSSL's, and the
 *   node image has no certificates of its own: 2.5 ms.
 */
export const NODE_AGENT_FLAGS = ['--optimize-for-size', '--use-openssl-ca'];
/** Debian's etcd-server, run only by the control plane (nodes carry the file and never start it). */
export const NODE_IMAGE_ETCD_PATH = '/usr/local/bin/etcd';
/** The API server bundled into one file with its npm dependencies (see cli/bundle-kube-apiserver.ts), plus its assets. */
export const NODE_IMAGE_KUBE_APISERVER_DIR = '/opt/cerulean/kube-apiserver';
// runCommand needs grep (to find a timed-out command's processes), mkdir, rm and unzip (its context); the runtime's
// set-up needs mount and umount (the cgroup hierarchy) and ip (routes to the other nodes' pod ranges).
const BUSYBOX_APPLETS = ['sh', 'ls', 'cat', 'ps', 'sleep', 'hostname', 'env', 'echo', 'kill', 'grep', 'mkdir', 'rm', 'unzip', 'mount', 'umount', 'ip'];
/**
 * The container runtime of every node (Debian's containerd, runc and CNI plugins, copied from the host with the
 * libraries they link): host path → path in the image.
 */
export const NODE_IMAGE_RUNTIME_BINARIES: Readonly<Record<string, string>> = {
  '/usr/bin/containerd': '/usr/bin/containerd',
  '/usr/bin/containerd-shim-runc-v2': '/usr/bin/containerd-shim-runc-v2',
  '/usr/bin/ctr': '/usr/bin/ctr',
  '/usr/sbin/runc': '/usr/sbin/runc',
};
export const NODE_IMAGE_CNI_DIR = '/usr/lib/cni';
/** kube-proxy's iptables (Debian's nf_tables variant) and the extensions it loads at run time (not listed by ldd). */
const IPTABLES_BINARY = '/usr/sbin/xtables-nft-multi';
const IPTABLES_NAMES = ['iptables', 'iptables-restore', 'iptables-save'];
const XTABLES_DIR = '/usr/lib/x86_64-linux-gnu/xtables';
/** What kube-proxy's rules, the CNI plugins' and Docker's embedded-DNS rules in a node use (each costs an `ldd`). */
const XTABLES_EXTENSIONS = [
  ...['standard', 'comment', 'mark', 'MARK', 'statistic', 'DNAT', 'SNAT', 'MASQUERADE', 'NAT', 'REDIRECT', 'addrtype', 'conntrack', 'state'],
  ...['tcp', 'udp', 'sctp', 'multiport', 'CONNMARK', 'connmark', 'physdev', 'LOG', 'set'],
]
  .map((x) => `libxt_${x}.so`)
  .concat(['libipt_REJECT.so', 'libipt_icmp.so']);
const CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'];
// Files at most this big are hashed by content; larger host binaries by size and mtime.
const HASH_CONTENT_LIMIT = 1024 * 1024;

export interface NodeImageBuilderOptions {
  /** Default: `new Dockerode()` on the default socket. */
  docker?: Dockerode;
  catalog?: NodeImageCatalog;
  /** The bundled agent (the folder holding main.js, see cli/bundle-kube-apiserver.ts). Default: `<repo>/dist/bundle/node-agent`. */
  agentDir?: string;
  /** Default: the running Node binary. */
  nodeBinary?: string;
  /** A statically linked busybox. Default: /bin/busybox (Debian's busybox-static). */
  busybox?: string;
  /** The etcd server binary (copied with the shared libraries it links). Default: /usr/bin/etcd (Debian's etcd-server). */
  etcdBinary?: string;
  /**
   * The bundled API server folder (its main.js and assets). Default: `<repo>/dist/bundle/kube-apiserver`. Optional
   * while the API server is being written: without it the control plane serves the agent's own small API.
   */
  kubeApiServerDir?: string;
  /** Host paths of the runtime binaries (keys of NODE_IMAGE_RUNTIME_BINARIES) and the CNI plugin folder, for tests. */
  runtimeBinaries?: Record<string, string>;
  cniDir?: string;
}

export interface NodeImageBuildResult {
  ref: string;
  version: string;
  imageId: string;
  contentHash: string;
  /** `imported`: full rootfs import; `derived`: metadata-only build on an image with the same rootfs; `up-to-date`: skipped. */
  action: 'imported' | 'derived' | 'up-to-date';
  durationMs: number;
}

interface ImageMeta {
  env: string[];
  labels: Record<string, string>;
  cmd: string[];
}

/**
 * Builds the node images of the catalog without a registry: the host's `node` binary, its shared
 * libraries, busybox and the built agent, imported as a single-layer image. An image whose
 * content-hash label matches is left alone, so re-runs cost a few milliseconds.
 */
export class NodeImageBuilder {
  private readonly docker: Dockerode;
  private readonly catalog: NodeImageCatalog;
  private readonly agentDir: string;
  private readonly nodeBinary: string;
  private readonly busybox: string;
  private readonly etcdBinary: string;
  private readonly kubeApiServerDir: string;
  private readonly runtimeBinaries: Record<string, string>;
  private readonly cniDir: string;

  constructor(options: NodeImageBuilderOptions = {}) {
    this.docker = options.docker ?? new Dockerode();
    this.catalog = options.catalog ?? new NodeImageCatalog();
    this.agentDir = options.agentDir ?? path.join(findRepoRoot(__dirname), 'dist/bundle/node-agent');
    this.nodeBinary = options.nodeBinary ?? process.execPath;
    this.busybox = options.busybox ?? '/bin/busybox';
    this.etcdBinary = options.etcdBinary ?? '/usr/bin/etcd';
    this.kubeApiServerDir = options.kubeApiServerDir ?? path.join(findRepoRoot(__dirname), 'dist/bundle/kube-apiserver');
    this.runtimeBinaries = { ...Object.fromEntries(Object.keys(NODE_IMAGE_RUNTIME_BINARIES).map((k) => [k, k])), ...options.runtimeBinaries };
    this.cniDir = options.cniDir ?? NODE_IMAGE_CNI_DIR;
  }

  /** Builds every catalog image that is missing or stale, in catalog order. */
  async buildAll(options: { force?: boolean; onResult?: (r: NodeImageBuildResult) => void } = {}): Promise<NodeImageBuildResult[]> {
    const entries = await this.rootfsEntries();
    const rootfsHash = await hashRootfs(entries, await this.nodeVersion());
    const results: NodeImageBuildResult[] = [];
    // An image already carrying this rootfs: later versions only need new metadata on top of it.
    let base: string | undefined;
    for (const image of this.catalog.list()) {
      const started = performance.now();
      const ref = this.catalog.imageRef(image);
      const meta = imageMeta(image, rootfsHash);
      const contentHash = sha256(JSON.stringify({ rootfsHash, meta }));
      meta.labels[NodeImageLabels.contentHash] = contentHash;

      const existing = await this.inspectImage(ref);
      let action: NodeImageBuildResult['action'];
      let imageId: string;
      if (!options.force && existing && existing.Config.Labels?.[NodeImageLabels.contentHash] === contentHash) {
        action = 'up-to-date';
        imageId = existing.Id;
      } else if (base) {
        action = 'derived';
        imageId = await this.derive(base, ref, meta);
      } else {
        action = 'imported';
        imageId = await this.importRootfs(entries, ref, meta);
      }
      base = base ?? ref;
      const result = { ref, version: image.version, imageId, contentHash, action, durationMs: performance.now() - started };
      options.onResult?.(result);
      results.push(result);
    }
    await this.pruneReplaced();
    return results;
  }

  /** Everything that goes into the image's filesystem, parents before children. */
  async rootfsEntries(): Promise<RootfsEntry[]> {
    const mainJs = path.join(this.agentDir, 'main.js');
    if (!existsSync(mainJs)) {
      throw new ProviderError(`node agent not built: ${mainJs} is missing (run \`npm run build\`)`, {
        code: 'InvalidSpec',
        transient: false,
      });
    }
    if (!existsSync(this.etcdBinary)) {
      throw new ProviderError(`etcd not installed: ${this.etcdBinary} is missing (apt-get install etcd-server)`, { code: 'InvalidSpec', transient: false });
    }
    const runtime: [string, string][] = [
      ...Object.entries(NODE_IMAGE_RUNTIME_BINARIES).map(([key, target]): [string, string] => [this.runtimeBinaries[key] ?? key, target]),
      ...CNI_PLUGINS.map((p): [string, string] => [path.join(this.cniDir, p), path.posix.join(NODE_IMAGE_CNI_DIR, p)]),
      [IPTABLES_BINARY, IPTABLES_BINARY],
    ];
    for (const so of XTABLES_EXTENSIONS) runtime.push([path.join(XTABLES_DIR, so), path.join(XTABLES_DIR, so)]);
    const missing = runtime.filter(([source]) => !existsSync(source)).map(([source]) => source);
    if (missing.length) {
      throw new ProviderError(
        `container runtime not installed: ${missing.join(', ')} missing (apt-get install containerd runc containernetworking-plugins iptables)`,
        {
          code: 'InvalidSpec',
          transient: false,
        },
      );
    }
    const files: RootfsEntry[] = [];
    files.push(await fileFrom(this.nodeBinary, NODE_IMAGE_NODE_PATH));
    files.push(await fileFrom(this.etcdBinary, NODE_IMAGE_ETCD_PATH));
    for (const [source, target] of runtime) files.push(await fileFrom(source, target));
    const libs = new Set<string>();
    // ~130 files: ldd them a few at a time rather than one after another (seconds on a busy machine).
    const binaries = [this.nodeBinary, this.etcdBinary, ...runtime.map(([source]) => source)];
    for (let i = 0; i < binaries.length; i += 16) {
      for (const found of await Promise.all(binaries.slice(i, i + 16).map((b) => sharedLibraries(b)))) for (const lib of found) libs.add(lib);
    }
    for (const lib of libs) files.push(await fileFrom(lib, lib));
    for (const name of IPTABLES_NAMES) files.push({ type: 'symlink', path: `/usr/sbin/${name}`, target: path.basename(IPTABLES_BINARY) });
    const busybox = await fileFrom(this.busybox, '/bin/busybox');
    files.push(busybox);
    files.push({
      type: 'file',
      path: path.posix.join(NODE_IMAGE_WORKLOAD_DIR, 'images.tar'),
      mode: 0o644,
      content: await dockerArchive(workloadImages(busybox)),
    });
    for (const applet of BUSYBOX_APPLETS) files.push({ type: 'symlink', path: `/bin/${applet}`, target: 'busybox' });
    for (const [p, text] of Object.entries(ETC_FILES)) files.push({ type: 'file', path: p, mode: 0o644, content: Buffer.from(text) });
    files.push(...(await bundleEntries(this.agentDir, NODE_IMAGE_AGENT_DIR, NODE_AGENT_FLAGS, (name) => name.endsWith('.js') || name === CODE_CACHE_FILE)));
    if (existsSync(path.join(this.kubeApiServerDir, 'main.js'))) {
      files.push(...(await bundleEntries(this.kubeApiServerDir, NODE_IMAGE_KUBE_APISERVER_DIR, [])));
    }
    const dirs: RootfsEntry[] = [
      { type: 'dir', path: '/tmp', mode: 0o1777 },
      { type: 'dir', path: '/root', mode: 0o700 },
      ...['/proc', '/sys', '/dev', '/etc', '/etc/cni/net.d', '/var/lib/containerd', '/var/log/pods', '/var/lib/kubelet'].map((p): RootfsEntry => ({
        type: 'dir',
        path: p,
        mode: 0o755,
      })),
    ];
    return withParentDirs([...dirs, ...files]);
  }

  private async nodeVersion(): Promise<string> {
    if (path.resolve(this.nodeBinary) === process.execPath) return process.version;
    const { stdout } = await execFileAsync(this.nodeBinary, ['--version']);
    return stdout.trim();
  }

  private async importRootfs(entries: RootfsEntry[], ref: string, meta: ImageMeta): Promise<string> {
    const { repo, tag } = splitRef(ref);
    const changes = [
      ...meta.env.map((e) => `ENV ${e.slice(0, e.indexOf('='))}=${JSON.stringify(e.slice(e.indexOf('=') + 1))}`),
      ...Object.entries(meta.labels).map(([k, v]) => `LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`),
      `EXPOSE ${NODE_AGENT_PORT}/tcp`,
      `WORKDIR ${NODE_IMAGE_AGENT_DIR}`,
      `CMD ${JSON.stringify(meta.cmd)}`,
    ];
    try {
      const stream = await this.docker.importImage(tarStream(entries), { repo, tag, changes });
      await this.follow(stream);
    } catch (err) {
      throw ProviderError.fromDocker(err, `import node image ${ref}`);
    }
    return this.mustInspectImage(ref);
  }

  /** A metadata-only build on top of an image that already has the right rootfs (~0.15 s instead of a full import). */
  private async derive(base: string, ref: string, meta: ImageMeta): Promise<string> {
    const dockerfile = [
      `FROM ${base}`,
      ...meta.env.map((e) => `ENV ${e.slice(0, e.indexOf('='))}=${JSON.stringify(e.slice(e.indexOf('=') + 1))}`),
      ...Object.entries(meta.labels).map(([k, v]) => `LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`),
      '',
    ].join('\n');
    const context = tarStream([{ type: 'file', path: '/Dockerfile', mode: 0o644, content: Buffer.from(dockerfile) }]);
    try {
      const stream = await this.docker.buildImage(context, { t: ref, rm: true, forcerm: true });
      await this.follow(stream);
    } catch (err) {
      throw ProviderError.fromDocker(err, `build node image ${ref}`);
    }
    return this.mustInspectImage(ref);
  }

  private follow(stream: NodeJS.ReadableStream): Promise<void> {
    return new Promise((resolve, reject) => {
      this.docker.modem.followProgress(stream, (err: Error | null, output: unknown[]) => {
        if (err) return reject(err);
        const failed = output.find((o): o is { error: string } => typeof o === 'object' && o !== null && 'error' in o);
        if (failed) return reject(new Error(String(failed.error)));
        resolve();
      });
    });
  }

  private async inspectImage(ref: string): Promise<Dockerode.ImageInspectInfo | undefined> {
    try {
      return await this.docker.getImage(ref).inspect();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw ProviderError.fromDocker(err, `inspect image ${ref}`);
    }
  }

  private async mustInspectImage(ref: string): Promise<string> {
    const info = await this.inspectImage(ref);
    if (!info) throw new ProviderError(`image ${ref} missing right after it was built`, { code: 'EngineError', transient: true });
    return info.Id;
  }

  /**
   * Deletes node images a rebuild untagged. One still used by a node answers 409 and stays until a
   * later run finds it unused; deleting a derived image also prunes its untagged base.
   */
  private async pruneReplaced(): Promise<void> {
    let dangling: Dockerode.ImageInfo[];
    try {
      dangling = await this.docker.listImages({ filters: { dangling: ['true'], label: [NodeImageLabels.contentHash] } });
    } catch (err) {
      throw ProviderError.fromDocker(err, 'list replaced node images');
    }
    for (const image of dangling) {
      try {
        await this.docker.getImage(image.Id).remove();
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        if (status !== 404 && status !== 409) throw ProviderError.fromDocker(err, `remove replaced image ${image.Id}`);
      }
    }
  }
}

const ETC_FILES: Record<string, string> = {
  '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  '/etc/group': 'root:x:0:\nnogroup:x:65534:\n',
  // Docker bind-mounts its own /etc/hosts at run time; this one serves `docker run --network none`.
  '/etc/hosts': '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n',
  '/etc/nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files dns\n',
};

function imageMeta(image: NodeImage, rootfsHash: string): ImageMeta {
  return {
    env: ['PATH=/usr/local/bin:/usr/bin:/usr/sbin:/bin', `CERULEAN_NODE_IMAGE_VERSION=${image.version}`],
    labels: {
      [NodeImageLabels.version]: image.version,
      [NodeImageLabels.rootfsHash]: rootfsHash,
    },
    cmd: [NODE_IMAGE_NODE_PATH, ...NODE_AGENT_FLAGS, `${NODE_IMAGE_AGENT_DIR}/main.js`],
  };
}

/** The shared libraries (dynamic loader included) `ldd` lists; fails on any "not found". */
export function parseLddOutput(output: string): string[] {
  const libs: string[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('linux-vdso') || line.startsWith('linux-gate')) continue;
    if (/=>\s*not found/.test(line)) throw new Error(`missing shared library: ${line}`);
    const m = /^(?:\S+\s+=>\s+)?(\/\S+)(?:\s+\(0x[0-9a-f]+\))?$/.exec(line);
    if (m) libs.push(m[1]);
  }
  return [...new Set(libs)];
}

async function sharedLibraries(binary: string): Promise<string[]> {
  try {
    const { stdout } = await execFileAsync('ldd', [binary]);
    return parseLddOutput(stdout);
  } catch (err) {
    const stdout = (err as { stdout?: string }).stdout ?? '';
    // A static binary needs nothing else.
    if (/not a dynamic executable/.test(stdout + String((err as { stderr?: string }).stderr ?? ''))) return [];
    throw err;
  }
}

async function fileFrom(source: string, target: string): Promise<HostFileEntry> {
  const real = await fs.realpath(source);
  const st = await fs.stat(real);
  return { type: 'file', path: target, mode: st.mode & 0o7777, source: real, size: st.size, mtimeMs: st.mtimeMs };
}

/**
 * A bundle folder's files (cli/bundle-kube-apiserver.ts) at `target` in the image. A rebuilt bundle with the same code
 * must not force a new image: its files are hashed by content whatever their size (the agent's outgrew the size up to
 * which files are, and each build's new mtime made a new image). Its V8 code cache is not the same bytes twice for
 * the same code, so it is hashed by what made it: the bundle beside it, the Node version of the image, and the flags
 * the program runs with (`nodeFlags`).
 */
async function bundleEntries(
  dir: string,
  target: string,
  nodeFlags: readonly string[],
  keep: (name: string) => boolean = () => true,
): Promise<HostFileEntry[]> {
  const entries: HostFileEntry[] = [];
  for (const f of await listFiles(dir, keep)) {
    const entry = await fileFrom(path.join(dir, f), path.posix.join(target, f));
    const hash = f === CODE_CACHE_FILE ? { hashAs: `V8 code cache of ${APP_FILE} made with flags [${nodeFlags.join(' ')}]` } : { byContent: true };
    entries.push({ ...entry, mode: 0o644, ...hash });
  }
  return entries;
}

async function listFiles(dir: string, keep: (name: string) => boolean, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const d of await fs.readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...(await listFiles(dir, keep, rel)));
    else if (d.isFile() && keep(d.name)) out.push(rel);
  }
  return out.sort();
}

/** Hash over what the image will contain: small files by content, big host binaries by size and mtime. */
async function hashRootfs(entries: RootfsEntry[], nodeVersion: string): Promise<string> {
  const h = createHash('sha256').update(`node ${nodeVersion}\n`);
  for (const e of entries) {
    if (e.type === 'dir') h.update(`d ${e.path} ${e.mode}\n`);
    else if (e.type === 'symlink') h.update(`l ${e.path} ${e.target}\n`);
    else if ('content' in e) h.update(`f ${e.path} ${e.mode} `).update(e.content).update('\n');
    else if (e.hashAs !== undefined) h.update(`g ${e.path} ${e.mode} ${e.hashAs}\n`);
    else if (e.size <= HASH_CONTENT_LIMIT || e.byContent)
      h.update(`f ${e.path} ${e.mode} `)
        .update(await fs.readFile(e.source))
        .update('\n');
    else h.update(`b ${e.path} ${e.mode} ${e.size} ${e.mtimeMs}\n`);
  }
  return h.digest('hex');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function splitRef(ref: string): { repo: string; tag: string } {
  const i = ref.lastIndexOf(':');
  return i > ref.lastIndexOf('/') ? { repo: ref.slice(0, i), tag: ref.slice(i + 1) } : { repo: ref, tag: 'latest' };
}

/** The directory holding package.json, walking up from `start` (works from src/ under jest and from dist/). */
export function findRepoRoot(start: string): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}
