import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { parseLddOutput } from './node-image.builder';
import { NodeLabels } from './node-provider';
import { dockerMessage, dockerStatus, ProviderError } from './provider-error';
import { tarStream, withParentDirs, type RootfsEntry } from './tar';

const execFileAsync = promisify(execFile);

/** The registry's DNS name on every cluster network (Docker alias); nodes' containerd pulls from it. */
export const REGISTRY_ALIAS = 'cerulean-registry';
/** The port the registry listens on inside its container (and on every cluster network). */
export const REGISTRY_CONTAINER_PORT = 5000;
/** Value of NodeLabels.role on the registry container and volume (neither is a node: no `cerulean.managed`). */
export const RegistryRole = 'registry';
/** Debian's docker-registry (the CNCF distribution), copied into the image with the libraries it links. */
export const REGISTRY_BINARY = '/usr/bin/docker-registry';
const REGISTRY_CONFIG_PATH = '/etc/docker/registry/config.yml';
const REGISTRY_DATA_DIR = '/var/lib/registry';
const READY_TIMEOUT_MS = 30_000;

/** Label on the images built here: the hash of what they contain, so an unchanged image is not built again. */
export const REGISTRY_IMAGE_HASH_LABEL = 'cerulean.registry-image-hash';

/**
 * The registry's configuration: plain HTTP (it is reachable only on 127.0.0.1 and on the cluster networks), data on the
 * volume, deletes allowed (so `docker push` of the same tag can replace what is there and garbage-collect can run).
 */
export function registryConfig(): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    '  cache:',
    '    blobdescriptor: inmemory',
    '  filesystem:',
    `    rootdirectory: ${REGISTRY_DATA_DIR}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: :${REGISTRY_CONTAINER_PORT}`,
    '  headers:',
    '    X-Content-Type-Options: [nosniff]',
    '',
  ].join('\n');
}

/**
 * The registry host names a user pushes to (`127.0.0.1:<port>`, `localhost:<port>`), each mapped to the address nodes
 * reach the registry at on their cluster network. Passed to every node (CERULEAN_REGISTRY_MIRRORS).
 */
export function registryMirrors(port: number): Record<string, string> {
  const endpoint = `http://${REGISTRY_ALIAS}:${REGISTRY_CONTAINER_PORT}`;
  return { [`127.0.0.1:${port}`]: endpoint, [`localhost:${port}`]: endpoint };
}

/** The host binary, the libraries `ldd` lists for it, and nothing else. */
export async function hostBinaryEntries(binary: string, target = binary): Promise<RootfsEntry[]> {
  let libs: string[];
  try {
    libs = parseLddOutput((await execFileAsync('ldd', [binary])).stdout);
  } catch (err) {
    const out = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
    if (!/not a dynamic executable/.test(out)) throw err;
    libs = [];
  }
  const entries: RootfsEntry[] = [];
  for (const [source, to] of [[binary, target], ...libs.map((l) => [l, l])]) {
    const real = await fs.realpath(source);
    const st = await fs.stat(real);
    entries.push({ type: 'file', path: to, mode: st.mode & 0o7777, source: real, size: st.size, mtimeMs: st.mtimeMs });
  }
  return entries;
}

/** Hash over an image's contents and metadata: host files by size and mtime, generated files by content. */
export function imageContentHash(entries: RootfsEntry[], meta: unknown): string {
  const h = createHash('sha256').update(JSON.stringify(meta)).update('\n');
  for (const e of entries) {
    if (e.type === 'dir') h.update(`d ${e.path} ${e.mode}\n`);
    else if (e.type === 'symlink') h.update(`l ${e.path} ${e.target}\n`);
    else if ('content' in e) h.update(`f ${e.path} ${e.mode} `).update(e.content).update('\n');
    else h.update(`b ${e.path} ${e.mode} ${e.size} ${e.mtimeMs}\n`);
  }
  return h.digest('hex');
}

export interface ImageDefinition {
  /** Local reference, `repository:tag`. */
  ref: string;
  entries: RootfsEntry[];
  cmd: string[];
  env?: string[];
  workingDir?: string;
  exposedPorts?: number[];
}

/**
 * Imports a single-layer image from files on this machine (no registry, no base image), unless an image with the same
 * content hash already carries `ref`. Returns the image id.
 */
export async function importImage(docker: Dockerode, image: ImageDefinition): Promise<{ id: string; built: boolean }> {
  const entries = withParentDirs(image.entries);
  const meta = { cmd: image.cmd, env: image.env ?? [], workingDir: image.workingDir ?? '', ports: image.exposedPorts ?? [] };
  const hash = imageContentHash(entries, meta);
  const existing = await inspectImage(docker, image.ref);
  if (existing?.Config?.Labels?.[REGISTRY_IMAGE_HASH_LABEL] === hash) return { id: existing.Id, built: false };
  const i = image.ref.lastIndexOf(':');
  const [repo, tag] = [image.ref.slice(0, i), image.ref.slice(i + 1)];
  const changes = [
    ...meta.env.map((e) => `ENV ${e.slice(0, e.indexOf('='))}=${JSON.stringify(e.slice(e.indexOf('=') + 1))}`),
    `LABEL ${JSON.stringify(REGISTRY_IMAGE_HASH_LABEL)}=${JSON.stringify(hash)}`,
    ...meta.ports.map((p) => `EXPOSE ${p}/tcp`),
    ...(meta.workingDir ? [`WORKDIR ${meta.workingDir}`] : []),
    `CMD ${JSON.stringify(meta.cmd)}`,
  ];
  try {
    await follow(docker, await docker.importImage(tarStream(entries), { repo, tag, changes }));
  } catch (err) {
    throw ProviderError.fromDocker(err, `import image ${image.ref}`);
  }
  const built = await inspectImage(docker, image.ref);
  if (!built) throw new ProviderError(`image ${image.ref} missing right after it was imported`, { code: 'EngineError', transient: true });
  return { id: built.Id, built: true };
}

export async function inspectImage(docker: Dockerode, ref: string): Promise<Dockerode.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(ref).inspect();
  } catch (err) {
    if (dockerStatus(err) === 404) return undefined;
    throw ProviderError.fromDocker(err, `inspect image ${ref}`);
  }
}

/** Waits for a Docker progress stream (import, push) and fails on an error inside it, which Docker reports with status 200. */
export function follow(docker: Dockerode, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: unknown[]) => {
      if (err) return reject(err);
      const failed = output.find((o): o is { error: string } => typeof o === 'object' && o !== null && 'error' in o);
      if (failed) return reject(new Error(String(failed.error)));
      resolve();
    });
  });
}

/** The namespace of an installation's node image repository (`cerulean/node` → `cerulean`): its other images go there too. */
export function imageNamespace(nodeImageRepository: string): string {
  const i = nodeImageRepository.lastIndexOf('/');
  return i > 0 ? nodeImageRepository.slice(0, i) : nodeImageRepository;
}

export interface LocalRegistryOptions {
  docker?: Dockerode;
  /** Host port on 127.0.0.1 (CERULEAN_REGISTRY_PORT). */
  port: number;
  /** This installation's id (read lazily: it is known only once the database answered). */
  installationId: () => string;
  /** Repository of the registry's own image, e.g. `cerulean/registry`. */
  imageRepository: string;
  /** Default /usr/bin/docker-registry. */
  registryBinary?: string;
}

/**
 * The installation's OCI registry, the kind "local registry" pattern: one container from Debian's docker-registry,
 * published on 127.0.0.1 only (users `docker push` there, as to ACR) and joined to every cluster network under
 * REGISTRY_ALIAS (nodes pull from there). It never routes between the networks it joins (ip_forward off), so the
 * clusters stay apart. Labelled with the installation but not `cerulean.managed`: it is no node, and node listings and
 * the orphan reaper never see it; the integration teardown removes it with the installation's containers.
 */
export class LocalRegistry {
  readonly port: number;
  readonly docker: Dockerode;
  private readonly binary: string;
  private ready: Promise<void> | undefined;
  /** The platform images' push into the registry (RegistryBootstrap sets it): what needs them waits for it. */
  seeding: Promise<void> = Promise.resolve();

  constructor(private readonly options: LocalRegistryOptions) {
    this.docker = options.docker ?? new Dockerode();
    this.port = options.port;
    this.binary = options.registryBinary ?? REGISTRY_BINARY;
  }

  /** Container name, also the volume's: one registry per installation. */
  get name(): string {
    return `cerulean-registry-${this.options.installationId()}`;
  }

  /** `127.0.0.1:<port>`: what users tag and push to. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  private labels(): Record<string, string> {
    return { [NodeLabels.installation]: this.options.installationId(), [NodeLabels.role]: RegistryRole };
  }

  /** Builds the image, creates or replaces the container (the data stays on its volume), starts it and waits until it serves. */
  ensure(): Promise<void> {
    const run = this.doEnsure();
    this.ready = run;
    return run;
  }

  private async doEnsure(): Promise<void> {
    const image = await this.registryImage();
    const { id: imageId } = await importImage(this.docker, image);
    let info = await this.inspect();
    if (info && (info.Image !== imageId || publishedPort(info) !== this.port)) {
      await this.removeContainer();
      info = undefined;
    }
    if (!info) info = await this.create(image.ref);
    if (info.State.Status !== 'running') {
      try {
        await this.docker.getContainer(info.Id).start();
      } catch (err) {
        if (dockerStatus(err) !== 304) throw ProviderError.fromDocker(err, `start registry ${this.name}`);
      }
    }
    await this.waitServing();
  }

  /** Joins a cluster network under REGISTRY_ALIAS; already joined is fine. Waits for a running ensure first. */
  async connect(networkId: string): Promise<void> {
    await this.ready?.catch(() => undefined);
    const info = await this.inspect();
    // No registry (it failed to start, or is disabled): clusters still work, pulls from it fail as for any missing registry.
    if (!info) return;
    if (Object.values(info.NetworkSettings.Networks ?? {}).some((n) => n.NetworkID === networkId)) return;
    try {
      await this.docker.getNetwork(networkId).connect({ Container: info.Id, EndpointConfig: { Aliases: [REGISTRY_ALIAS] } });
    } catch (err) {
      if (dockerStatus(err) === 403 && /already exists/i.test(dockerMessage(err))) return;
      throw ProviderError.fromDocker(err, `connect registry to network ${networkId}`);
    }
  }

  /** Leaves a cluster network (before it is removed: Docker refuses to remove a network with endpoints). */
  async disconnect(networkId: string): Promise<void> {
    const info = await this.inspect();
    if (!info || !Object.values(info.NetworkSettings.Networks ?? {}).some((n) => n.NetworkID === networkId)) return;
    try {
      await this.docker.getNetwork(networkId).disconnect({ Container: info.Id, Force: true });
    } catch (err) {
      const status = dockerStatus(err);
      if (status === 404 || (status === 500 && /is not connected/i.test(dockerMessage(err)))) return;
      throw ProviderError.fromDocker(err, `disconnect registry from network ${networkId}`);
    }
  }

  /**
   * Tags a local image as `127.0.0.1:<port>/<path>` and pushes it, unless the registry already has that tag with the
   * same digest as the local image's last push. Returns whether it pushed.
   */
  async push(localRef: string, path: string): Promise<boolean> {
    const i = path.lastIndexOf(':');
    const [repo, tag] = [`${this.host}/${path.slice(0, i)}`, path.slice(i + 1)];
    const remote = await this.manifestDigest(path.slice(0, i), tag);
    const local = await inspectImage(this.docker, localRef);
    if (!local) throw new ProviderError(`image ${localRef} does not exist`, { code: 'NotFound', transient: false });
    if (remote && (local.RepoDigests ?? []).includes(`${repo}@${remote}`)) return false;
    try {
      await this.docker.getImage(localRef).tag({ repo, tag });
      // Docker wants an X-Registry-Auth header even for a registry without auth.
      await follow(this.docker, await this.docker.getImage(`${repo}:${tag}`).push({ authconfig: { serveraddress: this.host } }));
    } catch (err) {
      throw ProviderError.fromDocker(err, `push ${repo}:${tag}`);
    }
    return true;
  }

  /** The registry's digest of `repository:tag`, undefined when it has none. */
  async manifestDigest(repository: string, tag: string): Promise<string | undefined> {
    const res = await fetch(`http://${this.host}/v2/${repository}/manifests/${tag}`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new ProviderError(`registry ${this.host} answered ${res.status} for ${repository}:${tag}`, { code: 'EngineError', transient: true });
    return res.headers.get('docker-content-digest') ?? undefined;
  }

  private async registryImage(): Promise<ImageDefinition> {
    const version = await this.binaryVersion();
    return {
      ref: `${this.options.imageRepository}:${version}`,
      entries: [
        ...(await hostBinaryEntries(this.binary, REGISTRY_BINARY)),
        { type: 'file', path: REGISTRY_CONFIG_PATH, mode: 0o644, content: Buffer.from(registryConfig()) },
        { type: 'file', path: '/etc/passwd', mode: 0o644, content: Buffer.from('root:x:0:0:root:/root:/bin/false\n') },
        { type: 'dir', path: REGISTRY_DATA_DIR, mode: 0o755 },
        { type: 'dir', path: '/tmp', mode: 0o1777 },
      ],
      cmd: [REGISTRY_BINARY, 'serve', REGISTRY_CONFIG_PATH],
      exposedPorts: [REGISTRY_CONTAINER_PORT],
    };
  }

  /** The distribution's version (`github.com/docker/distribution v2.8.2+unknown`), as the image tag. */
  private async binaryVersion(): Promise<string> {
    try {
      const { stdout } = await execFileAsync(this.binary, ['--version']);
      return /v?(\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? 'local';
    } catch (err) {
      throw new ProviderError(`the registry binary ${this.binary} does not run (apt-get install docker-registry): ${String(err)}`, {
        code: 'InvalidSpec',
        transient: false,
      });
    }
  }

  private async create(image: string): Promise<Dockerode.ContainerInspectInfo> {
    try {
      await this.docker.createVolume({ Name: this.name, Labels: this.labels() });
      const portKey = `${REGISTRY_CONTAINER_PORT}/tcp`;
      await this.docker.createContainer({
        name: this.name,
        Image: image,
        Labels: this.labels(),
        ExposedPorts: { [portKey]: {} },
        HostConfig: {
          PortBindings: { [portKey]: [{ HostIp: '127.0.0.1', HostPort: String(this.port) }] },
          RestartPolicy: { Name: 'unless-stopped' },
          Mounts: [{ Type: 'volume', Source: this.name, Target: REGISTRY_DATA_DIR }],
          // It joins every cluster network: it must never forward packets from one to another.
          Sysctls: { 'net.ipv4.ip_forward': '0' },
          LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } },
        },
      });
    } catch (err) {
      // 409: another worker of the installation created it first.
      if (dockerStatus(err) !== 409) throw ProviderError.fromDocker(err, `create registry ${this.name}`);
    }
    const info = await this.inspect();
    if (!info) throw new ProviderError(`registry ${this.name} vanished right after it was created`, { code: 'Conflict', transient: true });
    return info;
  }

  private async removeContainer(): Promise<void> {
    try {
      await this.docker.getContainer(this.name).remove({ force: true });
    } catch (err) {
      if (dockerStatus(err) !== 404) throw ProviderError.fromDocker(err, `remove registry ${this.name}`);
    }
  }

  private async inspect(): Promise<Dockerode.ContainerInspectInfo | undefined> {
    try {
      return await this.docker.getContainer(this.name).inspect();
    } catch (err) {
      if (dockerStatus(err) === 404) return undefined;
      throw ProviderError.fromDocker(err, `inspect registry ${this.name}`);
    }
  }

  private async waitServing(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`http://${this.host}/v2/`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await sleep(200);
    }
    throw new ProviderError(`registry ${this.name} did not serve on ${this.host} within ${READY_TIMEOUT_MS / 1000} s: ${last}`, {
      code: 'EngineError',
      transient: true,
    });
  }
}

function publishedPort(info: Dockerode.ContainerInspectInfo): number | undefined {
  const binding = info.HostConfig.PortBindings?.[`${REGISTRY_CONTAINER_PORT}/tcp`] as { HostPort?: string }[] | undefined;
  return binding?.[0]?.HostPort ? Number(binding[0].HostPort) : undefined;
}
