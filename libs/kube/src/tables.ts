import { formatLabelSelector, selectorFromObject } from './label-selector';
import { isPlainObject, JsonObject, KubeObject } from './object';
import { canonicalQuantity } from './quantity';
import { accessModesText, claimStorageClass, isDefaultStorageClass, volumeStorageClass } from './storage-validation';

/** `meta.k8s.io/v1` Table output (`kubectl get`): upstream's columns per kind, computed on the server. */
export interface TableColumn {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object?: unknown;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumn[];
  rows: TableRow[];
}

/** Upstream's duration.HumanDuration, the AGE column's text. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

const age = (ts: unknown, now: number): string => (typeof ts === 'string' ? humanDuration(now - Date.parse(ts)) : '<unknown>');
const o = (v: unknown): JsonObject => (isPlainObject(v) ? v : {});
const l = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.filter(isPlainObject) : []);
const n = (v: unknown): number => (typeof v === 'number' ? v : 0);
const str = (v: unknown, dflt = '<none>'): string => (v === undefined || v === null || v === '' ? dflt : String(v));

type Col = [name: string, type: string, description: string, priority?: number];
interface Printer {
  columns: Col[];
  row(obj: KubeObject, now: number): unknown[];
}

const containersAndImages = (tpl: unknown): [string, string] => {
  const cs = l(o(o(tpl).spec).containers);
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image).join(',')];
};
const selectorText = (sel: unknown): string => (isPlainObject(sel) ? formatLabelSelector(selectorFromObject(sel)) || '<none>' : '<none>');
const mapSelector = (sel: unknown): string =>
  isPlainObject(sel) && Object.keys(sel).length
    ? Object.entries(sel)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')
    : '<none>';

function podStatus(pod: KubeObject): { ready: string; status: string; restarts: number | string } {
  const status = o(pod.status);
  const specContainers = l(o(pod.spec).containers);
  const statuses = l(status.containerStatuses);
  let reason = str(status.reason, str(status.phase, 'Unknown'));
  let restarts = 0;
  let ready = 0;
  for (const cs of statuses) {
    restarts += n(cs.restartCount);
    if (cs.ready) ready++;
    const st = o(cs.state);
    if (isPlainObject(st.waiting) && st.waiting.reason) reason = String(st.waiting.reason);
    else if (isPlainObject(st.terminated) && st.terminated.reason) reason = String(st.terminated.reason);
  }
  if (pod.metadata.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  else if (reason === 'Pending' && !o(pod.spec).nodeName) reason = 'Pending';
  return { ready: `${ready}/${specContainers.length}`, status: reason, restarts };
}

function servicePorts(spec: JsonObject): string {
  const ports = l(spec.ports);
  if (!ports.length) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function nodeStatus(node: KubeObject): string {
  const conds = l(o(node.status).conditions);
  const ready = conds.find((c) => c.type === 'Ready');
  const parts = [ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown'];
  if (o(node.spec).unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(node: KubeObject): string {
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length));
  const kr = node.metadata.labels?.['kubernetes.io/role'];
  if (kr) roles.push(kr);
  return roles.length ? roles.sort().join(',') : '<none>';
}

const NAME: Col = ['Name', 'string', 'Name must be unique within a namespace.'];
const AGE: Col = ['Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.'];
const meta = (x: KubeObject) => x.metadata;

const PRINTERS: Record<string, Printer> = {
  Pod: {
    columns: [
      NAME,
      ['Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'],
      ['Status', 'string', 'The aggregate status of the containers in this pod.'],
      ['Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'],
      AGE,
      ['IP', 'string', 'IP address allocated to the pod.', 1],
      ['Node', 'string', 'Name of the node this pod is running on.', 1],
      ['Nominated Node', 'string', 'Name of the node this pod is nominated to run on.', 1],
      ['Readiness Gates', 'string', 'Readiness gates of the pod.', 1],
    ],
    row: (p, now) => {
      const s = podStatus(p);
      const st = o(p.status);
      return [
        meta(p).name,
        s.ready,
        s.status,
        s.restarts,
        age(meta(p).creationTimestamp, now),
        str(st.podIP),
        str(o(p.spec).nodeName),
        str(st.nominatedNodeName),
        '<none>',
      ];
    },
  },
  Namespace: {
    columns: [NAME, ['Status', 'string', 'The status of the namespace'], AGE],
    row: (x, now) => [meta(x).name, str(o(x.status).phase, 'Active'), age(meta(x).creationTimestamp, now)],
  },
  Node: {
    columns: [
      NAME,
      ['Status', 'string', 'The status of the node'],
      ['Roles', 'string', 'The roles of the node'],
      AGE,
      ['Version', 'string', 'Kubelet Version reported by the node.'],
      ['Internal-IP', 'string', 'List of internal IPs.', 1],
      ['External-IP', 'string', 'List of external IPs.', 1],
      ['OS-Image', 'string', 'OS image reported by the node.', 1],
      ['Kernel-Version', 'string', 'Kernel version reported by the node.', 1],
      ['Container-Runtime', 'string', 'Container runtime and version reported by the node.', 1],
    ],
    row: (x, now) => {
      const st = o(x.status);
      const info = o(st.nodeInfo);
      const addr = (t: string) => str(l(st.addresses).find((a) => a.type === t)?.address);
      return [
        meta(x).name,
        nodeStatus(x),
        nodeRoles(x),
        age(meta(x).creationTimestamp, now),
        str(info.kubeletVersion, ''),
        addr('InternalIP'),
        addr('ExternalIP'),
        str(info.osImage, '<unknown>'),
        str(info.kernelVersion, '<unknown>'),
        str(info.containerRuntimeVersion, '<unknown>'),
      ];
    },
  },
  Service: {
    columns: [
      NAME,
      ['Type', 'string', 'The type of the service.'],
      ['Cluster-IP', 'string', 'The cluster IP of the service.'],
      ['External-IP', 'string', 'The external IP of the service.'],
      ['Port(s)', 'string', 'The ports of the service.'],
      AGE,
      ['Selector', 'string', 'The selector of the service.', 1],
    ],
    row: (x, now) => {
      const spec = o(x.spec);
      const ingress = l(o(o(x.status).loadBalancer).ingress).map((i) => i.ip ?? i.hostname);
      const external =
        spec.type === 'ExternalName' ? str(spec.externalName) : ingress.length ? ingress.join(',') : spec.type === 'LoadBalancer' ? '<pending>' : '<none>';
      return [
        meta(x).name,
        spec.type ?? 'ClusterIP',
        str(spec.clusterIP),
        external,
        servicePorts(spec),
        age(meta(x).creationTimestamp, now),
        mapSelector(spec.selector),
      ];
    },
  },
  Endpoints: {
    columns: [NAME, ['Endpoints', 'string', 'Endpoints of the service.'], AGE],
    row: (x, now) => {
      const eps = l(x.subsets).flatMap((s) => l(s.addresses).flatMap((a) => (l(s.ports).length ? l(s.ports).map((p) => `${a.ip}:${p.port}`) : [String(a.ip)])));
      return [
        meta(x).name,
        eps.length ? eps.slice(0, 3).join(',') + (eps.length > 3 ? ` + ${eps.length - 3} more...` : '') : '<none>',
        age(meta(x).creationTimestamp, now),
      ];
    },
  },
  ConfigMap: {
    columns: [NAME, ['Data', 'integer', 'Number of data entries.'], AGE],
    row: (x, now) => [meta(x).name, Object.keys(o(x.data)).length + Object.keys(o(x.binaryData)).length, age(meta(x).creationTimestamp, now)],
  },
  Secret: {
    columns: [NAME, ['Type', 'string', 'The type of the secret'], ['Data', 'integer', 'Number of data entries.'], AGE],
    row: (x, now) => [meta(x).name, x.type ?? 'Opaque', Object.keys(o(x.data)).length, age(meta(x).creationTimestamp, now)],
  },
  ServiceAccount: {
    columns: [NAME, ['Secrets', 'string', 'Secrets is a list of the secrets in the same namespace.'], AGE],
    row: (x, now) => [meta(x).name, l(x.secrets).length, age(meta(x).creationTimestamp, now)],
  },
  Event: {
    columns: [
      ['Last Seen', 'string', 'Time of the last occurrence.'],
      ['Type', 'string', 'Type of this event.'],
      ['Reason', 'string', 'Why the action was taken.'],
      ['Object', 'string', 'The object this event is about.'],
      ['Message', 'string', 'A human-readable description of the status of this operation.'],
      ['Name', 'string', 'Name of the event.', 1],
    ],
    row: (x, now) => {
      // core/v1's fields: an events.k8s.io/v1 Event is printed from its stored (core) form.
      const io = o(x.involvedObject);
      const last = x.lastTimestamp ?? x.eventTime ?? o(x.series).lastObservedTime ?? meta(x).creationTimestamp;
      return [age(last, now), str(x.type, ''), str(x.reason, ''), `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`, str(x.message, ''), meta(x).name];
    },
  },
  ResourceQuota: {
    columns: [
      NAME,
      AGE,
      ['Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'],
      ['Limit', 'string', 'Limits control the maximum amount.'],
    ],
    row: (x, now) => {
      const hard = o(o(x.status).hard);
      const used = o(o(x.status).used);
      const fmt = (keys: string[]) =>
        keys
          .filter((k) => k in hard)
          .map((k) => `${k}: ${used[k] ?? '0'}/${hard[k]}`)
          .join(', ');
      const all = Object.keys(o(o(x.spec).hard));
      return [
        meta(x).name,
        age(meta(x).creationTimestamp, now),
        fmt(all.filter((k) => !k.startsWith('limits.'))),
        fmt(all.filter((k) => k.startsWith('limits.'))),
      ];
    },
  },
  Deployment: {
    columns: [
      NAME,
      ['Ready', 'string', 'Number of the pod with ready state'],
      ['Up-to-date', 'integer', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'],
      ['Available', 'integer', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'],
      AGE,
      ['Containers', 'string', 'Names of each container in the template.', 1],
      ['Images', 'string', 'Images referenced by each container in the template.', 1],
      ['Selector', 'string', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.', 1],
    ],
    row: (x, now) => {
      const spec = o(x.spec);
      const st = o(x.status);
      const [c, i] = containersAndImages(spec.template);
      return [
        meta(x).name,
        `${n(st.readyReplicas)}/${n(spec.replicas)}`,
        n(st.updatedReplicas),
        n(st.availableReplicas),
        age(meta(x).creationTimestamp, now),
        c,
        i,
        selectorText(spec.selector),
      ];
    },
  },
  ReplicaSet: {
    columns: [
      NAME,
      ['Desired', 'integer', 'Number of desired pods.'],
      ['Current', 'integer', 'Number of actual replicas.'],
      ['Ready', 'integer', 'The number of ready replicas for this replica set.'],
      AGE,
      ['Containers', 'string', 'Names of each container in the template.', 1],
      ['Images', 'string', 'Images referenced by each container in the template.', 1],
      ['Selector', 'string', 'Selector is a label query over pods that should match the replica count.', 1],
    ],
    row: (x, now) => {
      const spec = o(x.spec);
      const st = o(x.status);
      const [c, i] = containersAndImages(spec.template);
      return [meta(x).name, n(spec.replicas), n(st.replicas), n(st.readyReplicas), age(meta(x).creationTimestamp, now), c, i, selectorText(spec.selector)];
    },
  },
  DaemonSet: {
    columns: [
      NAME,
      ['Desired', 'integer', 'The total number of nodes that should be running the daemon pod.'],
      ['Current', 'integer', 'The number of nodes that are running at least 1 daemon pod.'],
      ['Ready', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'],
      ['Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod.'],
      ['Available', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.'],
      ['Node Selector', 'string', 'NodeSelector is a selector which must be true for the pod to fit on a node.'],
      AGE,
      ['Containers', 'string', 'Names of each container in the template.', 1],
      ['Images', 'string', 'Images referenced by each container in the template.', 1],
      ['Selector', 'string', 'A label query over pods that are managed by the daemon set.', 1],
    ],
    row: (x, now) => {
      const spec = o(x.spec);
      const st = o(x.status);
      const [c, i] = containersAndImages(spec.template);
      return [
        meta(x).name,
        n(st.desiredNumberScheduled),
        n(st.currentNumberScheduled),
        n(st.numberReady),
        n(st.updatedNumberScheduled),
        n(st.numberAvailable),
        mapSelector(o(o(spec.template).spec).nodeSelector),
        age(meta(x).creationTimestamp, now),
        c,
        i,
        selectorText(spec.selector),
      ];
    },
  },
  StatefulSet: {
    columns: [
      NAME,
      ['Ready', 'string', 'Number of the pod with ready state'],
      AGE,
      ['Containers', 'string', 'Names of each container in the template.', 1],
      ['Images', 'string', 'Images referenced by each container in the template.', 1],
    ],
    row: (x, now) => {
      const spec = o(x.spec);
      const [c, i] = containersAndImages(spec.template);
      return [meta(x).name, `${n(o(x.status).readyReplicas)}/${n(spec.replicas)}`, age(meta(x).creationTimestamp, now), c, i];
    },
  },
  ControllerRevision: {
    columns: [NAME, ['Controller', 'string', 'Controller of the object'], ['Revision', 'integer', 'Revision'], AGE],
    row: (x, now) => {
      // `daemonset.apps/web`, as upstream names the controller (lower-case kind.group/name).
      const ref = l(meta(x).ownerReferences).find((r) => r.controller === true);
      const group = typeof ref?.apiVersion === 'string' && ref.apiVersion.includes('/') ? `.${ref.apiVersion.split('/')[0]}` : '';
      const controller = ref ? `${String(ref.kind).toLowerCase()}${group}/${String(ref.name)}` : '<none>';
      return [meta(x).name, controller, n(x.revision), age(meta(x).creationTimestamp, now)];
    },
  },
  Job: {
    columns: [
      NAME,
      ['Status', 'string', 'Status of the job.'],
      ['Completions', 'string', 'The completion status of the job.'],
      ['Duration', 'string', 'Time required to complete the job.'],
      AGE,
      ['Containers', 'string', 'Names of each container in the template.', 1],
      ['Images', 'string', 'Images referenced by each container in the template.', 1],
      ['Selector', 'string', 'Selector is a label query over pods that should match the pod count.', 1],
    ],
    row: (x, now) => {
      const spec = o(x.spec);
      const st = o(x.status);
      const conds = l(st.conditions).filter((c) => c.status === 'True');
      const status = conds.some((c) => c.type === 'Complete')
        ? 'Complete'
        : conds.some((c) => c.type === 'Failed')
          ? 'Failed'
          : spec.suspend
            ? 'Suspended'
            : 'Running';
      const start = typeof st.startTime === 'string' ? Date.parse(st.startTime) : undefined;
      const end = typeof st.completionTime === 'string' ? Date.parse(st.completionTime) : now;
      const [c, i] = containersAndImages(spec.template);
      return [
        meta(x).name,
        status,
        `${n(st.succeeded)}/${spec.completions ?? 1}`,
        start ? humanDuration(end - start) : '',
        age(meta(x).creationTimestamp, now),
        c,
        i,
        selectorText(spec.selector),
      ];
    },
  },
  CronJob: {
    columns: [
      NAME,
      ['Schedule', 'string', 'The schedule in Cron format.'],
      ['Timezone', 'string', 'The time zone name for the given schedule.'],
      ['Suspend', 'boolean', 'This flag tells the controller to suspend subsequent executions.'],
      ['Active', 'integer', 'A list of pointers to currently running jobs.'],
      ['Last Schedule', 'string', 'Information when was the last time the job was successfully scheduled.'],
      AGE,
    ],
    row: (x, now) => {
      const spec = o(x.spec);
      const st = o(x.status);
      return [
        meta(x).name,
        spec.schedule,
        str(spec.timeZone),
        Boolean(spec.suspend),
        l(st.active).length,
        st.lastScheduleTime ? age(st.lastScheduleTime, now) : '<none>',
        age(meta(x).creationTimestamp, now),
      ];
    },
  },
  EndpointSlice: {
    columns: [
      NAME,
      ['AddressType', 'string', 'The IP protocol for this slice.'],
      ['Ports', 'string', 'The ports of this slice.'],
      ['Endpoints', 'string', 'The endpoints of this slice.'],
      AGE,
    ],
    row: (x, now) => {
      const ports = l(x.ports).map((p) => p.port);
      const eps = l(x.endpoints).flatMap((e) => (Array.isArray(e.addresses) ? e.addresses : []));
      return [
        meta(x).name,
        x.addressType,
        ports.length ? ports.join(',') : '<unset>',
        eps.length ? eps.slice(0, 3).join(',') + (eps.length > 3 ? ` + ${eps.length - 3} more...` : '') : '<unset>',
        age(meta(x).creationTimestamp, now),
      ];
    },
  },
  Lease: {
    columns: [NAME, ['Holder', 'string', 'The holder of the lease.'], AGE],
    row: (x, now) => [meta(x).name, str(o(x.spec).holderIdentity, ''), age(meta(x).creationTimestamp, now)],
  },
  PodDisruptionBudget: {
    columns: [
      NAME,
      ['Min Available', 'string', 'The minimum number of pods that must be available.'],
      ['Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'],
      ['Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'],
      AGE,
    ],
    row: (x, now) => {
      const spec = o(x.spec);
      return [
        meta(x).name,
        str(spec.minAvailable, 'N/A'),
        str(spec.maxUnavailable, 'N/A'),
        n(o(x.status).disruptionsAllowed),
        age(meta(x).creationTimestamp, now),
      ];
    },
  },
  HorizontalPodAutoscaler: {
    columns: [
      NAME,
      ['Reference', 'string', 'Reference to the target resource.'],
      ['Targets', 'string', 'Current and target values of the metrics.'],
      ['MinPods', 'string', 'Lower limit for the number of pods.'],
      ['MaxPods', 'integer', 'Upper limit for the number of pods.'],
      ['Replicas', 'integer', 'Current number of replicas.'],
      AGE,
    ],
    row: (x, now) => {
      const spec = o(x.spec);
      const ref = o(spec.scaleTargetRef);
      const targets = hpaTargets(l(spec.metrics), l(o(x.status).currentMetrics));
      return [
        meta(x).name,
        `${ref.kind}/${ref.name}`,
        targets,
        str(spec.minReplicas, '1'),
        n(spec.maxReplicas),
        n(o(x.status).currentReplicas),
        age(meta(x).creationTimestamp, now),
      ];
    },
  },
  RoleBinding: {
    columns: [
      NAME,
      ['Role', 'string', 'Role indicates the role that this binding refers to.'],
      AGE,
      ['Users', 'string', 'Users in the binding', 1],
      ['Groups', 'string', 'Groups in the binding', 1],
      ['ServiceAccounts', 'string', 'ServiceAccounts in the binding', 1],
    ],
    row: (x, now) => {
      const ref = o(x.roleRef);
      const subjects = l(x.subjects);
      const of = (k: string) =>
        subjects
          .filter((s) => s.kind === k)
          .map((s) => (k === 'ServiceAccount' ? `${s.namespace}/${s.name}` : s.name))
          .join(', ');
      return [meta(x).name, `${ref.kind}/${ref.name}`, age(meta(x).creationTimestamp, now), of('User'), of('Group'), of('ServiceAccount')];
    },
  },
  Role: {
    columns: [NAME, ['Created At', 'date', 'CreationTimestamp is a timestamp representing the server time when this object was created.']],
    row: (x) => [meta(x).name, meta(x).creationTimestamp],
  },
  LimitRange: {
    columns: [NAME, ['Created At', 'date', 'CreationTimestamp is a timestamp representing the server time when this object was created.']],
    row: (x) => [meta(x).name, meta(x).creationTimestamp],
  },
  PersistentVolumeClaim: {
    columns: [
      NAME,
      ['Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'],
      ['Volume', 'string', 'volumeName is the binding reference to the PersistentVolume backing this claim.'],
      ['Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'],
      [
        'Access Modes',
        'string',
        'accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1',
      ],
      ['StorageClass', 'string', 'StorageClass of the pvc'],
      ['VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'],
      AGE,
      [
        'VolumeMode',
        'string',
        'volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.',
        1,
      ],
    ],
    row: (x, now) => {
      const spec = o(x.spec);
      const st = o(x.status);
      // Capacity and access modes are the bound volume's, shown once the claim names one.
      const bound = typeof spec.volumeName === 'string' && spec.volumeName !== '';
      const capacity = o(st.capacity).storage;
      return [
        meta(x).name,
        x.metadata.deletionTimestamp ? 'Terminating' : str(st.phase, ''),
        str(spec.volumeName, ''),
        bound ? canonicalQuantity(String(capacity ?? '0')) : '',
        bound ? accessModesText(st.accessModes) : '',
        claimStorageClass(x),
        str(spec.volumeAttributesClassName, '<unset>'),
        age(meta(x).creationTimestamp, now),
        str(spec.volumeMode, '<unset>'),
      ];
    },
  },
  PersistentVolume: {
    columns: [
      NAME,
      [
        'Capacity',
        'string',
        "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity",
      ],
      [
        'Access Modes',
        'string',
        'accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes',
      ],
      [
        'Reclaim Policy',
        'string',
        'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming',
      ],
      [
        'Status',
        'string',
        'phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase',
      ],
      [
        'Claim',
        'string',
        'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding',
      ],
      ['StorageClass', 'string', 'StorageClass of the pv'],
      ['VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'],
      ['Reason', 'string', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'],
      AGE,
      [
        'VolumeMode',
        'string',
        'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.',
        1,
      ],
    ],
    row: (x, now) => {
      const spec = o(x.spec);
      const st = o(x.status);
      const claim = isPlainObject(spec.claimRef) ? `${str(spec.claimRef.namespace, '')}/${str(spec.claimRef.name, '')}` : '';
      return [
        meta(x).name,
        canonicalQuantity(String(o(spec.capacity).storage ?? '0')),
        accessModesText(spec.accessModes),
        str(spec.persistentVolumeReclaimPolicy, ''),
        x.metadata.deletionTimestamp ? 'Terminating' : str(st.phase, ''),
        claim,
        volumeStorageClass(x),
        str(spec.volumeAttributesClassName, '<unset>'),
        str(st.reason, ''),
        age(meta(x).creationTimestamp, now),
        str(spec.volumeMode, '<unset>'),
      ];
    },
  },
  StorageClass: {
    columns: [
      NAME,
      ['Provisioner', 'string', 'provisioner indicates the type of the provisioner.'],
      [
        'ReclaimPolicy',
        'string',
        'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.',
      ],
      [
        'VolumeBindingMode',
        'string',
        'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.',
      ],
      ['AllowVolumeExpansion', 'string', 'allowVolumeExpansion shows whether the storage class allow volume expand.'],
      AGE,
    ],
    row: (x, now) => [
      isDefaultStorageClass(x) ? `${meta(x).name} (default)` : meta(x).name,
      x.provisioner,
      str(x.reclaimPolicy, 'Delete'),
      str(x.volumeBindingMode, 'Immediate'),
      x.allowVolumeExpansion === true,
      age(meta(x).creationTimestamp, now),
    ],
  },
};
PRINTERS.ClusterRole = PRINTERS.Role;
PRINTERS.ClusterRoleBinding = PRINTERS.RoleBinding;

const DEFAULT_PRINTER: Printer = { columns: [NAME, AGE], row: (x, now) => [meta(x).name, age(meta(x).creationTimestamp, now)] };

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** The Table for `items` of `kind`; `includeObject` chooses what each row carries (upstream's default: metadata). */
export function toTable(
  kind: string,
  items: KubeObject[],
  opts: {
    include: IncludeObject;
    resourceVersion?: string;
    continue?: string;
    now?: number;
    noHeaders?: boolean;
    /** The form of each item the printer reads, when not the item itself (a converted resource's stored form). */
    printed?: (item: KubeObject) => KubeObject;
  },
): Table {
  const printer = PRINTERS[kind] ?? DEFAULT_PRINTER;
  const now = opts.now ?? Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { ...(opts.resourceVersion ? { resourceVersion: opts.resourceVersion } : {}), ...(opts.continue ? { continue: opts.continue } : {}) },
    columnDefinitions: opts.noHeaders
      ? []
      : printer.columns.map(([name, type, description, priority], i) => ({
          name,
          type,
          format: i === 0 && name === 'Name' ? 'name' : '',
          description,
          priority: priority ?? 0,
        })),
    rows: items.map((item) => ({
      cells: printer.row(opts.printed ? opts.printed(item) : item, now),
      ...(opts.include === 'None'
        ? {}
        : {
            object: opts.include === 'Object' ? item : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: item.metadata },
          }),
    })),
  };
}

/** kubectl's TARGETS of an HPA (upstream's formatHPAMetrics): current/target per metric, two at most and a count of the rest. */
function hpaTargets(specs: Record<string, unknown>[], statuses: Record<string, unknown>[]): string {
  if (!specs.length) return '<none>';
  const q = (v: unknown) => (v === undefined || v === null ? '<unknown>' : String(v));
  const list = specs.map((m, i) => {
    const status = o(statuses[i]);
    switch (m.type) {
      case 'Resource':
      case 'ContainerResource': {
        const key = m.type === 'Resource' ? 'resource' : 'containerResource';
        const source = o(m[key]);
        const target = o(source.target);
        const current = status[key] === undefined ? undefined : o(o(status[key]).current);
        if (target.averageValue !== undefined) return `${source.name}: ${q(current?.averageValue)}/${target.averageValue}`;
        const used = current?.averageUtilization === undefined ? '<unknown>' : `${current.averageUtilization}%`;
        return `${source.name}: ${used}/${target.averageUtilization === undefined ? '<auto>' : `${target.averageUtilization}%`}`;
      }
      case 'Pods':
        return `${q(status.pods === undefined ? undefined : o(o(status.pods).current).averageValue)}/${o(o(m.pods).target).averageValue}`;
      case 'Object':
      case 'External': {
        const key = m.type === 'Object' ? 'object' : 'external';
        const target = o(o(m[key]).target);
        const current = status[key] === undefined ? undefined : o(o(status[key]).current);
        return target.averageValue !== undefined ? `${q(current?.averageValue)}/${target.averageValue} (avg)` : `${q(current?.value)}/${target.value}`;
      }
      default:
        return '<unknown type>';
    }
  });
  return list.length > 2 ? `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...` : list.join(', ');
}
