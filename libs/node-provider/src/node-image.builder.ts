import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { NodeImageCatalog, type NodeImage } from '@cerulean/catalog';
import { ProviderError } from './docker-node.provider';
import { NODE_AGENT_PORT, NodeLabels } from './node-provider';

const execFileAsync = promisify(execFile);

// Persisted on images: renaming one makes every existing image look stale (one rebuild, harmless).
export const NodeImageLabels = {
  version: NodeLabels.nodeImageVersion,
  contentHash: 'cerulean.node-image-hash',
  rootfsHash: 'cerulean.node-image-rootfs-hash',
} as const;

export const NODE_IMAGE_AGENT_DIR = '/opt/cerulean/agent';
export const NODE_IMAGE_NODE_PATH = '/usr/local/bin/node';
const BUSYBOX_APPLETS = ['sh', 'ls', 'cat', 'ps', 'sleep', 'hostname', 'env', 'echo', 'kill'];
// Files at most this big are hashed by content; larger host binaries by size and mtime.
const HASH_CONTENT_LIMIT = 1024 * 1024;

/** A host file copied into the image. */
export interface HostFileEntry {
  type: 'file';
  path: string;
  mode: number;
  source: string;
  size: number;
  mtimeMs: number;
}

export type RootfsEntry =
  | { type: 'dir'; path: string; mode: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'file'; path: string; mode: number; content: Buffer }
  | HostFileEntry;

export interface NodeImageBuilderOptions {
  /** Default: `new Dockerode()` on the default socket. */
  docker?: Dockerode;
  catalog?: NodeImageCatalog;
  /** The built agent (the folder holding main.js). Default: `<repo>/dist/apps/node-agent/src`. */
  agentDir?: string;
  /** Default: the running Node binary. */
  nodeBinary?: string;
  /** A statically linked busybox. Default: /bin/busybox (Debian's busybox-static). */
  busybox?: string;
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

  constructor(options: NodeImageBuilderOptions = {}) {
    this.docker = options.docker ?? new Dockerode();
    this.catalog = options.catalog ?? new NodeImageCatalog();
    this.agentDir = options.agentDir ?? path.join(findRepoRoot(__dirname), 'dist/apps/node-agent/src');
    this.nodeBinary = options.nodeBinary ?? process.execPath;
    this.busybox = options.busybox ?? '/bin/busybox';
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
    const files: RootfsEntry[] = [];
    files.push(await fileFrom(this.nodeBinary, NODE_IMAGE_NODE_PATH));
    for (const lib of await sharedLibraries(this.nodeBinary)) files.push(await fileFrom(lib, lib));
    files.push(await fileFrom(this.busybox, '/bin/busybox'));
    for (const applet of BUSYBOX_APPLETS) files.push({ type: 'symlink', path: `/bin/${applet}`, target: 'busybox' });
    for (const [p, text] of Object.entries(ETC_FILES)) files.push({ type: 'file', path: p, mode: 0o644, content: Buffer.from(text) });
    for (const js of await listJsFiles(this.agentDir)) {
      files.push({ ...(await fileFrom(path.join(this.agentDir, js), path.posix.join(NODE_IMAGE_AGENT_DIR, js))), mode: 0o644 });
    }
    const dirs: RootfsEntry[] = [
      { type: 'dir', path: '/tmp', mode: 0o1777 },
      { type: 'dir', path: '/root', mode: 0o700 },
      ...['/proc', '/sys', '/dev', '/etc'].map((p): RootfsEntry => ({ type: 'dir', path: p, mode: 0o755 })),
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
    env: [
      'PATH=/usr/local/bin:/usr/bin:/bin',
      `CERULEAN_NODE_IMAGE_VERSION=${image.version}`,
    ],
    labels: {
      [NodeImageLabels.version]: image.version,
      [NodeImageLabels.rootfsHash]: rootfsHash,
    },
    cmd: [NODE_IMAGE_NODE_PATH, `${NODE_IMAGE_AGENT_DIR}/main.js`],
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

async function listJsFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const d of await fs.readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...(await listJsFiles(dir, rel)));
    else if (d.isFile() && d.name.endsWith('.js')) out.push(rel);
  }
  return out.sort();
}

/** Adds every missing parent directory and orders entries parents-first, so any tar consumer is happy. */
export function withParentDirs(entries: RootfsEntry[]): RootfsEntry[] {
  const byPath = new Map<string, RootfsEntry>();
  for (const e of entries) byPath.set(e.path, e);
  for (const e of entries) {
    for (let dir = path.posix.dirname(e.path); dir !== '/' && !byPath.has(dir); dir = path.posix.dirname(dir)) {
      byPath.set(dir, { type: 'dir', path: dir, mode: 0o755 });
    }
  }
  return [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** Hash over what the image will contain: small files by content, big host binaries by size and mtime. */
async function hashRootfs(entries: RootfsEntry[], nodeVersion: string): Promise<string> {
  const h = createHash('sha256').update(`node ${nodeVersion}\n`);
  for (const e of entries) {
    if (e.type === 'dir') h.update(`d ${e.path} ${e.mode}\n`);
    else if (e.type === 'symlink') h.update(`l ${e.path} ${e.target}\n`);
    else if ('content' in e) h.update(`f ${e.path} ${e.mode} `).update(e.content).update('\n');
    else if (e.size <= HASH_CONTENT_LIMIT) h.update(`f ${e.path} ${e.mode} `).update(await fs.readFile(e.source)).update('\n');
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

// --- a minimal ustar writer: enough for a rootfs, no dependency ---

const BLOCK = 512;

/** One 512-byte ustar header. Paths are stored relative (`./usr/...`), as `tar -C dir -c .` would. */
export function tarHeader(entry: RootfsEntry, size: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  const rel = `.${entry.path}${entry.type === 'dir' ? '/' : ''}`;
  const { name, prefix } = splitTarPath(rel);
  header.write(name, 0, 100, 'utf8');
  const mode = entry.type === 'symlink' ? 0o777 : entry.mode;
  writeOctal(header, mode, 100, 8);
  writeOctal(header, 0, 108, 8);
  writeOctal(header, 0, 116, 8);
  writeOctal(header, size, 124, 12);
  writeOctal(header, 0, 136, 12);
  header.write(entry.type === 'dir' ? '5' : entry.type === 'symlink' ? '2' : '0', 156, 1, 'ascii');
  if (entry.type === 'symlink') {
    if (Buffer.byteLength(entry.target) > 100) throw new Error(`symlink target too long for ustar: ${entry.target}`);
    header.write(entry.target, 157, 100, 'utf8');
  }
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  header.write('root', 265, 32, 'ascii');
  header.write('root', 297, 32, 'ascii');
  header.write(prefix, 345, 155, 'utf8');
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return header;
}

function splitTarPath(p: string): { name: string; prefix: string } {
  if (Buffer.byteLength(p) <= 100) return { name: p, prefix: '' };
  for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) {
    const prefix = p.slice(0, i);
    const name = p.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) return { name, prefix };
  }
  throw new Error(`path too long for ustar: ${p}`);
}

function writeOctal(buf: Buffer, value: number, offset: number, length: number): void {
  buf.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'ascii');
}

/** Streams entries as a tar archive, reading host files lazily (the node binary alone is ~100 MB). */
export function tarStream(entries: RootfsEntry[]): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    for (const e of entries) {
      if (e.type !== 'file') {
        yield tarHeader(e, 0);
        continue;
      }
      if ('content' in e) {
        yield tarHeader(e, e.content.length);
        yield e.content;
        yield padding(e.content.length);
        continue;
      }
      yield tarHeader(e, e.size);
      let read = 0;
      for await (const chunk of createReadStream(e.source)) {
        const buf = chunk as Buffer;
        read += buf.length;
        if (read > e.size) break;
        yield buf;
      }
      if (read !== e.size) throw new Error(`${e.source} changed size while being archived`);
      yield padding(e.size);
    }
    yield Buffer.alloc(BLOCK * 2);
  }
  return Readable.from(generate(), { objectMode: false });
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}
