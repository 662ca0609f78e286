/** A registry credential as CRI's AuthConfig carries it. */
export interface RegistryCredential {
  username: string;
  password: string;
  /** The secret it came from, for logs only. */
  secret: string;
}

/** A Secret as the API returns it (data base64-encoded). */
export interface PullSecret {
  metadata: { name: string };
  type?: string;
  data?: Record<string, string>;
}

export const DOCKER_CONFIG_JSON_TYPE = 'kubernetes.io/dockerconfigjson';
export const DOCKER_CONFIG_JSON_KEY = '.dockerconfigjson';
export const DOCKER_CFG_TYPE = 'kubernetes.io/dockercfg';
export const DOCKER_CFG_KEY = '.dockercfg';

/** Docker Hub's key: credentials saved for `https://index.docker.io/v1/` end up under it. */
const DEFAULT_REGISTRY_HOST = 'index.docker.io';

/**
 * The credentials of a pod's image pull secrets, indexed by registry location as upstream's credentialprovider keyring
 * does: a key is `host[:port]` with an optional path prefix (scheme and a leading `/v1/` or `/v2/` dropped), host
 * labels may be globs (`*.example.com`). Keys are tried most specific first (reverse lexical order), and every key that
 * matches an image contributes its credentials: the kubelet tries them one after the other.
 */
export class DockerKeyring {
  private readonly creds = new Map<string, RegistryCredential[]>();
  private index: string[] = [];

  /** Adds one docker config (`{ "<location>": { username, password, auth } }`); what cannot be read is reported. */
  add(config: unknown, secret: string): string[] {
    const problems: string[] = [];
    if (!isObject(config)) return [`secret ${secret}: the docker config is not a JSON object`];
    for (const [location, entry] of Object.entries(config)) {
      const key = locationKey(location);
      const cred = credentialOf(entry, secret);
      if (typeof cred === 'string') {
        problems.push(`secret ${secret}: entry ${JSON.stringify(location)}: ${cred}`);
        continue;
      }
      this.creds.set(key, [...(this.creds.get(key) ?? []), cred]);
    }
    this.index = [...this.creds.keys()].sort().reverse();
    return problems;
  }

  /** The credentials that apply to an image, most specific location first; empty when none does. */
  lookup(image: string): RegistryCredential[] {
    const repo = normalizedRepository(image);
    const out: RegistryCredential[] = [];
    for (const key of this.index) if (locationMatches(key, repo)) out.push(...(this.creds.get(key) ?? []));
    if (out.length) return out;
    return isDefaultRegistry(repo) ? [...(this.creds.get(DEFAULT_REGISTRY_HOST) ?? [])] : [];
  }
}

/**
 * The keyring of a pod's pull secrets, from the types upstream reads: `kubernetes.io/dockerconfigjson` (its `auths`)
 * and `kubernetes.io/dockercfg`. Other secrets add nothing; unreadable ones are reported and skipped.
 */
export function keyringFromSecrets(secrets: PullSecret[]): { keyring: DockerKeyring; problems: string[] } {
  const keyring = new DockerKeyring();
  const problems: string[] = [];
  for (const s of secrets) {
    const name = s.metadata.name;
    const key = s.type === DOCKER_CONFIG_JSON_TYPE ? DOCKER_CONFIG_JSON_KEY : s.type === DOCKER_CFG_TYPE ? DOCKER_CFG_KEY : undefined;
    const raw = key ? s.data?.[key] : undefined;
    if (!raw) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
    } catch (err) {
      problems.push(`secret ${name}: ${key} is not valid JSON (${(err as Error).message})`);
      continue;
    }
    if (key === DOCKER_CONFIG_JSON_KEY) {
      const auths = isObject(parsed) ? parsed.auths : undefined;
      problems.push(...keyring.add(auths ?? {}, name));
    } else problems.push(...keyring.add(parsed, name));
  }
  return { keyring, problems };
}

/** The index key of a configured location: scheme dropped, `/v1/` and `/v2/` meaning the registry itself. */
export function locationKey(location: string): string {
  const { host, path } = splitLocation(location.replace(/^https?:\/\//, ''));
  const effective = path.startsWith('/v2/') || path.startsWith('/v1/') ? path.slice(3) : path;
  return effective && effective !== '/' ? host + effective : host;
}

/** An image's repository with its registry spelled out (`busybox:1` → `docker.io/library/busybox`), no tag or digest. */
export function normalizedRepository(image: string): string {
  let name = image;
  const at = name.indexOf('@');
  if (at >= 0) name = name.slice(0, at);
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) name = name.slice(0, colon);
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0) return `docker.io/library/${name}`;
  if (first !== 'localhost' && !/[.:]/.test(first)) return `docker.io/${name}`;
  return name;
}

/** Upstream's isDefaultRegistryMatch: an image Docker would pull from Docker Hub. */
function isDefaultRegistry(repo: string): boolean {
  const slash = repo.indexOf('/');
  const first = slash < 0 ? repo : repo.slice(0, slash);
  if (!first) return false;
  if (slash < 0) return true;
  if (first === 'docker.io' || first === 'index.docker.io') return true;
  return !/[.:]/.test(first);
}

/**
 * Upstream's urlsMatch: the same port, the same number of host labels each matching its glob, and the key's path a
 * prefix of the image's.
 */
export function locationMatches(key: string, repo: string): boolean {
  const glob = splitLocation(key);
  const target = splitLocation(repo);
  if (glob.port !== target.port) return false;
  const globLabels = glob.hostname.split('.');
  const targetLabels = target.hostname.split('.');
  if (globLabels.length !== targetLabels.length) return false;
  if (!target.path.startsWith(glob.path)) return false;
  return globLabels.every((g, i) => globMatch(g, targetLabels[i]));
}

function splitLocation(s: string): { host: string; hostname: string; port: string; path: string } {
  const slash = s.indexOf('/');
  const host = slash < 0 ? s : s.slice(0, slash);
  const path = slash < 0 ? '' : s.slice(slash);
  const colon = host.lastIndexOf(':');
  return colon < 0 ? { host, hostname: host, port: '', path } : { host, hostname: host.slice(0, colon), port: host.slice(colon + 1), path };
}

/** Go's filepath.Match for one host label: `*` any run, `?` any one character, `[…]` a class. */
function globMatch(glob: string, text: string): boolean {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) return false;
      const body = glob.slice(i + 1, end).replace(/^\^/, '!');
      re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
      i = end;
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(text);
}

/** One entry: `auth` (base64 `user:password`) wins over `username`/`password`, as in upstream's DockerConfigEntry. */
function credentialOf(entry: unknown, secret: string): RegistryCredential | string {
  if (!isObject(entry)) return 'not a JSON object';
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const auth = str(entry.auth);
  if (!auth) return { username: str(entry.username), password: str(entry.password), secret };
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'auth is not base64 of user:password';
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), secret };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
