import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** containerd's per-registry host configuration (`config_path` of the CRI plugin's registry section). */
export const REGISTRY_CONFIG_DIR = '/etc/containerd/certs.d';

/**
 * CERULEAN_REGISTRY_MIRRORS: a JSON object from the registry host a pod's image names (`127.0.0.1:5000`) to the
 * endpoint this node reaches it at (`http://cerulean-registry:5000`). Anything malformed is reported and skipped: the
 * node still runs pods, only pulls from that host fail.
 */
export function parseRegistryMirrors(raw: string | undefined): { mirrors: Record<string, string>; problems: string[] } {
  const mirrors: Record<string, string> = {};
  const problems: string[] = [];
  if (!raw?.trim()) return { mirrors, problems };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { mirrors, problems: ['CERULEAN_REGISTRY_MIRRORS is not valid JSON'] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { mirrors, problems: ['CERULEAN_REGISTRY_MIRRORS is not an object'] };
  for (const [host, endpoint] of Object.entries(value)) {
    // The host becomes a directory name: no path separators, no dot-only names.
    if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host) || /^\.+(:|$)/.test(host)) problems.push(`CERULEAN_REGISTRY_MIRRORS: "${host}" is not a registry host`);
    else if (typeof endpoint !== 'string' || !/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(endpoint)) {
      problems.push(`CERULEAN_REGISTRY_MIRRORS: the endpoint of ${host} is not http(s)://host[:port]`);
    } else mirrors[host] = endpoint;
  }
  return { mirrors, problems };
}

/**
 * hosts.toml for one registry host: resolve and pull go to `endpoint`, and only there (`server` replaces the host
 * itself, which inside a node would be the node's own loopback), so a name that exists nowhere fails as "not found"
 * from the registry rather than with a connection error. Plain HTTP when the endpoint says so. containerd 1.6 rejects a
 * file without a `host` table ("invalid `host` tree"), so the endpoint is also listed as a host.
 */
export function renderHostsToml(endpoint: string): string {
  return [`server = "${endpoint}"`, '', `[host."${endpoint}"]`, '  capabilities = ["pull", "resolve"]', ''].join('\n');
}

/** Writes `<dir>/<host>/hosts.toml` for every mirror (containerd reads them at each pull: no restart needed). */
export async function writeRegistryHosts(mirrors: Record<string, string>, dir = REGISTRY_CONFIG_DIR): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [host, endpoint] of Object.entries(mirrors)) {
    const file = path.join(dir, host, 'hosts.toml');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, renderHostsToml(endpoint));
    written.push(file);
  }
  return written;
}
