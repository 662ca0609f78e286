import { createHash } from 'node:crypto';
import { apiVersionOf, groupVersions, ResourceRegistry, ResourceType } from '@cerulean/kube';

/**
 * OpenAPI v3 (index and one document per group-version) and a v2 document. The paths carry
 * x-kubernetes-group-version-kind and the `fieldValidation` parameter on PATCH, which is how kubectl learns that the
 * server validates fields itself; component schemas are left open for now (kubectl explain needs the real ones).
 */
const gvPath = (gv: { group: string; version: string }) => (gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`);

function queryParams(names: string[]) {
  return names.map((name) => ({
    name,
    in: 'query',
    schema: { type: name === 'force' || name === 'watch' ? 'boolean' : name === 'limit' || name === 'timeoutSeconds' ? 'integer' : 'string' },
  }));
}

function pathsFor(rt: ResourceType): Record<string, unknown> {
  const base = `/${gvPath(rt)}${rt.namespaced ? '/namespaces/{namespace}' : ''}/${rt.plural}`;
  const gvk = { group: rt.group, version: rt.version, kind: rt.kind };
  const ref = { $ref: `#/components/schemas/${schemaName(rt)}` };
  const op = (action: string, params: string[], body = false) => ({
    operationId: `${action}${rt.kind}`,
    parameters: queryParams(params),
    ...(body ? { requestBody: { content: { 'application/json': { schema: ref } }, required: true } } : {}),
    responses: { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
  });
  const writeParams = ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'];
  const paths: Record<string, unknown> = {
    [base]: {
      get: op('list', [
        'labelSelector',
        'fieldSelector',
        'limit',
        'continue',
        'resourceVersion',
        'resourceVersionMatch',
        'watch',
        'timeoutSeconds',
        'allowWatchBookmarks',
      ]),
      ...(rt.verbs.includes('create') ? { post: op('post', writeParams, true) } : {}),
      ...(rt.verbs.includes('deletecollection')
        ? { delete: op('deletecollection', ['labelSelector', 'fieldSelector', 'dryRun', 'gracePeriodSeconds', 'propagationPolicy']) }
        : {}),
    },
  };
  if (rt.verbs.includes('get'))
    paths[`${base}/{name}`] = {
      get: op('get', ['pretty']),
      put: op('put', writeParams, true),
      patch: op('patch', [...writeParams, 'force'], true),
      delete: op('delete', ['dryRun', 'gracePeriodSeconds', 'propagationPolicy']),
    };
  for (const s of rt.subresources.filter((x) => x.name === 'status' || x.name === 'scale'))
    paths[`${base}/{name}/${s.name}`] = { get: op('get', ['pretty']), put: op('put', writeParams, true), patch: op('patch', [...writeParams, 'force'], true) };
  return paths;
}

const schemaName = (rt: ResourceType) => `io.k8s.api.${rt.group ? rt.group.split('.')[0] : 'core'}.${rt.version}.${rt.kind}`;

export function openApiV3Document(registry: ResourceRegistry, group: string, version: string, k8sVersion: string): unknown {
  const types = registry.types.filter((rt) => rt.group === group && rt.version === version);
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: `v${k8sVersion}` },
    paths: Object.assign({}, ...types.map(pathsFor)),
    components: {
      schemas: Object.fromEntries(
        types.map((rt) => [schemaName(rt), { type: 'object', description: `${rt.kind} (${apiVersionOf(rt)})`, 'x-kubernetes-preserve-unknown-fields': true }]),
      ),
    },
  };
}

export function openApiV3Index(registry: ResourceRegistry, k8sVersion: string): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of groupVersions(registry.types)) {
    const doc = JSON.stringify(openApiV3Document(registry, gv.group, gv.version, k8sVersion));
    const h = createHash('sha512').update(doc).digest('hex').slice(0, 64).toUpperCase();
    paths[gvPath(gv)] = { serverRelativeURL: `/openapi/v3/${gvPath(gv)}?hash=${h}` };
  }
  return { paths };
}

export function openApiV2(k8sVersion: string): unknown {
  return { swagger: '2.0', info: { title: 'Kubernetes', version: `v${k8sVersion}` }, paths: {}, definitions: {} };
}
