/**
 * The shape a stable AKS api-version gives a managed cluster and an agent pool, as the property tree of the newest
 * saved spec (data/aks-response-model.json, written by `node dist/libs/catalog/src/cli/response-model.js`), and the
 * projection of a stored resource onto it.
 *
 * AKS keeps one internal model and answers each api-version with that version's view of it: a property the
 * version does not define is not in its answer. A cluster created from an old template (`dockerBridgeCidr`, or
 * `storageProfile: ManagedDisks` on a pool, both gone from the current specs) keeps what it was sent, and a
 * current client reads it without those properties.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import data from '../data/aks-response-model.json';

/** Where the saved model comes from, under the Azure specs' `specification` folder. */
export const RESPONSE_MODEL_SPEC = 'containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-10-01/managedClusters.json';

/**
 * `1`: any value (an untyped object, or a leaf); `'arm-id'`: a leaf the caller sets to the id of another resource
 * (`format: arm-id`, not read-only); otherwise the properties, map values and array items a schema declares.
 */
export type ModelNode = 1 | typeof ARM_ID | { props?: Record<string, ModelNode>; values?: ModelNode; items?: ModelNode };

export const ARM_ID = 'arm-id';

export interface ResponseModel {
  spec: string;
  apiVersion: string;
  managedCluster: ModelNode;
  agentPool: ModelNode;
}

interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  readOnly?: boolean;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  allOf?: Schema[];
}

/**
 * The property tree of a definition of a swagger 2.0 document: `$ref`s followed across files (`load` reads one,
 * by absolute path), `allOf` merged. A reference met again inside itself (a recursive type) is left open.
 */
export function modelOf(load: (file: string) => { definitions?: Record<string, Schema> }, file: string, definition: string): ModelNode {
  const resolveRef = (ref: string, from: string): { file: string; name: string } => {
    const [path, pointer] = ref.split('#');
    const target = path ? new URL(path, `file://${from}`).pathname : from;
    const name = pointer.replace(/^\/definitions\//, '');
    return { file: target, name };
  };
  const visit = (schema: Schema, from: string, seen: readonly string[]): ModelNode => {
    if (schema.$ref) {
      const { file: target, name } = resolveRef(schema.$ref, from);
      const key = `${target}#${name}`;
      if (seen.includes(key)) return 1;
      const found = load(target).definitions?.[name];
      if (!found) throw new Error(`${target} has no definition ${name}`);
      return visit(found, target, [...seen, key]);
    }
    if (schema.type !== undefined && schema.type !== 'object' && schema.type !== 'array') return schema.format === ARM_ID && !schema.readOnly ? ARM_ID : 1;
    let props: Record<string, ModelNode> | undefined;
    let values: ModelNode | undefined;
    let items: ModelNode | undefined;
    for (const [name, sub] of Object.entries(schema.properties ?? {})) (props ??= {})[name] = visit(sub, from, seen);
    const more = schema.additionalProperties;
    if (more === true || (typeof more === 'object' && Object.keys(more).length === 0)) values = 1;
    else if (typeof more === 'object') values = visit(more, from, seen);
    if (schema.items) items = visit(schema.items, from, seen);
    for (const sub of schema.allOf ?? []) {
      const base = visit(sub, from, seen);
      if (typeof base !== 'object') return 1;
      if (base.props) props = { ...base.props, ...props };
      values ??= base.values;
      items ??= base.items;
    }
    if (!props && !values && !items) return 1;
    return { ...(props ? { props } : {}), ...(values ? { values } : {}), ...(items ? { items } : {}) };
  };
  return visit({ $ref: `#/definitions/${definition}` }, file, []);
}

/** The response model of the saved spec under `specsRoot` (the Azure specs' `specification` folder). */
export function buildResponseModel(specsRoot: string): ResponseModel {
  const cache = new Map<string, { definitions?: Record<string, Schema> }>();
  const load = (file: string) => {
    if (!cache.has(file)) cache.set(file, JSON.parse(readFileSync(file, 'utf8')) as { definitions?: Record<string, Schema> });
    return cache.get(file)!;
  };
  const file = join(specsRoot, RESPONSE_MODEL_SPEC);
  const apiVersion = /\/(\d{4}-\d{2}-\d{2})\//.exec(RESPONSE_MODEL_SPEC)![1];
  return {
    spec: RESPONSE_MODEL_SPEC,
    apiVersion,
    managedCluster: modelOf(load, file, 'ManagedCluster'),
    agentPool: modelOf(load, file, 'AgentPool'),
  };
}

/** `value` with every property the model does not declare left out, at any depth. */
export function projectToModel(value: unknown, node: ModelNode): unknown {
  if (typeof node !== 'object' || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return node.items ? value.map((v) => projectToModel(v, node.items!)) : value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const declared = node.props?.[key] ?? node.values;
    if (declared !== undefined) out[key] = projectToModel(v, declared);
  }
  return out;
}

/**
 * Every value of `value` where the model has a caller-set resource id (`'arm-id'`), with its path from `path`
 * (`properties.agentPoolProfiles[0].vnetSubnetID`, a map's key as a property: `properties.identityProfile.kubeletidentity.resourceId`).
 * Left-out and null values are not visited.
 */
export function armIdValues(value: unknown, node: ModelNode, path: string): { path: string; value: unknown }[] {
  if (value === undefined || value === null) return [];
  if (node === ARM_ID) return [{ path, value }];
  if (node === 1 || typeof value !== 'object') return [];
  if (Array.isArray(value)) return node.items ? value.flatMap((v, i) => armIdValues(v, node.items!, `${path}[${i}]`)) : [];
  return Object.entries(value).flatMap(([key, v]) => {
    const declared = node.props?.[key] ?? node.values;
    return declared === undefined ? [] : armIdValues(v, declared, path ? `${path}.${key}` : key);
  });
}

/** The saved model (newest stable AKS spec). */
export const AKS_RESPONSE_MODEL: ResponseModel = data as ResponseModel;

/** Whether an api-version's answer is the stable model's view (previews carry properties of their own). */
export const isStableApiVersion = (apiVersion: string | undefined): boolean => apiVersion !== undefined && !/-preview$/i.test(apiVersion);
