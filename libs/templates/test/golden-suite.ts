import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Json, JsonObject } from '../src/values';

/**
 * The golden template suite: every template under `golden/` with what it covers and what it must give. Shared by
 * the pure unit suite (libs/templates/test/golden-suite.spec.ts) and the platform suite
 * (apps/api/test/golden-templates.e2e-spec.ts), so each expectation is written once.
 */

export const GOLDEN_DIR = join(__dirname, 'golden');

export const goldenTemplate = (file: string): JsonObject => JSON.parse(readFileSync(join(GOLDEN_DIR, file), 'utf8')) as JsonObject;

/** The `parameters` member of `<name>.parameters.json` (what az puts in `properties.parameters`), or {}. */
export function goldenParameters(file: string): JsonObject {
  const name = file.replace(/\.json$/, '.parameters.json');
  if (!readdirSync(GOLDEN_DIR).includes(name)) return {};
  const doc = JSON.parse(readFileSync(join(GOLDEN_DIR, name), 'utf8')) as JsonObject;
  return doc['parameters'] as JsonObject;
}

/** Where the template is deployed: the values the deployment functions must answer. */
export interface GoldenWhere {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  deploymentName: string;
  /** uniqueString() of the resource group id (the function itself is checked against Azure's values). */
  uniqueString: (parts: string[]) => string;
  guid: (parts: string[]) => string;
}

/** A what-if delta leaf: a property that changes (array elements flattened to their leaves). */
export interface DeltaLeaf {
  path: string;
  propertyChangeType: string;
  before?: Json;
  after?: Json;
}

export interface GoldenDeployable {
  file: string;
  covers: string;
  kind: 'deployable';
  /** The cluster names the template creates (for cleanup checks and Delete expectations). */
  clusters: string[];
  /** Agent pool count per cluster after the deployment (nodes: 1 per pool). */
  pools: Record<string, string[]>;
  /** One parameter changed: the Modify it must give (resource name suffix -> delta leaves). */
  change: { parameters: JsonObject; modify: Record<string, DeltaLeaf[]> };
  /** Complete mode with resources removed (by a template rewrite or a parameter) -> these clusters Delete. */
  complete: { template?: (t: JsonObject) => JsonObject; parameters?: JsonObject; deletes: string[] };
  /** Outputs that do not depend on the deployed resources' runtime values; others are checked in the e2e suite. */
  outputs?: JsonObject;
  /** Needs list*() wired into the platform's template host. */
  needsListFunctions?: boolean;
}

export interface GoldenFunctions {
  file: string;
  covers: string;
  kind: 'functions';
  /** Every output's exact value (display types as ARM returns them). */
  outputs: (where: GoldenWhere) => JsonObject;
}

export interface GoldenError {
  file: string;
  covers: string;
  kind: 'error';
  code: string;
  message: string;
  /** 'template': the template library rejects it; 'platform': only the platform knows (hosted resource types). */
  stage: 'template' | 'platform';
}

export type GoldenCase = GoldenDeployable | GoldenFunctions | GoldenError;

const out = (type: string, value: Json): JsonObject => ({ type, value });
const CLUSTERS = 'Microsoft.ContainerService/managedClusters';

/** Drops the resources whose name expression contains `marker`, and the dependsOn entries that point at them. */
export function withoutResources(template: JsonObject, marker: string): JsonObject {
  const copy = JSON.parse(JSON.stringify(template)) as JsonObject;
  const resources = (copy['resources'] as JsonObject[]).filter((r) => !String(r['name']).includes(marker));
  for (const r of resources) {
    if (Array.isArray(r['dependsOn'])) r['dependsOn'] = (r['dependsOn'] as string[]).filter((d) => !d.includes(marker));
  }
  copy['resources'] = resources;
  copy['outputs'] = {};
  return copy;
}

export const GOLDEN_SUITE: GoldenCase[] = [
  {
    file: 'params-all-types.json',
    kind: 'deployable',
    covers:
      'parameters of every type (string, securestring, int, bool, object, secureObject, array) with defaultValue, allowedValues, minValue/maxValue, minLength/maxLength; a default from another parameter; secure output',
    clusters: ['gparams'],
    pools: { gparams: ['system'] },
    change: {
      parameters: { tags: { value: { env: 'prod', owner: 'golden' } } },
      modify: { gparams: [{ path: 'tags.env', propertyChangeType: 'Modify', before: 'dev', after: 'prod' }] },
    },
    complete: { template: (t) => withoutResources(t, "parameters('clusterName')"), deletes: ['gparams'] },
    outputs: {
      clusterName: out('String', 'gparams'),
      nodeCount: out('Int', 1),
      enableRbac: out('Bool', true),
      tags: out('Object', { env: 'dev', owner: 'golden' }),
      zones: out('Array', ['1']),
      passwordLength: out('Int', 18),
      password: { type: 'SecureString' },
      sshUser: out('String', 'azureuser'),
    },
  },
  {
    file: 'variables-copy-pools.json',
    kind: 'deployable',
    covers: 'variables (plain, object, copy variables, property copy inside a variable object); a property copy loop over agentPoolProfiles',
    clusters: ['gvars'],
    pools: { gvars: ['np1', 'np2'] },
    change: {
      parameters: { color: { value: 'green' } },
      modify: {
        gvars: [
          { path: 'nodeLabels.color', propertyChangeType: 'Modify', before: 'blue', after: 'green' },
          { path: 'nodeLabels.color', propertyChangeType: 'Modify', before: 'blue', after: 'green' },
        ],
      },
    },
    complete: { template: (t) => withoutResources(t, "parameters('clusterName')"), deletes: ['gvars'] },
    outputs: {
      poolNames: out('Array', ['np1', 'np2']),
      modes: out('Array', ['System', 'User']),
      labels: out('Object', { team: 'cerulean', color: 'blue' }),
    },
  },
  {
    file: 'copy-clusters.json',
    kind: 'deployable',
    covers: 'a copy loop over resources (two clusters, copyIndex(1) in names), string(copyIndex()) in tags, an output copy loop with reference()',
    clusters: ['gcopy1', 'gcopy2'],
    pools: { gcopy1: ['system'], gcopy2: ['system'] },
    change: {
      parameters: { owner: { value: 'team-b' } },
      modify: {
        gcopy1: [{ path: 'tags.owner', propertyChangeType: 'Modify', before: 'team-a', after: 'team-b' }],
        gcopy2: [{ path: 'tags.owner', propertyChangeType: 'Modify', before: 'team-a', after: 'team-b' }],
      },
    },
    complete: { parameters: { clusterCount: { value: 1 } }, deletes: ['gcopy2'] },
    outputs: { names: out('Array', ['gcopy1', 'gcopy2']), states: out('Array', ['Succeeded', 'Succeeded']) },
  },
  {
    file: 'conditions.json',
    kind: 'deployable',
    covers: 'condition on a nested child pool (false) and on a top-level pool (true, and()/not()); if() in tags, properties and outputs; a conditional output',
    clusters: ['gcond'],
    pools: { gcond: ['system', 'batch'] },
    change: {
      parameters: { environment: { value: 'prod' } },
      modify: {
        gcond: [
          { path: 'tags.tier', propertyChangeType: 'Modify', before: 'bronze', after: 'gold' },
          { path: 'vmSize', propertyChangeType: 'Modify', before: 'Standard_DS2_v2', after: 'Standard_D2s_v3' },
        ],
      },
    },
    complete: { template: (t) => withoutResources(t, "parameters('clusterName')"), deletes: ['gcond'] },
    outputs: { tier: out('String', 'bronze'), pools: out('Array', ['system', 'batch']) },
  },
  {
    file: 'nested-pool.json',
    kind: 'deployable',
    covers: 'a nested agentPools child resource (short type, implicit dependency on its parent) with labels and a format()ted taint; reference() of the pool',
    clusters: ['gnest'],
    pools: { gnest: ['system', 'user'] },
    change: {
      parameters: { taintEffect: { value: 'PreferNoSchedule' } },
      modify: { 'gnest/user': [{ path: '0', propertyChangeType: 'Modify', before: 'dedicated=user:NoSchedule', after: 'dedicated=user:PreferNoSchedule' }] },
    },
    complete: { template: (t) => ({ ...t, resources: [], outputs: {} }), deletes: ['gnest'] },
    outputs: { userPoolCount: out('Int', 1) },
  },
  {
    file: 'dependson-chain.json',
    kind: 'deployable',
    covers: 'a dependsOn chain: cluster A -> top-level agentPools (dependsOn by resourceId) -> cluster B (dependsOn by name); reference() by id and by name',
    clusters: ['gchaina', 'gchainb'],
    pools: { gchaina: ['system', 'user'], gchainb: ['system'] },
    change: {
      parameters: { userPoolLabel: { value: 'v2' } },
      modify: { 'gchaina/user': [{ path: 'properties.nodeLabels.release', propertyChangeType: 'Modify', before: 'v1', after: 'v2' }] },
    },
    complete: { template: (t) => withoutResources(t, "parameters('clusterB')"), deletes: ['gchainb'] },
  },
  {
    file: 'outputs-reference.json',
    kind: 'deployable',
    covers: "outputs through reference(): by name, by id with an apiVersion, 'Full' (location, id), a copy loop over the live pools, currentKubernetesVersion",
    clusters: ['gref'],
    pools: { gref: ['system'] },
    change: {
      parameters: { kubernetesVersion: { value: '1.32' } },
      modify: { gref: [{ path: 'properties.kubernetesVersion', propertyChangeType: 'Modify', before: '1.33', after: '1.32' }] },
    },
    complete: { template: (t) => ({ ...t, resources: [], outputs: {} }), deletes: ['gref'] },
  },
  {
    file: 'outputs-credentials.json',
    kind: 'deployable',
    covers: 'outputs through listClusterAdminCredential() and listClusterUserCredential(); a secure output from list*()',
    clusters: ['gcreds'],
    pools: { gcreds: ['system'] },
    change: {
      parameters: { environment: { value: 'test' } },
      modify: { gcreds: [{ path: 'tags.environment', propertyChangeType: 'Modify', before: 'dev', after: 'test' }] },
    },
    complete: { template: (t) => ({ ...t, resources: [], outputs: {} }), deletes: ['gcreds'] },
    needsListFunctions: true,
  },
  {
    file: 'functions-string.json',
    kind: 'functions',
    covers:
      'string functions: concat, format (N0, D4, alignment, P0), toLower, toUpper, substring, replace, split, uniqueString, guid, base64, base64ToString, startsWith, endsWith, trim, padLeft, string, indexOf, lastIndexOf, first, last, length; [[ escaping and quote doubling',
    outputs: () => ({
      concat: out('String', 'prefix-abc5'),
      // ARM docs (template-functions-string#format).
      format: out('String', 'Hello, User. Formatted number: 8,175,133'),
      // .NET invariant culture: D4 pads, {1,5}/{1,-5} align, P0 prints '50 %'.
      formatPadded: out('String', '0042|   ab|ab   |50 %'),
      toLower: out('String', 'one two three'),
      toUpper: out('String', 'ONE TWO THREE'),
      substring: out('String', 'two'),
      replace: out('String', '1231231234'),
      split: out('Array', ['one', 'two', 'three']),
      // Azure-produced values (sources in src/functions/hashing.spec.ts).
      uniqueStringTest: out('String', 'rbgf3xv4ufgzg'),
      uniqueStringTwo: out('String', 'a7wkljktk6wne'),
      uniqueStringAzapi: out('String', 'cwvxuqg24sifi'),
      uniqueStringThree: out('String', 'lghi7k5js7itq'),
      // UUID v5 in ARM's namespace (cross-checked with Python's uuid.uuid5 in hashing.spec.ts). guid('test') also
      // matches an independent reimplementation (github.com/cloud-maker-ai/terraform-provider-arm2tf, guid resource
      // tests); no Azure-published multi-argument pair was found (arm2tf joins arguments without '-', ARM's docs say '-').
      guidAbc: out('String', 'a98fa280-e03f-5afa-8d8e-92d0a9c201e8'),
      guidTest: out('String', 'd6a5baf1-8b9b-542a-8525-2982f1f98a0c'),
      base64: out('String', 'b25lLCB0d28sIHRocmVl'),
      base64ToString: out('String', 'one, two, three'),
      startsWith: out('Array', [true, true, false]),
      endsWith: out('Array', [true, true, false]),
      trim: out('String', 'one two three'),
      padLeft: out('String', '0000000123'),
      string: out('Array', ['{"valueA":10,"valueB":["a","b"]}', '["a","b","c"]', '5', 'True']),
      escaped: out('String', '[not an expression]'),
      quote: out('String', "it's ok"),
      indexOf: out('Array', [2, -1, 0]),
      firstLastText: out('Array', ['O', 'e', 13]),
    }),
  },
  {
    file: 'functions-collections.json',
    kind: 'functions',
    covers:
      'array and object functions: createArray, createObject, union (objects, arrays, deep), intersection, contains, length, first, last, empty, json, range, coalesce, tryGet, if, skip, take, objectKeys, items, join; property and index access',
    outputs: () => ({
      createArray: out('Array', [1, 'two', { three: 3 }, [4]]),
      createObject: out('Object', { intProp: 1, stringProp: 'abc', boolProp: true, arrayProp: ['a', 'b', 'c'], objectProp: { key1: 'value1' } }),
      unionObjects: out('Object', { one: 'a', two: 'b', three: 'c2', four: 'd', five: 'e' }),
      unionArrays: out('Array', ['one', 'two', 'three', 'four']),
      unionDeep: out('Object', { a: { x: 1, y: 3, z: 4 }, list: [3] }),
      intersectionObjects: out('Object', { one: 'a', three: 'c' }),
      intersectionArrays: out('Array', ['two', 'three']),
      contains: out('Array', [true, false, true, true, false]),
      length: out('Array', [3, 13, 3]),
      first: out('String', 'one'),
      last: out('String', 'three'),
      empty: out('Array', [true, true, true, false, true]),
      json: out('Object', { a: 'b', n: [1, true, null] }),
      jsonScalars: out('Array', [1, true, 'text']),
      range: out('Array', [5, 6, 7]),
      coalesce: out('Array', ['default', 1, 'none']),
      if: out('Array', ['yes', 'no', { k: 'v' }]),
      skipTake: out('Array', [['two', 'three'], ['one', 'two'], 'abc', 'ef']),
      objectKeys: out('Array', ['three', 'four', 'five']),
      items: out('Array', [
        { key: 'a', value: 1 },
        { key: 'b', value: 2 },
      ]),
      join: out('String', 'one;two;three'),
      indexPath: out('Int', 2),
    }),
  },
  {
    file: 'functions-logic-numeric.json',
    kind: 'functions',
    covers:
      'logical and comparison (and, or, not, bool, equals, greater, greaterOrEquals, less, lessOrEquals, true, false) and numeric functions (add, sub, mul, div, mod, min, max, int, float, range); nested calls',
    outputs: () => ({
      and: out('Array', [true, false]),
      or: out('Array', [true, false]),
      not: out('Bool', true),
      bool: out('Array', [true, false, true, false]),
      equals: out('Array', [true, false, true, true]),
      // ARM docs (template-functions-comparison): greater('A', 'a') is True and less('A', 'a') is False.
      greater: out('Array', [true, true, true]),
      less: out('Array', [false, false, true]),
      add: out('Int', 10),
      sub: out('Int', 4),
      mul: out('Int', 21),
      div: out('Int', 2),
      divNegative: out('Int', -3),
      mod: out('Int', 1),
      modNegative: out('Int', -1),
      min: out('Array', [0, 0]),
      max: out('Array', [3, 3]),
      int: out('Array', [4, -12]),
      range: out('Array', [1, 2, 3]),
      float: out('String', '2.5'),
      nestedCalls: out('String', 'C7'),
    }),
  },
  {
    file: 'functions-deployment.json',
    kind: 'functions',
    covers:
      'deployment functions (parameters with a resourceGroup() default, variables, deployment, resourceGroup, subscription, environment) and resource ids (resourceId with 1-2 names and another group, subscriptionResourceId)',
    outputs: (w) => {
      const sub = `/subscriptions/${w.subscriptionId}`;
      const rg = `${sub}/resourceGroups/${w.resourceGroup}`;
      return {
        parameters: out('String', w.uniqueString([rg])),
        variables: out('String', `${rg}/providers/${CLUSTERS}/c1`),
        deploymentName: out('String', w.deploymentName),
        deploymentContentVersion: out('String', '1.0.0.0'),
        resourceGroupName: out('String', w.resourceGroup),
        resourceGroupId: out('String', rg),
        resourceGroupLocation: out('String', w.location),
        subscriptionId: out('String', w.subscriptionId),
        subscriptionPath: out('String', sub),
        environmentName: out('String', 'AzureCloud'),
        poolId: out('String', `${rg}/providers/${CLUSTERS}/c1/agentPools/p1`),
        crossGroupId: out('String', `${sub}/resourceGroups/other-rg/providers/${CLUSTERS}/c2`),
        subscriptionResourceId: out('String', `${sub}/providers/Microsoft.Resources/resourceGroups/${w.resourceGroup}`),
        uniquePerGroup: out('String', w.uniqueString([rg])),
        guidPerGroup: out('String', w.guid([rg, w.deploymentName])),
      };
    },
  },
  {
    file: 'error-cycle.json',
    kind: 'error',
    covers: 'a dependency cycle over three resources (by name, by resourceId, by type/name)',
    code: 'InvalidTemplate',
    message: 'Circular dependency detected on resource',
    stage: 'template',
  },
  {
    file: 'error-bad-expression.json',
    kind: 'error',
    covers: 'an expression that does not parse (missing closing parenthesis)',
    code: 'InvalidTemplate',
    message: "expected token 'RightParenthesis' and actual 'EndOfData'",
    stage: 'template',
  },
  {
    file: 'error-unknown-function.json',
    kind: 'error',
    covers: 'a call to a function ARM does not have',
    code: 'InvalidTemplate',
    message: "The template function 'toTitleCase' is not found",
    stage: 'template',
  },
  {
    file: 'error-unsupported-type.json',
    kind: 'error',
    covers: 'a valid template with a resource type the platform does not host, next to a cluster',
    code: 'NoRegisteredProviderFound',
    message: "No registered resource provider found for resource type 'storageAccounts' in namespace 'Microsoft.Storage'",
    stage: 'platform',
  },
  {
    file: 'error-parameter-constraint.json',
    kind: 'error',
    covers: 'a parameters file giving a value above maxValue',
    code: 'InvalidTemplate',
    message: "The provided value for the template parameter 'nodeCount' is not valid. The value should be less than or equal to '3'.",
    stage: 'template',
  },
  {
    file: 'error-missing-reference.json',
    kind: 'error',
    covers: 'dependsOn a resource the template does not define',
    code: 'InvalidTemplate',
    message: "The resource 'Microsoft.ContainerService/managedClusters/ghost' is not defined in the template.",
    stage: 'template',
  },
];
