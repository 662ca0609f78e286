import { getPath, KubeObject } from './object';
import { KubeError } from './status';

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Fields each kind can be selected on besides metadata.name and metadata.namespace (as upstream registers them). */
const FIELDS: Record<string, string[]> = {
  Pod: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  Node: ['spec.unschedulable'],
  Namespace: ['status.phase'],
  Secret: ['type'],
  ReplicaSet: ['status.replicas'],
  Job: ['status.successful'],
  Event: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  Service: ['spec.clusterIP', 'spec.type'],
  // events.k8s.io/v1 names the same fields its own way (upstream's AddFieldLabelConversionsForEvent for that version).
  'Event.events.k8s.io': [
    'regarding.kind',
    'regarding.namespace',
    'regarding.name',
    'regarding.uid',
    'regarding.apiVersion',
    'regarding.resourceVersion',
    'regarding.fieldPath',
    'reason',
    'reportingController',
    'source',
    'type',
  ],
};

/** The requirements of a field selector on `kind` of `group`: a `Kind.group` entry's fields, else the kind's. */
export function parseFieldSelector(text: string | undefined, kind: string, group = ''): FieldRequirement[] {
  if (!text || !text.trim()) return [];
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(FIELDS[`${kind}.${group}`] ?? FIELDS[kind] ?? [])]);
  return text.split(',').map((part) => {
    const m = part.trim().match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw KubeError.badRequest(`invalid selector: '${part}'; can't understand '${part}'`);
    const field = m[1].trim();
    if (!allowed.has(field)) throw KubeError.badRequest(`field label not supported: ${field}`);
    return { field, op: m[2] === '!=' ? '!=' : '=', value: m[3].trim() };
  });
}

function fieldValue(obj: KubeObject, field: string): string {
  // An Event's `source` selects on its reporting component: core/v1's source, events.k8s.io/v1's deprecatedSource.
  const v = field === 'source' ? (getPath(obj, 'source.component') ?? getPath(obj, 'deprecatedSource.component')) : getPath(obj, field);
  if (v === undefined || v === null) return field === 'spec.hostNetwork' || field === 'spec.unschedulable' ? 'false' : '';
  return String(v);
}

export function matchesFields(reqs: FieldRequirement[], obj: KubeObject): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === '='));
}
