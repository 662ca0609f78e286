import { apiVersionOf, groupVersionOf } from '@cerulean/kube';
import type { KubeClient } from '../client/kube-client';

/** One served resource, as discovery describes it: enough to list, watch, get and delete its objects. */
export interface ApiResource {
  group: string;
  version: string;
  kind: string;
  /** Plural, as in the path (`deployments`). */
  resource: string;
  namespaced: boolean;
  verbs: string[];
}

interface APIResourceList {
  groupVersion: string;
  resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[];
}

interface APIGroupList {
  groups: { name: string; preferredVersion?: { groupVersion: string; version: string }; versions: { groupVersion: string; version: string }[] }[];
}

/** `/api/v1` or `/apis/apps/v1`. */
export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** The collection path of a resource, in one namespace or (namespace undefined) across all of them. */
export function collectionPath(r: ApiResource, namespace?: string): string {
  const base = groupVersionPath(apiVersionOf(r));
  return r.namespaced && namespace ? `${base}/namespaces/${namespace}/${r.resource}` : `${base}/${r.resource}`;
}

export function objectPath(r: ApiResource, namespace: string | undefined, name: string): string {
  return `${collectionPath(r, r.namespaced ? namespace : undefined)}/${encodeURIComponent(name)}`;
}

/** The resources of one group-version document, subresources (`pods/status`) left out. */
export function resourcesOf(list: APIResourceList): ApiResource[] {
  const [group, version] = list.groupVersion.includes('/') ? list.groupVersion.split('/') : ['', list.groupVersion];
  return list.resources
    .filter((r) => !r.name.includes('/'))
    .map((r) => ({ group, version, kind: r.kind, resource: r.name, namespaced: r.namespaced, verbs: r.verbs ?? [] }));
}

/**
 * Every resource the server serves, at each group's preferred version (as upstream's garbage collector and
 * namespace controller discover them). A group-version whose document fails is reported in `failed` and left out.
 */
export async function discoverResources(client: KubeClient): Promise<{ resources: ApiResource[]; failed: string[] }> {
  const core = await client.get<{ versions: string[] }>('/api');
  const groups = await client.get<APIGroupList>('/apis');
  const groupVersions = [
    ...core.versions.slice(0, 1),
    ...groups.groups.map((g) => g.preferredVersion?.groupVersion ?? g.versions[0]?.groupVersion).filter((gv): gv is string => !!gv),
  ];
  const failed: string[] = [];
  const lists = await Promise.all(
    groupVersions.map((gv) =>
      client.get<APIResourceList>(groupVersionPath(gv)).catch(() => {
        failed.push(gv);
        return undefined;
      }),
    ),
  );
  return { resources: lists.flatMap((l) => (l ? resourcesOf(l) : [])), failed };
}

/** Finds the resource of an `apiVersion` + `kind` (an owner reference's), any version of the group if need be. */
export class ResourceIndex {
  private readonly byGvk = new Map<string, ApiResource>();
  private readonly byGroupKind = new Map<string, ApiResource>();

  constructor(readonly resources: ApiResource[]) {
    for (const r of resources) {
      this.byGvk.set(`${apiVersionOf(r)}|${r.kind}`, r);
      this.byGroupKind.set(`${r.group}|${r.kind}`, r);
    }
  }

  find(apiVersion: string, kind: string): ApiResource | undefined {
    const exact = this.byGvk.get(`${apiVersion}|${kind}`);
    if (exact) return exact;
    // An owner written as apps/v1beta2 is the same object at apps/v1: names and uids do not depend on the version.
    const r = this.byGroupKind.get(`${groupVersionOf(apiVersion).group}|${kind}`);
    return r;
  }
}
