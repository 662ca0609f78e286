import { apiVersionOf, conversionFor, groupVersions, ResourceRegistry, ResourceType } from '@cerulean/kube';
import { createHash } from 'node:crypto';

/** Discovery documents: /api, /apis, per group-version resource lists, and aggregated discovery (v2, v2beta1). */
const hash = (s: string) => createHash('sha256').update(s).digest('base64').slice(0, 11);

function resourceEntries(rt: ResourceType): Record<string, unknown>[] {
  // Of the version objects are stored as, so every version of a resource has the same hash, as upstream's.
  const stored = conversionFor(rt)?.storage ?? rt;
  const main = {
    name: rt.plural,
    singularName: rt.singular,
    namespaced: rt.namespaced,
    kind: rt.kind,
    verbs: rt.verbs,
    ...(rt.shortNames ? { shortNames: rt.shortNames } : {}),
    ...(rt.categories ? { categories: rt.categories } : {}),
    storageVersionHash: hash(`${apiVersionOf(stored)}/${stored.kind}`),
  };
  const subs = rt.subresources.map((s) => ({
    name: `${rt.plural}/${s.name}`,
    singularName: '',
    namespaced: rt.namespaced,
    ...(s.group !== undefined ? { group: s.group, version: s.version } : {}),
    kind: s.kind,
    verbs: s.verbs,
  }));
  return [main, ...subs];
}

export function apiResourceList(registry: ResourceRegistry, group: string, version: string): unknown {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: registry.types.filter((rt) => rt.group === group && rt.version === version).flatMap(resourceEntries),
  };
}

export function apiVersions(serverAddress: string): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(registry: ResourceRegistry, group: string): Record<string, unknown> {
  const versions = groupVersions(registry.types)
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: `${group}/${gv.version}`, version: gv.version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

export function apiGroupList(registry: ResourceRegistry): unknown {
  const groups = [...new Set(registry.types.map((rt) => rt.group).filter(Boolean))];
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((g) => apiGroup(registry, g)) };
}

export function apiGroupDoc(registry: ResourceRegistry, group: string): unknown {
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(registry, group) };
}

/** `application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList` for /api (core) or /apis (the groups). */
export function aggregatedDiscovery(registry: ResourceRegistry, core: boolean, version: 'v2' | 'v2beta1'): unknown {
  const groups = [...new Set(registry.types.map((rt) => rt.group))].filter((g) => (core ? g === '' : g !== ''));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: g ? { name: g } : {},
      versions: groupVersions(registry.types)
        .filter((gv) => gv.group === g)
        .map((gv) => ({
          version: gv.version,
          resources: registry.types
            .filter((rt) => rt.group === g && rt.version === gv.version)
            .map((rt) => ({
              resource: rt.plural,
              responseKind: { group: rt.group, version: rt.version, kind: rt.kind },
              scope: rt.namespaced ? 'Namespaced' : 'Cluster',
              singularResource: rt.singular,
              verbs: rt.verbs,
              ...(rt.shortNames ? { shortNames: rt.shortNames } : {}),
              ...(rt.categories ? { categories: rt.categories } : {}),
              ...(rt.subresources.length
                ? {
                    subresources: rt.subresources.map((s) => ({
                      subresource: s.name,
                      responseKind: { group: s.group ?? rt.group, version: s.version ?? rt.version, kind: s.kind },
                      verbs: s.verbs,
                    })),
                  }
                : {}),
            })),
          freshness: 'Current',
        })),
    })),
  };
}

export const discoveryContentType = (version: 'v2' | 'v2beta1') => `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
