import { plainToInstance, Transform } from 'class-transformer';
import { isIP } from 'node:net';
import { IsBase64, IsIn, IsInt, IsNumber, IsOptional, IsString, IsUrl, IsUUID, Max, Min, validateSync, ValidateBy } from 'class-validator';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));

/** `lo-hi`, both unprivileged ports, lo <= hi. */
export function parsePortRange(spec: string): { first: number; last: number } | undefined {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(spec.trim());
  if (!m) return undefined;
  const first = Number(m[1]);
  const last = Number(m[2]);
  return first >= 1024 && last <= 65535 && first <= last ? { first, last } : undefined;
}

// The password every install before generated credentials used: a URL still carrying it must be updated.
const WELL_KNOWN_PASSWORDS = new Set(['cerulean']);

const NotWellKnownPassword = () =>
  ValidateBy({
    name: 'notWellKnownPassword',
    validator: {
      validate: (v: unknown) => typeof v !== 'string' || !WELL_KNOWN_PASSWORDS.has(urlPassword(v) ?? ''),
      defaultMessage: () => "carries the well-known default password: use the generated one (npm start writes it under the data folder's secrets/)",
    },
  });

/** The password in a connection URL (decoded), or undefined when it has none or is not a URL. */
export function urlPassword(url: string): string | undefined {
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password === '' ? undefined : password;
  } catch {
    return undefined;
  }
}

const IsPortRange = () =>
  ValidateBy({
    name: 'isPortRange',
    validator: {
      validate: (v: unknown) => typeof v === 'string' && parsePortRange(v) !== undefined,
      defaultMessage: () => 'must be a port range "first-last" within 1024-65535',
    },
  });

/** One entry of an address list: an IP address and how many leading bits of it count (32/128: that address only). */
export interface AddressRange {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/**
 * `ip` or `ip/prefix` entries (IPv4 or IPv6), separated by commas or spaces; empty means none. Undefined when
 * an entry is not one. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) counts as the IPv4 address.
 */
export function parseAddressRanges(spec: string): AddressRange[] | undefined {
  const out: AddressRange[] = [];
  for (const entry of spec.split(/[\s,]+/).filter((e) => e !== '')) {
    const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(entry);
    if (!m) return undefined;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(m[1]);
    const address = mapped ? mapped[1] : m[1];
    const version = isIP(address);
    if (version === 0) return undefined;
    const max = version === 4 ? 32 : 128;
    const prefix = m[2] === undefined ? max : Number(m[2]) - (mapped ? 96 : 0);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
    out.push({ address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' });
  }
  return out;
}

const IsAddressRanges = () =>
  ValidateBy({
    name: 'isAddressRanges',
    validator: {
      validate: (v: unknown) => typeof v === 'string' && parseAddressRanges(v) !== undefined,
      defaultMessage: () => 'must be a list of IP addresses or CIDR ranges (e.g. "10.0.0.0/8, ::1")',
    },
  });

/**
 * Every setting Cerulean reads from its environment, validated at boot: a bad value stops the
 * process at start-up, not at first use. Nothing outside this library reads `process.env`.
 */
export class Env {
  @IsString() API_HOST = '127.0.0.1';
  @Transform(toInt) @IsInt() @Min(0) @Max(65535) API_PORT = 8443;
  /** When set (e.g. behind a proxy), every URL handed out starts with it instead of the request's own host. */
  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true }) PUBLIC_BASE_URL?: string;
  /**
   * Peers (IPs or CIDR ranges, comma separated) whose X-Forwarded-Host / X-Forwarded-Proto are believed: the
   * reverse proxies in front of the API. Empty (the default): those headers are ignored from everyone.
   */
  @IsAddressRanges() TRUSTED_PROXIES = '';
  /** Where the CA, the server certificate and other local state live. */
  @IsString() DATA_DIR = '.data';

  /**
   * Postgres. Its password: the URL's own, else DATABASE_PASSWORD, else DATA_DIR/secrets/postgres.password (which
   * `npm start` generates); a connection without one is refused at start-up (see `databaseUrl`).
   */
  @IsString() @NotWellKnownPassword() DATABASE_URL = 'postgres://cerulean@127.0.0.1:5432/cerulean';
  @IsOptional() @IsString() DATABASE_PASSWORD?: string;
  /** Redis; its password as for Postgres: the URL's, else REDIS_PASSWORD, else DATA_DIR/secrets/redis.password. */
  @IsString() @NotWellKnownPassword() REDIS_URL = 'redis://127.0.0.1:6379';
  @IsOptional() @IsString() REDIS_PASSWORD?: string;
  /** Prefix of every BullMQ key, so two installations can share one Redis. */
  @IsString() QUEUE_PREFIX = 'cerulean';

  @IsUUID() SUBSCRIPTION_ID = '8c4e2a1f-3b6d-4f0e-9a7c-5d2b1e0f6a93';
  @IsString() SUBSCRIPTION_NAME = 'Cerulean Local';
  @IsUUID() TENANT_ID = '2f9b6c1d-7e4a-4c3b-8d5f-0a1e9b7c6d42';
  @IsString() DEFAULT_LOCATION = 'eastus';

  /** Seconds in `Retry-After` on long-running operations (ARM suggests 10–600; clients accept any integer). */
  @Transform(toInt) @IsInt() @Min(1) @Max(600) RETRY_AFTER_SECONDS = 1;
  /** Items per page in list responses before a `nextLink` is emitted. */
  @Transform(toInt) @IsInt() @Min(1) @Max(1000) PAGE_SIZE = 100;

  @Transform(toInt) @IsInt() @Min(1) @Max(64) WORKER_CONCURRENCY = 8;
  /** Template deployments running at once (their own queue and slots: they mostly wait for other operations). */
  @Transform(toInt) @IsInt() @Min(1) @Max(256) DEPLOYMENT_CONCURRENCY = 16;
  /** Parallel Docker calls inside one operation (dockerd is CPU-bound past a few). */
  @Transform(toInt) @IsInt() @Min(1) @Max(64) NODE_PARALLELISM = 8;
  @Transform(toInt) @IsInt() @Min(1000) JOB_LOCK_MS = 15000;
  @Transform(toInt) @IsInt() @Min(500) STALLED_INTERVAL_MS = 5000;
  @Transform(toInt) @IsInt() @Min(1) JOB_ATTEMPTS = 8;
  @Transform(toInt) @IsInt() @Min(250) SWEEP_INTERVAL_MS = 5000;
  @Transform(toInt) @IsInt() @Min(1) NODE_READY_TIMEOUT_SECONDS = 120;
  /**
   * What serves a cluster's API on :6443: `kube-apiserver` (apps/kube-apiserver with its controllers and scheduler on
   * the control plane's etcd; nodes register through it) or `agent` (the node agent's small read-only API fed by
   * heartbeats: `/version`, `/readyz`, `/api/v1/nodes`), kept for comparison. etcd runs in the control plane either way.
   */
  @IsIn(['agent', 'kube-apiserver']) CONTROL_PLANE_API: 'agent' | 'kube-apiserver' = 'kube-apiserver';
  /**
   * What runs pods on the nodes: `containerd` (each node starts containerd inside itself and its agent is the kubelet,
   * through CRI) or `none` (nodes register and report Ready but run nothing: pods stay Pending), kept for comparison.
   */
  @IsIn(['containerd', 'none']) NODE_CONTAINER_RUNTIME: 'containerd' | 'none' = 'containerd';
  /** How often the health monitor checks every node; 0 turns auto-repair off. */
  @Transform(toInt) @IsInt() @Min(0) HEALTH_INTERVAL_MS = 5000;
  /** How often the service controller reconciles LoadBalancer Services with their load-balancer containers; 0 turns it off. */
  @Transform(toInt) @IsInt() @Min(0) LOAD_BALANCER_SYNC_MS = 3000;
  /** A running node whose agent has not answered Ready for this long is replaced. */
  @Transform(toInt) @IsInt() @Min(1000) NODE_UNHEALTHY_AFTER_MS = 20000;
  /** Repair pauses for a pool when more than this share of its nodes is unhealthy at once. */
  @Transform(toInt) @IsInt() @Min(1) @Max(100) REPAIR_MAX_UNHEALTHY_PERCENT = 40;

  /** Docker Engine API endpoint (unix socket path). */
  @IsString() DOCKER_SOCKET = '/var/run/docker.sock';
  @IsString() NODE_PUBLISH_HOST = '127.0.0.1';
  /**
   * How node containers are confined to their cluster network (no host ports, no metadata address, no egress):
   * `iptables` on the Docker host (the worker must run as root in its network namespace), or `none` where the
   * platform cannot reach the Docker host's packet filter (then it must be confined some other way).
   */
  @IsIn(['iptables', 'none']) NODE_FIREWALL = 'iptables';
  /**
   * Container CPU = vmSize vCPUs × this factor. Limits, not reservations: tens of nodes still fit on a 2-core machine,
   * while a node that runs pods (containerd, shims, the pods themselves) is not throttled to a crawl: at 0.05 a
   * 2-vCPU node got 0.1 CPU and took 4 s to start containerd (0.7 s at 0.5).
   */
  @Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value)))
  @IsNumber()
  @Min(0.001)
  @Max(1)
  NODE_CPU_FACTOR = 0.25;
  /**
   * Container memory = vmSize memory × this factor (a limit, like the CPU). Standard_DS2_v2 (7 GiB) gets 448 MiB:
   * containerd and the agent take ~30 MiB idle, AKS's reserve and eviction threshold leave ~236 MiB allocatable for pods.
   */
  @Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value)))
  @IsNumber()
  @Min(0.001)
  @Max(1)
  NODE_MEMORY_FACTOR = 0.0625;

  /** Docker repository of the node images (tag = node image version); separate installations may use their own. */
  @IsString() NODE_IMAGE_REPOSITORY = 'cerulean/node';
  /** The node image new agent pools start on; default: the newest in the catalog. Existing pools move with upgradeNodeImageVersion. */
  @IsOptional() @IsString() NEW_POOL_NODE_IMAGE_VERSION?: string;

  /**
   * Host ports the clusters' API servers are published on (127.0.0.1 only): one per cluster, chosen at create
   * time and kept for the cluster's life, so a kubeconfig stays valid across container re-creation.
   */
  @IsPortRange() API_SERVER_PORTS = '20000-29999';
  /**
   * Port of the installation's image registry on 127.0.0.1 (`docker push 127.0.0.1:<port>/app:v1`; pods pull the same
   * name). 0 runs no registry.
   */
  @Transform(toInt) @IsInt() @Min(0) @Max(65535) REGISTRY_PORT = 5000;
  /**
   * Encrypts the clusters' private keys at rest (AES-256-GCM): base64 of 32 bytes. When unset, a key file is
   * created once in DATA_DIR/secrets; the API and the worker must then share DATA_DIR.
   */
  @IsOptional() @IsBase64() MASTER_KEY?: string;
  /**
   * The kubectl binary runCommand's pod image carries (with the libraries it links): by default the `KUBECTL`
   * variable, else `kubectl` on PATH. Without one the image has none and `kubectl …` commands exit 127.
   */
  @IsOptional() @IsString() KUBECTL?: string;
  /** runCommand: a command still running after this long is killed and reported as failed. */
  @Transform(toInt) @IsInt() @Min(1) @Max(86400) RUN_COMMAND_TIMEOUT_SECONDS = 300;
  /** runCommand: the most output kept per command (its first and last halves; the middle is cut). */
  @Transform(toInt) @IsInt() @Min(1024) @Max(16 * 1024 * 1024) RUN_COMMAND_MAX_LOG_BYTES = 512 * 1024;

  /**
   * ARM throttling: token buckets per principal and subscription (ARM's published defaults: reads 250 refilled
   * at 25/s, writes and deletes 200 at 10/s). A request over the limit gets 429 TooManyRequests + Retry-After.
   */
  @Transform(toInt) @IsInt() @Min(1) THROTTLE_READ_BUCKET = 250;
  @Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value))) @IsNumber() @Min(0.001) THROTTLE_READ_REFILL_PER_SECOND = 25;
  @Transform(toInt) @IsInt() @Min(1) THROTTLE_WRITE_BUCKET = 200;
  @Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value))) @IsNumber() @Min(0.001) THROTTLE_WRITE_REFILL_PER_SECOND = 10;
  @Transform(toInt) @IsInt() @Min(1) THROTTLE_DELETE_BUCKET = 200;
  @Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value))) @IsNumber() @Min(0.001) THROTTLE_DELETE_REFILL_PER_SECOND = 10;

  /**
   * Token endpoint throttling (per API process), like Entra's 429 + Retry-After for client credentials: every
   * secret check takes a token from the client id's bucket and from the source address's bucket, and a
   * successful one gives them back, so in effect failed attempts are counted. A client id whose bucket is empty
   * (secret guessing) or a source whose bucket is empty (spraying client ids) is refused without a check.
   */
  @Transform(toInt) @IsInt() @Min(1) TOKEN_THROTTLE_CLIENT_BUCKET = 10;
  @Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value))) @IsNumber() @Min(0.001) TOKEN_THROTTLE_CLIENT_REFILL_PER_SECOND =
    0.2;
  @Transform(toInt) @IsInt() @Min(1) TOKEN_THROTTLE_SOURCE_BUCKET = 30;
  @Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value))) @IsNumber() @Min(0.001) TOKEN_THROTTLE_SOURCE_REFILL_PER_SECOND =
    1;
  /** Client secret checks (scrypt, on libuv's pool) running at once; the rest wait, so they never take every core. */
  @Transform(toInt) @IsInt() @Min(1) @Max(64) SECRET_CHECK_CONCURRENCY = 1;

  /**
   * When set, every ARM request under /subscriptions or /providers and its response are written to this folder,
   * one JSON file each in the shape `oav validate-traffic` reads (credentials redacted). Tests only: off by default.
   */
  @IsOptional() @IsString() TRAFFIC_DIR?: string;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) LOG_LEVEL = 'info';
}

/**
 * The platform's own address: PUBLIC_BASE_URL when set, else where the API listens. Tokens name it as their
 * issuer; no request header can change it.
 */
export function platformBaseUrl(env: Pick<Env, 'PUBLIC_BASE_URL' | 'API_HOST' | 'API_PORT'>): string {
  if (env.PUBLIC_BASE_URL) return env.PUBLIC_BASE_URL.replace(/\/+$/, '');
  const host = isIP(env.API_HOST) === 6 ? `[${env.API_HOST}]` : env.API_HOST;
  return `https://${host}:${env.API_PORT}`;
}

/** Reads `CERULEAN_*` variables (and the conventional DATABASE_URL / REDIS_URL) into a validated Env. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(new Env())) {
    const value = source[`CERULEAN_${key}`] ?? (key === 'DATABASE_URL' || key === 'REDIS_URL' ? source[key] : undefined);
    if (value !== undefined) raw[key] = value;
  }
  const env = plainToInstance(Env, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { forbidUnknownValues: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => `CERULEAN_${e.property}: ${Object.values(e.constraints ?? {}).join(', ')}`);
    throw new Error(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return env;
}
