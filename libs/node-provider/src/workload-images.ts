import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { NODE_BUSYBOX_IMAGE } from '@cerulean/kube';
import { tarStream, withParentDirs, type RootfsEntry } from './tar';

/**
 * Container images every node holds from its first boot, built from files on this machine (no registry can be
 * reached): the pod sandbox's pause image and a busybox image. Each is a `docker save` archive that the node agent
 * imports into containerd's `k8s.io` namespace (`ctr images import`), so CRI finds them as if pulled.
 */
export interface WorkloadImage {
  /** Image reference as containerd names it after the import (a short name is normalised to docker.io/library/…). */
  ref: string;
  entries: RootfsEntry[];
  cmd: string[];
  workingDir?: string;
}

/** Where the archives sit in the node image. */
export const NODE_IMAGE_WORKLOAD_DIR = '/opt/cerulean/images';
/** The sandbox image containerd's CRI plugin is configured with; built here, never pulled. */
export const PAUSE_IMAGE = 'cerulean.local/pause:3.10';
/** Debian's busybox-static at its own version: what pods in tests and the README run (`busybox httpd` serves HTTP). */
export const BUSYBOX_IMAGE = NODE_BUSYBOX_IMAGE;

export const BUSYBOX_IMAGE_APPLETS = [
  'sh',
  'ash',
  'cat',
  'echo',
  'env',
  'ls',
  'mkdir',
  'rm',
  'sleep',
  'date',
  'hostname',
  'httpd',
  'wget',
  'nc',
  'nslookup',
  'ping',
  'ps',
  'kill',
  'grep',
  'sed',
  'head',
  'tail',
  'true',
  'false',
  'test',
  'id',
  'ip',
  'ifconfig',
  'seq',
  'wc',
  'touch',
  'cp',
  'mv',
  'printf',
  'uname',
  'whoami',
  'yes',
  'dd',
  'du',
  'df',
  'free',
  'top',
  'find',
  'xargs',
  'awk',
  'tr',
  'cut',
  'sort',
  'uniq',
  'timeout',
  'vi',
  'chmod',
  'chown',
  'ln',
  'pwd',
  'basename',
  'dirname',
  'expr',
  'stat',
  // `kubectl cp` runs tar in the container; the rest are what people reach for in a debugging shell. The real image
  // links every applet busybox has.
  'tar',
  'gzip',
  'gunzip',
  'zcat',
  'tee',
  'base64',
  'diff',
  'less',
  'more',
  'md5sum',
  'sha256sum',
  'which',
  'nproc',
  'sync',
  'rmdir',
  'readlink',
  'realpath',
  'mktemp',
  'netstat',
  'traceroute',
  'telnet',
  'unzip',
  'watch',
  'od',
  'hexdump',
  'pidof',
  'killall',
  'uptime',
];

const BASE_FILES: Record<string, string> = {
  '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n',
  '/etc/group': 'root:x:0:\nnogroup:x:65534:\n',
};

/** The images of the node image, built around the given static busybox (Debian's busybox-static). */
export function workloadImages(busybox: { source: string; size: number; mtimeMs: number }): WorkloadImage[] {
  const bin = (applets: string[]): RootfsEntry[] => [
    { type: 'file', path: '/bin/busybox', mode: 0o755, ...busybox },
    ...applets.map((a): RootfsEntry => ({ type: 'symlink', path: `/bin/${a}`, target: 'busybox' })),
  ];
  const etc = Object.entries(BASE_FILES).map(([p, text]): RootfsEntry => ({ type: 'file', path: p, mode: 0o644, content: Buffer.from(text) }));
  return [
    {
      ref: PAUSE_IMAGE,
      // containerd stops a sandbox with SIGKILL, so the pause process only has to sit there.
      entries: withParentDirs(bin(['sleep'])),
      cmd: ['/bin/sleep', '2147483647'],
    },
    {
      ref: BUSYBOX_IMAGE,
      entries: withParentDirs([
        ...bin(BUSYBOX_IMAGE_APPLETS),
        ...etc,
        { type: 'dir', path: '/tmp', mode: 0o1777 },
        { type: 'dir', path: '/root', mode: 0o700 },
        { type: 'dir', path: '/var/www', mode: 0o755 },
      ]),
      cmd: ['sh'],
    },
  ];
}

async function collect(entries: RootfsEntry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of tarStream(entries)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/**
 * One `docker save` archive of all the images (manifest.json, each image's config and single layer): one `ctr import`
 * at boot instead of one per image. Byte-for-byte the same for the same inputs (fixed times), so the node image's
 * content hash only changes when an input does.
 */
export async function dockerArchive(images: WorkloadImage[], arch = process.arch === 'x64' ? 'amd64' : process.arch): Promise<Buffer> {
  const files: RootfsEntry[] = [];
  const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  for (const image of images) {
    const { config, layer, configName, layerName } = await imageParts(image, arch);
    manifest.push({ Config: configName, RepoTags: [image.ref], Layers: [layerName] });
    files.push({ type: 'file', path: `/${configName}`, mode: 0o644, content: config }, { type: 'file', path: `/${layerName}`, mode: 0o644, content: layer });
  }
  files.push({ type: 'file', path: '/manifest.json', mode: 0o644, content: Buffer.from(JSON.stringify(manifest)) });
  return collect(withParentDirs(files));
}

async function imageParts(image: WorkloadImage, arch: string): Promise<{ config: Buffer; layer: Buffer; configName: string; layerName: string }> {
  const layer = await collect(image.entries);
  const diffId = `sha256:${sha256(layer)}`;
  const config = Buffer.from(
    JSON.stringify({
      architecture: arch,
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: {
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        Cmd: image.cmd,
        ...(image.workingDir ? { WorkingDir: image.workingDir } : {}),
      },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: 'cerulean node image builder' }],
    }),
  );
  return { config, layer, configName: `${sha256(config)}.json`, layerName: `${diffId.slice(7)}/layer.tar` };
}

/** The busybox binary's file facts, as the image builder copies host files. */
export async function hostFile(source: string): Promise<{ source: string; size: number; mtimeMs: number }> {
  const real = await fs.realpath(source);
  const st = await fs.stat(real);
  return { source: real, size: st.size, mtimeMs: st.mtimeMs };
}
