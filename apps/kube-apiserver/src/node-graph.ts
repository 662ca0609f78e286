import { isPlainObject, type JsonObject, type KubeObject, type ResourceType } from '@cerulean/kube';
import type { RequestAttributes } from './rbac/types';
import type { RestStorage } from './rest';
import type { WatchedObjects } from './storage/watched-objects';

/**
 * The kinds upstream's Node authorizer decides by its graph: a node reaches only those its pods reference, and the
 * volumes bound to the claims they reference.
 */
export type GraphResource = 'secrets' | 'configmaps' | 'persistentvolumeclaims' | 'serviceaccounts' | 'persistentvolumes';
/** The objects a pod names directly (a volume is reached through its claim). */
type PodGraphResource = Exclude<GraphResource, 'persistentvolumes'>;

/** The claim a volume is bound to (upstream's graph edge volume → claim, from spec.claimRef). */
export interface VolumeClaim {
  namespace: string;
  name: string;
}

/** What one pod bound to a node lets that node read (upstream's graph edges of the pod). */
export interface PodReferences {
  namespace: string;
  node: string;
  serviceAccount: string;
  secrets: Set<string>;
  configmaps: Set<string>;
  persistentvolumeclaims: Set<string>;
}

const objects = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.filter(isPlainObject) : []);
const nameOf = (v: unknown, key = 'name'): string | undefined => (isPlainObject(v) && typeof v[key] === 'string' && v[key] ? (v[key] as string) : undefined);

/**
 * The objects a pod references, as upstream's graph populator records them (podutil's secret and ConfigMap visitors):
 * image pull secrets; env and envFrom of every container, init and ephemeral ones included; secret, configMap,
 * projected, CSI and the other secret-carrying volume sources; claims and ephemeral volumes' claims
 * (`<pod>-<volume>`); the service account. Undefined for a pod bound to no node.
 */
export function podReferences(pod: KubeObject): PodReferences | undefined {
  const spec = isPlainObject(pod.spec) ? pod.spec : {};
  const node = typeof spec.nodeName === 'string' ? spec.nodeName : '';
  if (!node) return undefined;
  const refs: PodReferences = {
    namespace: pod.metadata.namespace ?? '',
    node,
    serviceAccount: typeof spec.serviceAccountName === 'string' && spec.serviceAccountName ? spec.serviceAccountName : 'default',
    secrets: new Set(),
    configmaps: new Set(),
    persistentvolumeclaims: new Set(),
  };
  const add = (set: Set<string>, name: string | undefined) => name && set.add(name);
  for (const s of objects(spec.imagePullSecrets)) add(refs.secrets, nameOf(s));
  for (const c of [...objects(spec.initContainers), ...objects(spec.containers), ...objects(spec.ephemeralContainers)]) {
    for (const from of objects(c.envFrom)) {
      add(refs.configmaps, nameOf(from.configMapRef));
      add(refs.secrets, nameOf(from.secretRef));
    }
    for (const env of objects(c.env)) {
      const source = isPlainObject(env.valueFrom) ? env.valueFrom : {};
      add(refs.configmaps, nameOf(source.configMapKeyRef));
      add(refs.secrets, nameOf(source.secretKeyRef));
    }
  }
  for (const v of objects(spec.volumes)) {
    add(refs.configmaps, nameOf(v.configMap));
    add(refs.secrets, nameOf(v.secret, 'secretName'));
    add(refs.secrets, nameOf(v.azureFile, 'secretName'));
    for (const kind of ['cephfs', 'cinder', 'flexVolume', 'iscsi', 'rbd', 'scaleIO', 'storageos'])
      add(refs.secrets, nameOf(isPlainObject(v[kind]) ? v[kind].secretRef : undefined));
    add(refs.secrets, nameOf(isPlainObject(v.csi) ? v.csi.nodePublishSecretRef : undefined));
    for (const source of objects(isPlainObject(v.projected) ? v.projected.sources : undefined)) {
      add(refs.configmaps, nameOf(source.configMap));
      add(refs.secrets, nameOf(source.secret));
    }
    add(refs.persistentvolumeclaims, nameOf(v.persistentVolumeClaim, 'claimName'));
    if (isPlainObject(v.ephemeral) && typeof v.name === 'string') add(refs.persistentvolumeclaims, `${pod.metadata.name}-${v.name}`);
  }
  return refs;
}

/** The claim a volume's claimRef names, or undefined for a volume bound to none. */
export function volumeClaim(pv: KubeObject): VolumeClaim | undefined {
  const ref = isPlainObject(pv.spec) ? pv.spec.claimRef : undefined;
  const name = nameOf(ref);
  return name && isPlainObject(ref) ? { namespace: typeof ref.namespace === 'string' ? ref.namespace : '', name } : undefined;
}

/** Whether the pod's references let its node reach the object. */
export function references(refs: PodReferences, resource: PodGraphResource, name: string): boolean {
  return resource === 'serviceaccounts' ? refs.serviceAccount === name : refs[resource].has(name);
}

/**
 * The request, when it is one the graph decides for a node: a read of a Secret, ConfigMap, claim or volume by name, or
 * a token for a service account (upstream: NodeRestriction then checks the token is bound to one of the node's pods).
 * A volume is cluster-scoped: its namespace is "".
 */
export function graphTarget(a: RequestAttributes): { resource: GraphResource; namespace: string; name: string } | undefined {
  if (!a.resourceRequest || a.group !== '' || !a.name) return undefined;
  if (a.resource === 'persistentvolumes')
    return a.verb === 'get' && !a.subresource && !a.namespace ? { resource: a.resource, namespace: '', name: a.name } : undefined;
  if (!a.namespace) return undefined;
  if (a.resource === 'serviceaccounts')
    return a.subresource === 'token' && a.verb === 'create' ? { resource: a.resource, namespace: a.namespace, name: a.name } : undefined;
  if (a.resource === 'secrets' || a.resource === 'configmaps' || a.resource === 'persistentvolumeclaims')
    return a.verb === 'get' && !a.subresource ? { resource: a.resource, namespace: a.namespace, name: a.name } : undefined;
  return undefined;
}

/**
 * Upstream's Node authorizer graph: which Secrets, ConfigMaps, claims and service accounts each node's pods reference,
 * from the pods kept in memory (listed, then watched), and which claim each volume is bound to, from the volumes kept
 * the same way. Memory may trail etcd by a moment (a pod just bound, whose kubelet already asks for its Secret), so a
 * node the memory does not relate to an object is looked up in storage before it is refused.
 */
export class NodeGraph {
  constructor(
    private readonly pods: WatchedObjects<PodReferences | undefined>,
    private readonly volumes: WatchedObjects<VolumeClaim | undefined>,
    private readonly storage: RestStorage,
    private readonly types: { pods: ResourceType; volumes: ResourceType },
  ) {}

  /** Whether, by memory, a pod bound to `node` references the object (the pods are indexed by node: see server). */
  related(node: string, resource: GraphResource, namespace: string, name: string): boolean {
    if (resource === 'persistentvolumes') {
      const claim = this.volumes.get(undefined, name);
      return !!claim && this.related(node, 'persistentvolumeclaims', claim.namespace, claim.name);
    }
    for (const refs of this.pods.indexed(node)) {
      if (refs && refs.namespace === namespace && references(refs, resource, name)) return true;
    }
    return false;
  }

  /** As `related`, and when memory says no, from storage: the volume's claim, the node's pods of the namespace. */
  async confirm(node: string, resource: GraphResource, namespace: string, name: string): Promise<boolean> {
    if (this.related(node, resource, namespace, name)) return true;
    if (resource === 'persistentvolumes') {
      const pv = await this.storage.tryGet(this.types.volumes, undefined, name);
      const claim = pv && volumeClaim(pv.obj);
      return !!claim && this.confirm(node, 'persistentvolumeclaims', claim.namespace, claim.name);
    }
    const page = await this.storage.list(this.types.pods, namespace, { labels: [], fields: [{ field: 'spec.nodeName', op: '=', value: node }] });
    return page.items.some((pod) => {
      const refs = podReferences(pod);
      return !!refs && references(refs, resource, name);
    });
  }
}
