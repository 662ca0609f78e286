import { addUsage, formatUsage, matchingQuotaResources, objectUsage, podCountsForCompute, quotaCovers, type Usage } from '@cerulean/kube';
import type { Informer } from '../client/informer';
import { isConflict, isNotFound, type KubeClient, type KubeObject } from '../client/kube-client';
import { collectionPath, discoverResources, type ApiResource } from './api-resources';
import { keyOf, splitKey, type Controller, type ControllerContext } from './controller';
import { WorkQueue } from './work-queue';

export interface ResourceQuotaControllerOptions {
  /** How often each quota is counted again (upstream's --resource-quota-sync-period is 5 min; replenishment aside). */
  resyncMs?: number;
}

/** How long after a deleted pod's grace period its quotas are counted again (it no longer counts then). */
const PAST_GRACE_MARGIN_MS = 1_000;

interface ResourceQuota extends KubeObject {
  metadata: KubeObject['metadata'] & { namespace: string };
  spec?: { hard?: Record<string, string>; scopes?: string[]; scopeSelector?: unknown };
  status?: { hard?: Record<string, string>; used?: Record<string, string> };
}

/**
 * Upstream's resource quota controller: keeps each ResourceQuota's status (`hard` from the spec, `used` counted from
 * what the namespace holds: pods by scope, services, object counts). Admission charges creates as they happen; this
 * counts everything again when a quota changes, when a pod finishes or goes, when a service goes, and every resync
 * period, so deletes and failed creates give their share back.
 */
export class ResourceQuotaController implements Controller {
  readonly name = 'resourcequota';
  private readonly quotas: Informer<ResourceQuota>;
  private readonly pods: Informer<KubeObject>;
  private readonly services: Informer<KubeObject>;
  private readonly claims: Informer<KubeObject>;
  private readonly queue: WorkQueue;
  private readonly client: KubeClient;
  private readonly resyncMs: number;
  private discovery: { at: number; resources: ApiResource[] } | undefined;

  constructor(ctx: ControllerContext, options: ResourceQuotaControllerOptions = {}) {
    this.client = ctx.client;
    this.resyncMs = options.resyncMs ?? 30_000;
    this.queue = new WorkQueue((key) => this.sync(key), { onError: (key, err) => ctx.log?.('resource quota sync failed', { key, error: String(err) }) });
    this.quotas = ctx.informers.informer<ResourceQuota>('/api/v1/resourcequotas', {
      upsert: (q, previous) => {
        // Status writes (ours, admission's charges) need no count; a new quota or a changed spec does.
        if (!previous || JSON.stringify(previous.spec) !== JSON.stringify(q.spec) || JSON.stringify(q.status?.hard) !== JSON.stringify(q.spec?.hard))
          this.queue.add(keyOf(q));
      },
    });
    const replenish = (obj: KubeObject, afterMs = 0) => {
      for (const q of this.quotas.listNamespace(obj.metadata.namespace ?? '')) this.queue.addAfter(keyOf(q), afterMs);
    };
    this.pods = ctx.informers.informer<KubeObject>('/api/v1/pods', {
      upsert: (pod, previous) => {
        if (previous && podCountsForCompute(previous) && !podCountsForCompute(pod)) return replenish(pod);
        // Being deleted: it stops counting once past its grace period, with no event to say so (a lost node's pod).
        const { deletionTimestamp, deletionGracePeriodSeconds } = pod.metadata as { deletionTimestamp?: string; deletionGracePeriodSeconds?: number };
        if (
          deletionTimestamp &&
          typeof deletionGracePeriodSeconds === 'number' &&
          !(previous?.metadata as { deletionTimestamp?: string } | undefined)?.deletionTimestamp
        )
          replenish(pod, Math.max(0, Date.parse(deletionTimestamp) + deletionGracePeriodSeconds * 1000 - Date.now()) + PAST_GRACE_MARGIN_MS);
      },
      deleted: replenish,
    });
    this.services = ctx.informers.informer<KubeObject>('/api/v1/services', {
      upsert: (svc, previous) => {
        if (previous && JSON.stringify(previous.spec) !== JSON.stringify(svc.spec)) replenish(svc);
      },
      deleted: replenish,
    });
    // A claim that goes or grows changes storage usage (its count is listed afresh by count()).
    this.claims = ctx.informers.informer<KubeObject>('/api/v1/persistentvolumeclaims', {
      upsert: (claim, previous) => {
        if (previous && JSON.stringify(previous.spec) !== JSON.stringify(claim.spec)) replenish(claim);
      },
      deleted: replenish,
    });
  }

  start(): void {
    this.queue.start();
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const quota = this.quotas.get(namespace, name);
    if (!quota || !namespace) return;
    if (!this.pods.synced || !this.services.synced) return this.queue.addAfter(key, 500);
    try {
      await this.count(quota, namespace);
    } finally {
      this.queue.addAfter(key, this.resyncMs);
    }
  }

  private async count(quota: ResourceQuota, namespace: string): Promise<void> {
    const hard = quota.spec?.hard ?? {};
    const names = Object.keys(hard);
    const used: Usage = new Map();
    const tally = (group: string, plural: string, objects: KubeObject[]) => {
      for (const obj of objects) {
        if (!quotaCovers(quota, group, plural, obj)) continue;
        for (const [k, u] of objectUsage(group, plural, obj)) if (k in hard) addUsage(used, k, u.milli, u.binary);
      }
    };
    tally('', 'pods', this.pods.listNamespace(namespace));
    tally('', 'services', this.services.listNamespace(namespace));
    // Everything else from a list of its resource: `configmaps`, `count/secrets`, `count/deployments.apps`, ...
    const inMemory = new Set([...matchingQuotaResources('', 'pods', names), ...matchingQuotaResources('', 'services', names)]);
    const listed = new Set<string>();
    // Claims' names do not spell their resource (`requests.storage`, `<class>.storageclass.storage.k8s.io/requests.storage`).
    const claimNames = new Set(matchingQuotaResources('', 'persistentvolumeclaims', names));
    for (const k of names.filter((n) => !inMemory.has(n))) {
      const [plural, ...rest] = claimNames.has(k) ? ['persistentvolumeclaims'] : (k.startsWith('count/') ? k.slice('count/'.length) : k).split('.');
      const group = rest.join('.');
      if (listed.has(`${group}/${plural}`) || (!k.startsWith('count/') && !matchingQuotaResources(group, plural, [k]).length)) continue;
      listed.add(`${group}/${plural}`);
      const resource = await this.resource(group, plural);
      if (!resource) continue;
      try {
        tally(resource.group, resource.resource, (await this.client.list<KubeObject>(collectionPath(resource, namespace))).items);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    const status = { hard, used: Object.fromEntries(names.map((k) => [k, formatUsage(used.get(k))])) };
    if (JSON.stringify(status) === JSON.stringify({ hard: quota.status?.hard, used: quota.status?.used })) return;
    try {
      await this.client.update(`/api/v1/namespaces/${namespace}/resourcequotas/${quota.metadata.name}/status`, { ...quota, status });
    } catch (err) {
      // Charged by admission meanwhile (or changed): count again from the new version.
      if (isConflict(err)) return this.queue.addAfter(keyOf(quota), 100);
      if (!isNotFound(err)) throw err;
    }
  }

  /** A served resource by group and plural, from discovery (looked up again at most once a minute when missing). */
  private async resource(group: string, plural: string): Promise<ApiResource | undefined> {
    const find = () => this.discovery?.resources.find((r) => r.group === group && r.resource === plural && r.namespaced);
    if (!find() && (!this.discovery || Date.now() - this.discovery.at > 60_000)) {
      this.discovery = { at: Date.now(), resources: (await discoverResources(this.client)).resources };
    }
    return find();
  }
}
