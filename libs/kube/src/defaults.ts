import { isPlainObject, JsonObject, KubeObject } from './object';

/** An HPA's scale-up rules where its behavior leaves them out (upstream's GenerateHPAScaleUpRules). */
export const HPA_SCALE_UP_DEFAULTS = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
} as const;
/** An HPA's scale-down rules where its behavior leaves them out (upstream's GenerateHPAScaleDownRules). */
export const HPA_SCALE_DOWN_DEFAULTS = {
  stabilizationWindowSeconds: 300,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
} as const;

/** Upstream's defaulting for the fields kubectl and controllers rely on (a subset of SetDefaults_* per kind). */
type Obj = JsonObject;
const obj = (parent: Obj, key: string): Obj => {
  if (!isPlainObject(parent[key])) parent[key] = {};
  return parent[key] as Obj;
};
const setDefault = (o: Obj, key: string, value: unknown): void => {
  if (o[key] === undefined || o[key] === null) o[key] = value;
};
const list = (o: Obj, key: string): Obj[] => (Array.isArray(o[key]) ? (o[key] as unknown[]).filter(isPlainObject) : []);

function defaultContainer(c: Obj): void {
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  const image = typeof c.image === 'string' ? c.image : '';
  const tag = image.includes('@') ? 'digest' : (image.split('/').pop() ?? '').split(':')[1];
  setDefault(c, 'imagePullPolicy', !tag || tag === 'latest' ? 'Always' : 'IfNotPresent');
  for (const p of list(c, 'ports')) setDefault(p, 'protocol', 'TCP');
  if (!isPlainObject(c.resources)) c.resources = {};
  const r = c.resources as Obj;
  // Requests default to limits when only limits are set.
  if (isPlainObject(r.limits)) r.requests = { ...(r.limits as Obj), ...(isPlainObject(r.requests) ? r.requests : {}) };
}

export function defaultPodSpec(spec: Obj): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  for (const c of [...list(spec, 'containers'), ...list(spec, 'initContainers'), ...list(spec, 'ephemeralContainers')]) defaultContainer(c);
  for (const v of list(spec, 'volumes')) {
    if (isPlainObject(v.configMap)) setDefault(v.configMap, 'defaultMode', 420);
    if (isPlainObject(v.secret)) setDefault(v.secret, 'defaultMode', 420);
    const template = isPlainObject(v.ephemeral) ? v.ephemeral.volumeClaimTemplate : undefined;
    if (isPlainObject(template) && isPlainObject(template.spec)) defaultClaimSpec(template.spec);
  }
}

/** SetDefaults_PersistentVolumeClaimSpec: wherever a claim's spec is (claims, templates), a filesystem volume. */
function defaultClaimSpec(spec: Obj): void {
  setDefault(spec, 'volumeMode', 'Filesystem');
}

/** SetDefaults_PersistentVolumeClaim: its spec's defaults, and Pending until bound (StatefulSet templates too). */
function defaultClaim(claim: Obj): void {
  defaultClaimSpec(obj(claim, 'spec'));
  setDefault(obj(claim, 'status'), 'phase', 'Pending');
}

function defaultTemplate(spec: Obj): void {
  const template = obj(spec, 'template');
  defaultPodSpec(obj(template, 'spec'));
}

const percent25 = '25%';

/**
 * Upstream's job strategy (generateSelectorIfNeeded): unless `manualSelector` is true, the Job selects its pods by
 * its own uid, and the template carries that uid and the Job's name (new and legacy label keys alike).
 */
function generateJobSelector(o: KubeObject, spec: Obj): void {
  const uid = o.metadata?.uid;
  if (spec.manualSelector === true || typeof uid !== 'string' || isPlainObject(spec.selector)) return;
  const tplMeta = obj(obj(spec, 'template'), 'metadata');
  const labels = obj(tplMeta, 'labels');
  const name = String(o.metadata.name ?? '');
  for (const [key, value] of [
    ['batch.kubernetes.io/controller-uid', uid],
    ['batch.kubernetes.io/job-name', name],
    ['controller-uid', uid],
    ['job-name', name],
  ])
    setDefault(labels, key, value);
  spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
}

/**
 * Upstream's DefaultTolerationSeconds admission: a pod that does not already tolerate a node's not-ready or
 * unreachable NoExecute taint gets a 300 s toleration of each, so a briefly unhealthy node does not evict it at once.
 */
function defaultTolerationSeconds(spec: Obj): void {
  const tolerations = Array.isArray(spec.tolerations) ? (spec.tolerations as Obj[]) : [];
  const tolerates = (key: string) =>
    tolerations.some(
      (t) =>
        isPlainObject(t) &&
        (t.effect === undefined || t.effect === '' || t.effect === 'NoExecute') &&
        (t.key === key || ((t.key ?? '') === '' && t.operator === 'Exists')),
    );
  const added = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']
    .filter((key) => !tolerates(key))
    .map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }));
  if (added.length) spec.tolerations = [...tolerations, ...added];
}

export function applyDefaults(kind: string, o: KubeObject): void {
  const spec = (isPlainObject(o.spec) ? o.spec : undefined) as Obj | undefined;
  switch (kind) {
    case 'Pod':
      if (spec) {
        defaultPodSpec(spec);
        if (!spec.serviceAccountName && spec.serviceAccountName !== '') spec.serviceAccountName = 'default';
        setDefault(spec, 'enableServiceLinks', true);
        setDefault(spec, 'priority', 0);
        defaultTolerationSeconds(spec);
      }
      break;
    case 'Deployment':
      if (spec) {
        setDefault(spec, 'replicas', 1);
        setDefault(spec, 'revisionHistoryLimit', 10);
        setDefault(spec, 'progressDeadlineSeconds', 600);
        const strategy = obj(spec, 'strategy');
        setDefault(strategy, 'type', 'RollingUpdate');
        if (strategy.type === 'RollingUpdate') {
          const ru = obj(strategy, 'rollingUpdate');
          setDefault(ru, 'maxSurge', percent25);
          setDefault(ru, 'maxUnavailable', percent25);
        }
        defaultTemplate(spec);
      }
      break;
    case 'ReplicaSet':
      if (spec) {
        setDefault(spec, 'replicas', 1);
        defaultTemplate(spec);
      }
      break;
    case 'StatefulSet':
      if (spec) {
        setDefault(spec, 'replicas', 1);
        setDefault(spec, 'podManagementPolicy', 'OrderedReady');
        setDefault(spec, 'revisionHistoryLimit', 10);
        const strategy = obj(spec, 'updateStrategy');
        setDefault(strategy, 'type', 'RollingUpdate');
        if (strategy.type === 'RollingUpdate') setDefault(obj(strategy, 'rollingUpdate'), 'partition', 0);
        setDefault(spec, 'persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' });
        for (const claim of list(spec, 'volumeClaimTemplates')) defaultClaim(claim);
        defaultTemplate(spec);
      }
      break;
    case 'DaemonSet':
      if (spec) {
        setDefault(spec, 'revisionHistoryLimit', 10);
        const strategy = obj(spec, 'updateStrategy');
        setDefault(strategy, 'type', 'RollingUpdate');
        if (strategy.type === 'RollingUpdate') {
          const ru = obj(strategy, 'rollingUpdate');
          setDefault(ru, 'maxUnavailable', 1);
          setDefault(ru, 'maxSurge', 0);
        }
        defaultTemplate(spec);
      }
      break;
    case 'Job':
      if (spec) {
        // Neither given: one pod to one completion. Parallelism alone leaves completions unset (a work queue).
        if (spec.completions == null && spec.parallelism == null) spec.completions = 1;
        setDefault(spec, 'parallelism', 1);
        setDefault(spec, 'backoffLimit', spec.backoffLimitPerIndex != null ? 2147483647 : 6);
        setDefault(spec, 'completionMode', 'NonIndexed');
        setDefault(spec, 'suspend', false);
        setDefault(spec, 'podReplacementPolicy', isPlainObject(spec.podFailurePolicy) ? 'Failed' : 'TerminatingOrFailed');
        if (isPlainObject(spec.podFailurePolicy) && Array.isArray(spec.podFailurePolicy.rules))
          for (const rule of spec.podFailurePolicy.rules)
            if (isPlainObject(rule) && Array.isArray(rule.onPodConditions))
              for (const pattern of rule.onPodConditions) if (isPlainObject(pattern)) setDefault(pattern, 'status', 'True');
        defaultTemplate(spec);
        const tpl = obj(obj(spec, 'template'), 'spec');
        if (tpl.restartPolicy === 'Always') tpl.restartPolicy = 'Never';
        generateJobSelector(o, spec);
      }
      break;
    case 'CronJob':
      if (spec) {
        setDefault(spec, 'concurrencyPolicy', 'Allow');
        setDefault(spec, 'suspend', false);
        setDefault(spec, 'successfulJobsHistoryLimit', 3);
        setDefault(spec, 'failedJobsHistoryLimit', 1);
        const jobSpec = obj(obj(spec, 'jobTemplate'), 'spec');
        setDefault(jobSpec, 'backoffLimit', 6);
        defaultTemplate(jobSpec);
      }
      break;
    case 'Service':
      if (spec) {
        setDefault(spec, 'type', 'ClusterIP');
        setDefault(spec, 'sessionAffinity', 'None');
        setDefault(spec, 'internalTrafficPolicy', 'Cluster');
        if (spec.type === 'LoadBalancer' || spec.type === 'NodePort') setDefault(spec, 'externalTrafficPolicy', 'Cluster');
        for (const p of list(spec, 'ports')) {
          setDefault(p, 'protocol', 'TCP');
          setDefault(p, 'targetPort', p.port);
        }
      }
      break;
    case 'Secret':
      setDefault(o, 'type', 'Opaque');
      break;
    case 'PersistentVolumeClaim':
      defaultClaim(o);
      break;
    case 'PersistentVolume': {
      // SetDefaults_PersistentVolume: a volume made by hand is kept when released (provisioners write Delete).
      const pvSpec = obj(o, 'spec');
      setDefault(pvSpec, 'persistentVolumeReclaimPolicy', 'Retain');
      setDefault(pvSpec, 'volumeMode', 'Filesystem');
      setDefault(obj(o, 'status'), 'phase', 'Pending');
      break;
    }
    case 'StorageClass':
      setDefault(o, 'reclaimPolicy', 'Delete');
      setDefault(o, 'volumeBindingMode', 'Immediate');
      break;
    case 'Namespace':
      setDefault(obj(o, 'spec'), 'finalizers', ['kubernetes']);
      break;
    case 'Node':
      // v1 spells the pod range twice; upstream's conversion keeps podCIDRs (else [podCIDR]) and mirrors its first.
      if (spec) {
        const cidrs = Array.isArray(spec.podCIDRs) && spec.podCIDRs.length ? spec.podCIDRs : spec.podCIDR ? [spec.podCIDR] : [];
        if (cidrs.length) {
          spec.podCIDRs = cidrs;
          spec.podCIDR = cidrs[0];
        }
      }
      break;
    case 'LimitRange':
      // SetDefaults_LimitRangeItem: a Container item's default limit is its max, its default request the default
      // limit, else its min.
      for (const item of spec ? list(spec, 'limits') : []) {
        if (item.type !== 'Container') continue;
        const fill = (into: string, from: unknown) => {
          if (!isPlainObject(from)) return;
          const target = obj(item, into);
          for (const [k, v] of Object.entries(from)) setDefault(target, k, v);
        };
        fill('default', item.max);
        fill('defaultRequest', item.default);
        fill('defaultRequest', item.min);
        for (const key of ['default', 'defaultRequest']) if (isPlainObject(item[key]) && !Object.keys(item[key]).length) delete item[key];
      }
      break;
    case 'HorizontalPodAutoscaler':
      if (spec) {
        setDefault(spec, 'minReplicas', 1);
        // autoscaling/v2's SetDefaults_HorizontalPodAutoscaler: no metrics means CPU at 80 % of the requests.
        if (!Array.isArray(spec.metrics) || !spec.metrics.length) {
          spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
        }
        // A behavior that is given gets each missing part from upstream's rules (an absent one stays absent).
        if (isPlainObject(spec.behavior)) {
          const behavior = spec.behavior;
          for (const [key, rules] of [
            ['scaleUp', HPA_SCALE_UP_DEFAULTS],
            ['scaleDown', HPA_SCALE_DOWN_DEFAULTS],
          ] as const) {
            const given = obj(behavior, key);
            setDefault(given, 'stabilizationWindowSeconds', rules.stabilizationWindowSeconds);
            setDefault(given, 'selectPolicy', rules.selectPolicy);
            if (!Array.isArray(given.policies) || !given.policies.length) given.policies = rules.policies.map((p) => ({ ...p }));
          }
        }
      }
      break;
  }
}
