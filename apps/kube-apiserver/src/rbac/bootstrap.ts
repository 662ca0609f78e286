import type { Logger } from 'pino';
import { isPlainObject, jsonEqual, KubeError, KubeObject, matchesLabels, selectorFromObject } from '@cerulean/kube';
import type { RestStorage, WriteOptions } from '../rest';
import { RbacCache } from './cache';
import {
  AUTOUPDATE_ANNOTATION,
  BOOTSTRAP_CLUSTER_ROLE_BINDINGS,
  BOOTSTRAP_CLUSTER_ROLES,
  BOOTSTRAP_LABELS,
  BootstrapClusterRole,
  BootstrapClusterRoleBinding,
} from './policy';
import type { PolicyRule, RoleRef, Subject } from './types';

const systemWrite = (fieldManager: string): WriteOptions => ({
  dryRun: false,
  fieldValidation: 'Ignore',
  user: { name: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] },
  fieldManager,
});

const sameRule = (a: PolicyRule, b: PolicyRule) => jsonEqual(normalizeRule(a), normalizeRule(b));
const normalizeRule = (r: PolicyRule) => ({
  verbs: r.verbs ?? [],
  apiGroups: r.apiGroups ?? [],
  resources: r.resources ?? [],
  resourceNames: r.resourceNames ?? [],
  nonResourceURLs: r.nonResourceURLs ?? [],
});
const sameSubject = (a: Subject, b: Subject) => a.kind === b.kind && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '');

/** Labels and annotations the object lacks are added; the user's own stay (upstream's reconcile keeps extra metadata). */
function mergeMeta(cur: KubeObject, labels: Record<string, string>): boolean {
  let changed = false;
  const l = { ...(cur.metadata.labels ?? {}) };
  for (const [k, v] of Object.entries(labels))
    if (l[k] !== v) {
      l[k] = v;
      changed = true;
    }
  const a = { ...(cur.metadata.annotations ?? {}) };
  if (a[AUTOUPDATE_ANNOTATION] === undefined) {
    a[AUTOUPDATE_ANNOTATION] = 'true';
    changed = true;
  }
  cur.metadata.labels = l;
  cur.metadata.annotations = a;
  return changed;
}

/**
 * Upstream's bootstrap-roles post-start hook: every bootstrap ClusterRole and ClusterRoleBinding is created when
 * missing and, unless annotated `rbac.authorization.kubernetes.io/autoupdate: "false"`, given back what it lacks
 * (rules, aggregation selectors, subjects, labels) without removing what an administrator added. A binding whose
 * roleRef changed is made again (roleRef cannot be updated).
 */
export async function reconcileBootstrapPolicy(cache: RbacCache, storage: RestStorage): Promise<void> {
  // Each object on its own key, so all at once: etcd commits concurrent writes together, and a new cluster waits for these.
  await Promise.all([
    ...BOOTSTRAP_CLUSTER_ROLES.map((role) => reconcileRole(cache, storage, role)),
    ...BOOTSTRAP_CLUSTER_ROLE_BINDINGS.map((b) => reconcileBinding(cache, storage, b)),
  ]);
}

function roleObject(role: BootstrapClusterRole): KubeObject {
  return {
    metadata: { name: role.name, labels: { ...BOOTSTRAP_LABELS, ...role.labels }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    ...(role.aggregateFrom ? { aggregationRule: { clusterRoleSelectors: role.aggregateFrom.map((matchLabels) => ({ matchLabels })) } } : {}),
    rules: role.rules ?? [],
  } as KubeObject;
}

async function reconcileRole(cache: RbacCache, storage: RestStorage, role: BootstrapClusterRole): Promise<void> {
  const rt = cache.rt('clusterroles');
  const wo = systemWrite('kube-apiserver');
  // The cache has listed every ClusterRole: a new cluster creates its roles without first reading each from etcd. One
  // the cache knows, or one made meanwhile by someone else, is read and reconciled as before.
  if (!cache.get('clusterroles', '', role.name) && (await createdUnlessExists(storage.create(rt, undefined, roleObject(role), wo)))) return;
  if (!(await storage.tryGet(rt, undefined, role.name))) {
    await storage.create(rt, undefined, roleObject(role), wo).catch(ignoreExists);
    return;
  }
  await storage.guaranteedUpdate(rt, undefined, role.name, wo, (cur) => {
    if (!cur) throw KubeError.notFound({ group: rt.group, resource: rt.plural }, role.name);
    if (cur.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') return { obj: cur };
    mergeMeta(cur, { ...BOOTSTRAP_LABELS, ...role.labels });
    if (role.aggregateFrom) {
      const agg = isPlainObject(cur.aggregationRule) ? (cur.aggregationRule as { clusterRoleSelectors?: unknown[] }) : {};
      const selectors = [...(agg.clusterRoleSelectors ?? [])];
      for (const matchLabels of role.aggregateFrom) if (!selectors.some((s) => jsonEqual(s, { matchLabels }))) selectors.push({ matchLabels });
      cur.aggregationRule = { clusterRoleSelectors: selectors };
    } else {
      const rules = [...((cur.rules as PolicyRule[] | null) ?? [])];
      for (const want of role.rules ?? []) if (!rules.some((have) => sameRule(have, want))) rules.push(want);
      cur.rules = rules;
    }
    return { obj: cur };
  });
}

async function reconcileBinding(cache: RbacCache, storage: RestStorage, b: BootstrapClusterRoleBinding): Promise<void> {
  const rt = cache.rt('clusterrolebindings');
  const wo = systemWrite('kube-apiserver');
  const roleRef: RoleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: b.role };
  const fresh = {
    metadata: { name: b.name, labels: { ...BOOTSTRAP_LABELS }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    roleRef,
    subjects: b.subjects,
  } as KubeObject;
  if (!cache.get('clusterrolebindings', '', b.name) && (await createdUnlessExists(storage.create(rt, undefined, fresh, wo)))) return;
  const existing = await storage.tryGet(rt, undefined, b.name);
  if (!existing) {
    await storage.create(rt, undefined, fresh, wo).catch(ignoreExists);
    return;
  }
  const cur = existing.obj;
  if (cur.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') return;
  if (!jsonEqual(cur.roleRef, roleRef)) {
    await storage.delete(rt, undefined, b.name, { dryRun: false }, wo).catch(() => undefined);
    await storage.create(rt, undefined, { ...fresh, subjects: mergeSubjects((cur.subjects as Subject[] | null) ?? [], b.subjects) }, wo).catch(ignoreExists);
    return;
  }
  await storage.guaranteedUpdate(rt, undefined, b.name, wo, (now) => {
    if (!now) throw KubeError.notFound({ group: rt.group, resource: rt.plural }, b.name);
    mergeMeta(now, BOOTSTRAP_LABELS);
    now.subjects = mergeSubjects((now.subjects as Subject[] | null) ?? [], b.subjects);
    return { obj: now };
  });
}

const mergeSubjects = (have: Subject[], want: Subject[]) => [...have, ...want.filter((w) => !have.some((h) => sameSubject(h, w)))];

/** For creates of what may already be there: AlreadyExists is not a failure. */
export const ignoreExists = (err: unknown) => {
  if (!(err instanceof KubeError && err.reason === 'AlreadyExists')) throw err;
};

/** Whether `create` made the object: false when it already existed, any other failure thrown. */
const createdUnlessExists = (create: Promise<unknown>): Promise<boolean> =>
  create.then(
    () => true,
    (err: unknown) => {
      ignoreExists(err);
      return false;
    },
  );

/**
 * Upstream's clusterrole-aggregation controller, in the API server's process: a ClusterRole with an aggregationRule
 * gets, as its rules, the distinct rules of every other ClusterRole its selectors match (in name order). It runs on
 * every ClusterRole change the cache sees; its own writes come back as changes and settle once nothing differs, which
 * also carries chains (view → edit → admin) through.
 */
export class ClusterRoleAggregator {
  private scheduled = false;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly cache: RbacCache,
    private readonly storage: RestStorage,
    private readonly log: Logger,
  ) {
    cache.onChange((kind) => {
      if (kind === 'clusterroles') this.schedule();
    });
  }

  stop(): void {
    this.stopped = true;
  }

  /** Resolves once the pass now due (if any) has run. */
  settled(): Promise<void> {
    return this.running;
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    this.running = this.running.then(
      () =>
        new Promise<void>((resolve) =>
          setImmediate(() => {
            this.scheduled = false;
            this.pass()
              .catch((err) => this.log.warn({ err: (err as Error).message }, 'ClusterRole aggregation failed; the next change retries it'))
              .finally(resolve);
          }),
        ),
    );
  }

  private async pass(): Promise<void> {
    if (this.stopped || !this.cache.synced) return;
    const all = [...this.cache.list('clusterroles')].sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
    for (const role of all) {
      const agg = role.aggregationRule as { clusterRoleSelectors?: Parameters<typeof selectorFromObject>[0][] } | null | undefined;
      if (!isPlainObject(agg)) continue;
      const selectors = (agg.clusterRoleSelectors ?? []).filter(isPlainObject).map((s) => selectorFromObject(s));
      const rules: PolicyRule[] = [];
      for (const other of all) {
        if (other.metadata.name === role.metadata.name) continue;
        if (!selectors.some((sel) => matchesLabels(sel, other.metadata.labels))) continue;
        for (const rule of (other.rules as PolicyRule[] | null) ?? []) if (!rules.some((r) => sameRule(r, rule))) rules.push(rule);
      }
      const current = (role.rules as PolicyRule[] | null) ?? [];
      if (current.length === rules.length && current.every((r, i) => sameRule(r, rules[i]))) continue;
      const rt = this.cache.rt('clusterroles');
      await this.storage
        .guaranteedUpdate(rt, undefined, role.metadata.name as string, systemWrite('clusterrole-aggregation-controller'), (cur) => {
          if (!cur) throw KubeError.notFound({ group: rt.group, resource: rt.plural }, role.metadata.name as string);
          return { obj: { ...cur, rules } };
        })
        .catch((err) => {
          if (!(err instanceof KubeError && err.code === 404)) throw err;
        });
    }
  }
}
