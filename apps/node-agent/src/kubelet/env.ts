import { parseQuantity } from '../quantity';
import type { Container, Pod } from './pod-types';

/** A ConfigMap's or Secret's data by name (Secret values decoded); null when the object does not exist. */
export type DataByName = Map<string, Record<string, string> | null>;

export interface EnvSources {
  configMaps: DataByName;
  secrets: DataByName;
  hostIPs: string[];
  podIPs: string[];
  /** The node's allocatable CPU (cores) and memory (bytes): what a container without limits may use. */
  nodeAllocatable: { cpu: number; memory: number };
  /** The Services' variables (`serviceEnv`): defaults under the container's own, and known to its `$(VAR)`s. */
  serviceEnv?: Map<string, string>;
}

/** The parts of a Service its environment variables come from. */
export interface ServiceLinkSource {
  metadata: { name: string; namespace: string };
  spec: { clusterIP?: string; ports?: { name?: string; protocol?: string; port: number }[] };
}

/**
 * The Docker-links-style variables upstream kubelet gives every container (`FOO_SERVICE_HOST`, `FOO_PORT_80_TCP`, …):
 * the `kubernetes` Service of `default` always, and with `enableServiceLinks` (the default) every Service of the pod's
 * namespace. Headless Services and those without a cluster IP give none.
 */
export function serviceEnv(namespace: string, enableServiceLinks: boolean | undefined, services: ServiceLinkSource[]): Map<string, string> {
  const chosen = new Map<string, ServiceLinkSource>();
  for (const svc of services) {
    const ip = svc.spec.clusterIP;
    if (!ip || ip === 'None') continue;
    const name = svc.metadata.name;
    if (svc.metadata.namespace === 'default' && name === 'kubernetes') {
      if (!chosen.has(name)) chosen.set(name, svc);
    } else if (svc.metadata.namespace === namespace && enableServiceLinks !== false) {
      chosen.set(name, svc);
    }
  }
  const out = new Map<string, string>();
  for (const svc of [...chosen.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const prefix = envName(svc.metadata.name);
    const ip = svc.spec.clusterIP ?? '';
    const ports = svc.spec.ports ?? [];
    out.set(`${prefix}_SERVICE_HOST`, ip);
    if (ports.length > 0) out.set(`${prefix}_SERVICE_PORT`, String(ports[0].port));
    for (const p of ports) if (p.name) out.set(`${prefix}_SERVICE_PORT_${envName(p.name)}`, String(p.port));
    const host = ip.includes(':') ? `[${ip}]` : ip;
    ports.forEach((p, i) => {
      const protocol = (p.protocol ?? 'TCP').toLowerCase();
      const url = `${protocol}://${host}:${p.port}`;
      if (i === 0) out.set(`${prefix}_PORT`, url);
      const portPrefix = `${prefix}_PORT_${p.port}_${protocol.toUpperCase()}`;
      out.set(portPrefix, url);
      out.set(`${portPrefix}_PROTO`, protocol);
      out.set(`${portPrefix}_PORT`, String(p.port));
      out.set(`${portPrefix}_ADDR`, ip);
    });
  }
  return out;
}

/** `my-svc` → `MY_SVC`, as upstream names the variables. */
function envName(name: string): string {
  return name.replace(/-/g, '_').toUpperCase();
}

export type EnvResult = { env: { key: string; value: string }[] } | { error: string };

/** The ConfigMaps and Secrets a container's environment names, to fetch before resolving it. */
export function envReferences(container: Container): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef?.name) configMaps.add(from.configMapRef.name);
    if (from.secretRef?.name) secrets.add(from.secretRef.name);
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
    if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
  }
  return { configMaps, secrets };
}

/** C_IDENTIFIER-ish names envFrom keeps (upstream skips others and reports them in an event). */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * A container's environment as upstream kubelet builds it: `envFrom` sources in order (with their prefix), then `env`
 * (later entries win), values expanded with `$(VAR)` from the variables defined before them (and the Services'), then the
 * Services' variables the container did not set. A missing ConfigMap,
 * Secret or key that is not optional is an error (the container waits with CreateContainerConfigError).
 */
export function resolveEnv(pod: Pod, container: Container, sources: EnvSources): EnvResult {
  const vars = new Map<string, string>();
  const services = sources.serviceEnv ?? new Map<string, string>();
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const kind = from.configMapRef ? 'configmap' : 'secret';
    const data = (from.configMapRef ? sources.configMaps : sources.secrets).get(ref.name);
    if (!data) {
      if (ref.optional) continue;
      return { error: `${kind} "${ref.name}" not found` };
    }
    for (const [k, v] of Object.entries(data)) {
      const name = `${from.prefix ?? ''}${k}`;
      if (ENV_NAME.test(name)) vars.set(name, v);
    }
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined || !e.valueFrom) {
      vars.set(e.name, expand(e.value ?? '', services.size ? new Map([...services, ...vars]) : vars));
      continue;
    }
    const from = e.valueFrom;
    const keyRef = from.configMapKeyRef ?? from.secretKeyRef;
    if (keyRef) {
      const kind = from.configMapKeyRef ? 'configmap' : 'secret';
      const data = (from.configMapKeyRef ? sources.configMaps : sources.secrets).get(keyRef.name ?? '');
      const value = data?.[keyRef.key];
      if (value === undefined) {
        if (keyRef.optional) continue;
        return { error: data ? `couldn't find key ${keyRef.key} in ${kind} ${pod.metadata.namespace}/${keyRef.name}` : `${kind} "${keyRef.name}" not found` };
      }
      vars.set(e.name, value);
    } else if (from.fieldRef) {
      const value = fieldValue(pod, from.fieldRef.fieldPath, sources);
      if (value === undefined) return { error: `unsupported fieldPath: ${from.fieldRef.fieldPath}` };
      vars.set(e.name, value);
    } else if (from.resourceFieldRef) {
      const target = from.resourceFieldRef.containerName
        ? [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((c) => c.name === from.resourceFieldRef?.containerName)
        : container;
      if (!target) return { error: `container ${from.resourceFieldRef.containerName} not found` };
      const value = resourceValue(target, from.resourceFieldRef.resource, from.resourceFieldRef.divisor, sources.nodeAllocatable);
      if (value === undefined) return { error: `unsupported container resource: ${from.resourceFieldRef.resource}` };
      vars.set(e.name, value);
    }
  }
  // The Services' variables come last, each unless the container defines it itself.
  for (const [key, value] of services) if (!vars.has(key)) vars.set(key, value);
  return { env: [...vars].map(([key, value]) => ({ key, value })) };
}

/** `$(VAR)` expansion as upstream's expansion package does it: `$$` escapes, unknown references stay as written. */
export function expand(input: string, vars: Map<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c !== '$' || i + 1 >= input.length) {
      out += c;
      continue;
    }
    const n = input[i + 1];
    if (n === '$') {
      out += '$';
      i++;
    } else if (n === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      const value = vars.get(name);
      out += value ?? input.slice(i, close + 1);
      i = close;
    } else {
      out += c;
    }
  }
  return out;
}

const LABEL_OR_ANNOTATION = /^metadata\.(labels|annotations)\['(.+)'\]$/;

/** The downward API's field values (env and downwardAPI volumes). */
export function fieldValue(pod: Pod, path: string, sources: Pick<EnvSources, 'hostIPs' | 'podIPs'>): string | undefined {
  const m = LABEL_OR_ANNOTATION.exec(path);
  if (m) return (m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[m[2]] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace;
    case 'metadata.uid':
      return pod.metadata.uid;
    case 'metadata.labels':
      return formatMap(pod.metadata.labels);
    case 'metadata.annotations':
      return formatMap(pod.metadata.annotations);
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.hostIP':
      return sources.hostIPs[0] ?? '';
    case 'status.hostIPs':
      return sources.hostIPs.join(',');
    case 'status.podIP':
      return sources.podIPs[0] ?? '';
    case 'status.podIPs':
      return sources.podIPs.join(',');
    default:
      return undefined;
  }
}

/** `key="value"` lines sorted by key, as downwardAPI files hold labels and annotations. */
function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m?.[k])}`)
    .join('\n');
}

/**
 * `limits.cpu` and friends divided by the divisor and rounded up, as upstream does; a limit not set is the node's
 * allocatable amount.
 */
export function resourceValue(
  container: Container,
  resource: string,
  divisor: string | number | undefined,
  node: { cpu: number; memory: number },
): string | undefined {
  const [kind, name] = resource.split('.');
  if ((kind !== 'limits' && kind !== 'requests') || (name !== 'cpu' && name !== 'memory')) return undefined;
  const q = (kind === 'limits' ? container.resources?.limits : container.resources?.requests)?.[name];
  let amount = q === undefined ? undefined : parseQuantity(q);
  if (amount === undefined && kind === 'limits') amount = name === 'cpu' ? node.cpu : node.memory;
  // An unset request is the limit when one is set (the API server's defaulting), else 0.
  if (amount === undefined) amount = parseQuantity(container.resources?.limits?.[name] ?? '0') ?? 0;
  const d = divisor === undefined || divisor === '' ? 1 : typeof divisor === 'number' ? divisor : (parseQuantity(divisor) ?? 1);
  if (name === 'cpu') return String(Math.ceil(Math.round(amount * 1000) / Math.round(d * 1000)));
  return String(Math.ceil(amount / d));
}
