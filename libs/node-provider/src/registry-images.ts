import { hostBinaryEntries, importImage, type ImageDefinition, type LocalRegistry } from './local-registry';
import type { RootfsEntry } from './tar';
import { BUSYBOX_IMAGE_APPLETS } from './workload-images';

/** The page the web image serves (`/var/www/index.html`). */
export const WEB_IMAGE_PAGE = 'Hello from Cerulean: this page was pulled from the installation registry.\n';
export const WEB_IMAGE_PORT = 8080;

const WEB_APPLETS = ['sh', 'httpd', 'cat', 'echo', 'ls', 'wget', 'sleep', 'hostname', 'env'];
/** runCommand's pod image (as AKS's command pods have kubectl): the busybox image's tools (`unzip` for the context), kubectl. */
export const COMMAND_IMAGE_PATH = 'cerulean/aks-command:1.0';
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n';

/** An image the platform builds from files on this machine and pushes into the registry under `path`. */
export interface PlatformImage extends ImageDefinition {
  /** Repository and tag in the registry, e.g. `cerulean/web:1.0`. */
  path: string;
}

/**
 * What the registry starts with: a web server (busybox httpd serving WEB_IMAGE_PAGE on WEB_IMAGE_PORT), the
 * host's Node.js runtime (`node` plus the libraries it links, tagged with its version) and runCommand's image (with
 * the host's `kubectl` when `options.kubectl` names one). Local references live under `namespace` (next to the node
 * images), so separate installations never share them.
 */
export async function platformImages(
  namespace: string,
  options: { busybox?: string; nodeBinary?: string; nodeVersion?: string; kubectl?: string } = {},
): Promise<PlatformImage[]> {
  const busybox = await hostBinaryEntries(options.busybox ?? '/bin/busybox', '/bin/busybox');
  const etc: RootfsEntry[] = [
    { type: 'file', path: '/etc/passwd', mode: 0o644, content: Buffer.from(PASSWD) },
    { type: 'file', path: '/etc/group', mode: 0o644, content: Buffer.from('root:x:0:\nnogroup:x:65534:\n') },
    { type: 'dir', path: '/tmp', mode: 0o1777 },
  ];
  const nodeVersion = (options.nodeVersion ?? process.version).replace(/^v/, '');
  return [
    {
      path: 'cerulean/web:1.0',
      ref: `${namespace}/web:1.0`,
      entries: [
        ...busybox,
        ...WEB_APPLETS.map((a): RootfsEntry => ({ type: 'symlink', path: `/bin/${a}`, target: 'busybox' })),
        ...etc,
        { type: 'file', path: '/var/www/index.html', mode: 0o644, content: Buffer.from(WEB_IMAGE_PAGE) },
      ],
      cmd: ['/bin/httpd', '-f', '-v', '-p', String(WEB_IMAGE_PORT), '-h', '/var/www'],
      exposedPorts: [WEB_IMAGE_PORT],
    },
    {
      path: `cerulean/nodejs:${nodeVersion}`,
      ref: `${namespace}/nodejs:${nodeVersion}`,
      entries: [...(await hostBinaryEntries(options.nodeBinary ?? process.execPath, '/usr/local/bin/node')), ...etc],
      cmd: ['/usr/local/bin/node'],
      env: ['PATH=/usr/local/bin:/usr/bin:/bin'],
      workingDir: '/tmp',
    },
    {
      path: COMMAND_IMAGE_PATH,
      ref: `${namespace}/aks-command:1.0`,
      entries: [
        ...busybox,
        ...BUSYBOX_IMAGE_APPLETS.map((a): RootfsEntry => ({ type: 'symlink', path: `/bin/${a}`, target: 'busybox' })),
        ...(options.kubectl ? await hostBinaryEntries(options.kubectl, '/usr/local/bin/kubectl') : []),
        ...etc,
        { type: 'dir', path: '/root', mode: 0o700 },
      ],
      cmd: ['sh'],
      env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/root'],
      workingDir: '/tmp',
    },
  ];
}

export interface SeedResult {
  path: string;
  built: boolean;
  pushed: boolean;
}

/** Builds each platform image unless it is up to date, and pushes it unless the registry has it already. */
export async function seedRegistry(registry: LocalRegistry, images: PlatformImage[]): Promise<SeedResult[]> {
  const results: SeedResult[] = [];
  for (const image of images) {
    const { built } = await importImage(registry.docker, image);
    const pushed = await registry.push(image.ref, image.path);
    results.push({ path: image.path, built, pushed });
  }
  return results;
}
