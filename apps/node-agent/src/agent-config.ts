import type { ResourceList } from '@cerulean/node-provider';
import { parseQuantity } from './quantity';

/** Mirrors NODE_AGENT_PORT in libs/node-provider: the image carries no libs, so only types may be imported. */
export const AGENT_PORT = 10250;
/** Mirrors NODE_AGENT_TOKEN_PATH in libs/node-provider: where the platform puts this node's credential. */
export const AGENT_TOKEN_PATH = '/etc/cerulean/agent-token';

export interface AgentConfig {
  nodeName: string;
  cluster: string;
  clusterId: string;
  pool: string;
  zone: string;
  vmSize: string;
  kubernetesVersion: string;
  nodeImageVersion: string;
  labels: Record<string, string>;
  taints: string[];
  capacity: ResourceList;
}

export interface ParsedAgentConfig {
  config: AgentConfig;
  /** Everything wrong with the environment; a non-empty list makes the node report Ready=False. */
  problems: string[];
}

export interface ConfigDefaults {
  hostname: string;
  /** Used when CERULEAN_CAPACITY is absent (e.g. a node started by hand). */
  capacity: () => ResourceList;
}

type Env = Record<string, string | undefined>;

const REQUIRED = [
  'CERULEAN_CLUSTER',
  'CERULEAN_CLUSTER_ID',
  'CERULEAN_POOL',
  'CERULEAN_KUBERNETES_VERSION',
  'CERULEAN_NODE_IMAGE_VERSION',
  'CERULEAN_VM_SIZE',
] as const;

const TAINT = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?(=[^:]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$/;

/**
 * Reads the agent's environment. Never throws: a bad variable is reported as a problem so the node
 * stays up and says why it is not Ready, instead of crash-looping under the restart policy.
 */
export function parseAgentConfig(env: Env, defaults: ConfigDefaults): ParsedAgentConfig {
  const problems: string[] = [];
  const text = (key: string, fallback = ''): string => env[key]?.trim() || fallback;
  for (const key of REQUIRED) if (!text(key)) problems.push(`${key} is not set`);

  const labels = parseJson(env, 'CERULEAN_NODE_LABELS', isStringRecord, {}, problems);
  const taints = parseJson(env, 'CERULEAN_NODE_TAINTS', isStringArray, [], problems);
  for (const t of taints) if (!TAINT.test(t)) problems.push(`CERULEAN_NODE_TAINTS: "${t}" is not key[=value]:Effect`);

  const capacity = env.CERULEAN_CAPACITY?.trim() ? parseJson(env, 'CERULEAN_CAPACITY', isStringRecord, {}, problems) : defaults.capacity();
  for (const [name, q] of Object.entries(capacity)) {
    if (parseQuantity(q) === undefined) problems.push(`CERULEAN_CAPACITY: ${name}="${q}" is not a quantity`);
  }

  return {
    config: {
      nodeName: text('CERULEAN_NODE_NAME', defaults.hostname),
      cluster: text('CERULEAN_CLUSTER'),
      clusterId: text('CERULEAN_CLUSTER_ID'),
      pool: text('CERULEAN_POOL'),
      // AKS labels non-zonal nodes with zone "0".
      zone: text('CERULEAN_ZONE', '0'),
      vmSize: text('CERULEAN_VM_SIZE'),
      kubernetesVersion: text('CERULEAN_KUBERNETES_VERSION'),
      nodeImageVersion: text('CERULEAN_NODE_IMAGE_VERSION'),
      labels,
      taints,
      capacity,
    },
    problems,
  };
}

function parseJson<T>(env: Env, key: string, guard: (v: unknown) => v is T, fallback: T, problems: string[]): T {
  const raw = env[key]?.trim();
  if (!raw) return fallback;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    problems.push(`${key} is not valid JSON`);
    return fallback;
  }
  if (!guard(value)) {
    problems.push(`${key} has the wrong shape`);
    return fallback;
  }
  return value;
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}
