import { ExpressionError, ExpressionMessages, TemplateErrors } from '../errors';
import { Deferred, DeployTimeCall, Value, evaluateCount, evaluateJson, evaluateString, isDeferred, isEvaluatorFunction } from '../expression/evaluator';
import { walkCalls } from '../expression/parser';
import { parseBounded } from '../expression/evaluator';
import { EvaluationBudget, TemplateLimits, countLimitExceeded, exceedsDepth, sizeOf } from '../limits';
import { BUILTIN_FUNCTIONS } from '../functions';
import {
  isPlatformResourceId,
  isValidType,
  parseResourceGroupResourceId,
  referenceTarget,
  resourceGroupResourceId,
  subscriptionLevelResourceId,
} from '../resource-ids';
import { Json, JsonObject, clone, findKey, getProperty, isInteger, isObject, typeOf } from '../values';
import { DeploymentContext, isSubscriptionScope, ProcessOptions, TemplateHost } from './context';
import { buildDependencyGraph } from './dependencies';
import { ParameterResolver, PlanParameter, normalizeSuppliedParameters, templateType } from './parameters';
import { Loop, Scope, loopHooks, makeEvalContext } from './scope';

/** One resource instance to deploy (a copy loop yields one per index). */
export interface PlannedResource {
  id: string;
  /** Full type (`Microsoft.ContainerService/managedClusters/agentPools`). */
  type: string;
  /** Full name (`cluster/pool`). */
  name: string;
  apiVersion: string;
  /** False when `condition` evaluated to false: the resource is not deployed. */
  condition: boolean;
  copy?: { name: string; index: number };
  /**
   * The resource's other properties (location, tags, sku, identity, properties...), evaluated. Expressions that
   * need deploy-time values (`reference()`, `list*()`) are left as their raw strings; see `deferred`.
   */
  body: JsonObject;
  /** Paths inside `body` that still hold deploy-time expressions; resolve with `resolveResource()`. */
  deferred: string[];
  /** Effective dependencies: ids of active resources this one waits for. */
  dependsOn: string[];
  /** Where the resource comes from, so the deploy phase can re-evaluate it (plain data, storable). */
  source: { path: number[]; loops: Loop[] };
  /** A nested deployment's target resource group (its `resourceGroup` property). */
  resourceGroup?: string;
  /** Language version 2.0: the resource's symbolic name (its key in `resources`), which reference() and dependsOn use. */
  symbolicName?: string;
}

/** The validated, expanded deployment: everything the lead needs to deploy, store and answer what-if. */
export interface TemplatePlan {
  template: JsonObject;
  context: DeploymentContext;
  parameters: Record<string, PlanParameter>;
  variables: JsonObject;
  resources: PlannedResource[];
  /** Active resource ids in deploy order: resources in one wave can be deployed in parallel. */
  waves: string[][];
  outputs: string[];
  /** Variables whose values were made from secure values (they are treated as secure, too). */
  secureVariables?: string[];
}

/** Where a language version 2.0 resource keeps its symbolic name once `resources` is read as an array. */
const SYMBOLIC_NAME = '$symbolicName';
const TEMPLATE_MEMBERS = [
  '$schema',
  'contentVersion',
  'apiProfile',
  'parameters',
  'variables',
  'functions',
  'resources',
  'outputs',
  'metadata',
  'languageVersion',
  'definitions',
];
const NOT_IN_BODY = new Set([
  'type',
  'name',
  'apiversion',
  'copy',
  'condition',
  'dependson',
  'resources',
  'comments',
  'resourcegroup',
  'subscriptionid',
  SYMBOLIC_NAME.toLowerCase(),
]);
const RG_SCHEMA = /\/deploymentTemplate\.json#?$/i;
const SUBSCRIPTION_SCHEMA = /\/subscriptionDeploymentTemplate\.json#?$/i;
const DEPLOYMENTS_TYPE = 'microsoft.resources/deployments';
const RESOURCE_GROUPS_TYPE = 'microsoft.resources/resourcegroups';
/** Members of a nested deployment's `properties` that belong to the nested template, not to the parent. */
const NESTED_RAW = new Set(['template', 'expressionevaluationoptions']);

export const isNestedDeploymentType = (type: string): boolean => type.toLowerCase() === DEPLOYMENTS_TYPE;
export const isResourceGroupType = (type: string): boolean => type.toLowerCase() === RESOURCE_GROUPS_TYPE;
const CONTENT_VERSION = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;

/**
 * Validates a template with its parameters and expands it into a plan (phase one: everything but
 * `reference()`/`list*()` is evaluated). Throws ArmError (InvalidTemplate, InvalidRequestContent) with ARM's messages.
 */
export function processTemplate(template: Json, parameters: Json | undefined, context: DeploymentContext, options: ProcessOptions = {}): TemplatePlan {
  if (exceedsDepth(template) || exceedsDepth(parameters)) {
    throw TemplateErrors.invalidRequestContent(`The template or its parameters are nested deeper than the limit of '${TemplateLimits.depth}' levels.`);
  }
  const root = checkShape(template, context);
  const supplied = normalizeSuppliedParameters(parameters);
  checkCounts(root);

  let resolver: ParameterResolver | undefined;
  let variables: VariableResolver | undefined;
  const scope: Scope = {
    context,
    template: root,
    options,
    parameter: (name) => (resolver as ParameterResolver).get(name).value,
    variable: (name) => (variables as VariableResolver).get(name),
    isSecure: (kind, name) => (kind === 'parameter' ? (resolver as ParameterResolver).get(name).secure : (variables as VariableResolver).isSecure(name)),
    budget: new EvaluationBudget(TemplateLimits.work, options.deadline),
  };
  resolver = new ParameterResolver(scope, objectMember(root, 'parameters'), supplied);
  const planParameters: Record<string, PlanParameter> = {};
  for (const name of resolver.names()) planParameters[name] = resolver.get(name);

  variables = new VariableResolver(scope, objectMember(root, 'variables'));
  const planVariables = variables.all();

  const instances = expandResources(scope, arrayMember(root, 'resources'));
  const graphInput = resolveDependencies(instances, context);
  const graph = buildDependencyGraph(graphInput);

  const outputs = objectMember(root, 'outputs');
  for (const [name, def] of Object.entries(outputs)) checkOutputDefinition(name, def);
  checkExpandedSize(planParameters, planVariables, instances);

  return {
    secureVariables: variables.secureNames(),
    template: root,
    context,
    parameters: planParameters,
    variables: planVariables,
    resources: instances.map((i) => {
      const planned: PlannedResource = {
        id: i.id,
        type: i.type,
        name: i.name,
        apiVersion: i.apiVersion,
        condition: i.condition,
        body: i.body,
        deferred: i.deferred,
        dependsOn: graph.dependsOn.get(i.id.toLowerCase()) ?? [],
        source: { path: i.path, loops: i.loops },
      };
      if (i.resourceGroup !== undefined) planned.resourceGroup = i.resourceGroup;
      if (i.symbolicName !== undefined) planned.symbolicName = i.symbolicName;
      if (i.copy !== undefined) planned.copy = { name: i.copy.name, index: i.copy.index };
      return planned;
    }),
    waves: graph.waves,
    outputs: Object.keys(outputs),
  };
}

function checkShape(template: Json, context: DeploymentContext): JsonObject {
  if (!isObject(template)) throw TemplateErrors.invalidRequestContent('The template must be a JSON object.', 'template');
  for (const key of Object.keys(template)) {
    if (!TEMPLATE_MEMBERS.some((m) => m.toLowerCase() === key.toLowerCase())) {
      throw TemplateErrors.invalidRequestContent(`Could not find member '${key}' on object of type 'Template'. Path '${key}'.`, key);
    }
  }
  for (const required of ['$schema', 'contentVersion', 'resources']) {
    if (findKey(template, required) === undefined) {
      throw TemplateErrors.invalidRequestContent(`Required property '${required}' not found in JSON. Path ''.`, required);
    }
  }
  const schema = getProperty(template, '$schema');
  const atSubscription = isSubscriptionScope(context);
  if (typeof schema !== 'string' || !(atSubscription ? SUBSCRIPTION_SCHEMA : RG_SCHEMA).test(schema)) {
    throw TemplateErrors.validationFailed(
      atSubscription
        ? `The template schema '${String(schema)}' is not supported for a deployment at subscription scope. Use 'https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#'.`
        : `The template schema '${String(schema)}' is not supported. Only resource group deployment templates ('https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#') are supported at resource group scope.`,
      '$schema',
    );
  }
  const contentVersion = getProperty(template, 'contentVersion');
  if (typeof contentVersion !== 'string' || !CONTENT_VERSION.test(contentVersion)) {
    throw TemplateErrors.validationFailed(
      `The template content version '${String(contentVersion)}' is not valid. The content version must be four numbers separated by dots, for example '1.0.0.0'.`,
      'contentVersion',
    );
  }
  const languageKey = findKey(template, 'languageVersion');
  if (languageKey !== undefined) {
    if (template[languageKey] !== '2.0') {
      throw TemplateErrors.validationFailed(
        `The template language version '${String(template[languageKey])}' is not supported. Supported versions are '2.0' (and the original language, without 'languageVersion').`,
        'languageVersion',
      );
    }
    return symbolicResources(template);
  }
  const functions = getProperty(template, 'functions');
  if (functions !== undefined && !(Array.isArray(functions) && functions.length === 0)) {
    throw TemplateErrors.validationFailed('User-defined template functions are not supported by this service.', 'functions');
  }
  return template;
}

/**
 * Language version 2.0 declares `resources` as an object keyed by symbolic name. The plan reads them as the original
 * language's array, in declaration order, each carrying its symbolic name (reference() and dependsOn may use it).
 * `existing` resources are left out (they are read, not deployed). Parameters may be typed by `definitions` (parameters.ts).
 */
function symbolicResources(template: JsonObject): JsonObject {
  const resources = getProperty(template, 'resources');
  if (Array.isArray(resources)) return template;
  if (!isObject(resources)) throw TemplateErrors.invalidRequestContent("The template property 'resources' must be an object or an array.", 'resources');
  const existing = new Set<string>();
  for (const [symbolicName, raw] of Object.entries(resources)) {
    if (!isObject(raw)) throw TemplateErrors.validationFailed(`The template resource '${symbolicName}' must be a JSON object.`, `resources.${symbolicName}`);
    const flag = getProperty(raw, 'existing');
    if (flag !== undefined && flag !== false) {
      if (flag !== true) throw TemplateErrors.inSection('resource', symbolicName, "the 'existing' property must be a boolean.", `resources.${symbolicName}`);
      existing.add(symbolicName.toLowerCase());
    }
  }
  const list: Json[] = [];
  for (const [symbolicName, raw] of Object.entries(resources) as [string, JsonObject][]) {
    // An existing resource is only read, never deployed: it is not part of the plan, and waiting for it is a no-op.
    if (existing.has(symbolicName.toLowerCase())) continue;
    if (findKey(raw, 'resources') !== undefined) {
      throw TemplateErrors.inSection(
        'resource',
        symbolicName,
        "a language version 2.0 resource cannot declare child 'resources'.",
        `resources.${symbolicName}`,
      );
    }
    const entry: JsonObject = { ...raw, [SYMBOLIC_NAME]: symbolicName };
    const dependsKey = findKey(raw, 'dependsOn');
    const dependsOn = dependsKey === undefined ? undefined : raw[dependsKey];
    if (dependsKey !== undefined && Array.isArray(dependsOn)) {
      entry[dependsKey] = dependsOn.filter((d) => !(typeof d === 'string' && existing.has(d.toLowerCase())));
    }
    list.push(entry);
  }
  return { ...template, resources: list };
}

/** ARM's counts: parameters, variables (a `copy` variable entry is one variable each) and outputs. */
function checkCounts(root: JsonObject): void {
  const count = (name: string) => {
    const value = getProperty(root, name);
    return isObject(value) ? Object.keys(value).length : 0;
  };
  const parameters = count('parameters');
  if (parameters > TemplateLimits.parameters) throw countLimitExceeded('parameters', TemplateLimits.parameters, parameters);
  const rawVariables = getProperty(root, 'variables');
  let variables = 0;
  if (isObject(rawVariables)) {
    for (const [name, value] of Object.entries(rawVariables)) variables += name.toLowerCase() === 'copy' && Array.isArray(value) ? value.length : 1;
  }
  if (variables > TemplateLimits.variables) throw countLimitExceeded('variables', TemplateLimits.variables, variables);
  const outputs = count('outputs');
  if (outputs > TemplateLimits.outputs) throw countLimitExceeded('outputs', TemplateLimits.outputs, outputs);
}

/**
 * ARM's size limits apply to the template after expansion (loops, variables and parameter values resolved): 4 MB in
 * all and 1 MB per resource. The wording is ours (ARM reports these as job size errors); the code is InvalidTemplate.
 */
function checkExpandedSize(parameters: Record<string, PlanParameter>, variables: JsonObject, instances: Instance[]): void {
  const mb = (bytes: number) => `${bytes / (1024 * 1024)} MB`;
  let total = 0;
  const add = (value: Json, limit: number, what: () => string) => {
    let size: number;
    try {
      size = sizeOf(value, limit);
    } catch {
      throw TemplateErrors.validationFailed(
        `${what()} exceeds the size limit of ${mb(limit)} after expansion. Please see https://aka.ms/arm-template-best-practices for usage details.`,
      );
    }
    total += size;
    if (total > TemplateLimits.expandedTemplateBytes) {
      throw TemplateErrors.validationFailed(
        `The template exceeds the size limit of ${mb(TemplateLimits.expandedTemplateBytes)} after expansion (copy loops, variables and parameter values resolved). Please see https://aka.ms/arm-template-best-practices for usage details.`,
      );
    }
  };
  for (const p of Object.values(parameters)) add(p.value, TemplateLimits.expandedTemplateBytes, () => 'A template parameter value');
  add(variables, TemplateLimits.expandedTemplateBytes, () => 'The template variables');
  for (const i of instances) add(i.body, TemplateLimits.resourceBytes, () => `The template resource '${i.name}'`);
}

function objectMember(root: JsonObject, name: string): JsonObject {
  const value = getProperty(root, name);
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw TemplateErrors.invalidRequestContent(`The template property '${name}' must be an object.`, name);
  return value;
}

function arrayMember(root: JsonObject, name: string): Json[] {
  const value = getProperty(root, name);
  if (!Array.isArray(value)) throw TemplateErrors.invalidRequestContent(`The template property '${name}' must be an array.`, name);
  return value;
}

/** Variables are evaluated lazily (they may use each other) and all of them are checked. */
class VariableResolver {
  private readonly definitions = new Map<string, { name: string; value: Json; copy?: { count: Json; input: Json } }>();
  private readonly resolved = new Map<string, Json>();
  private readonly secure = new Set<string>();
  private readonly inProgress: string[] = [];

  constructor(
    private readonly scope: Scope,
    definitions: JsonObject,
  ) {
    for (const [name, value] of Object.entries(definitions)) {
      if (name.toLowerCase() === 'copy' && Array.isArray(value)) {
        for (const [i, entry] of value.entries()) {
          const loopName = isObject(entry) ? entry['name'] : undefined;
          if (!isObject(entry) || typeof loopName !== 'string' || entry['input'] === undefined) {
            throw TemplateErrors.inSection('variable', `copy[${i}]`, "a variable copy needs a 'name', a 'count' and an 'input'.");
          }
          this.definitions.set(loopName.toLowerCase(), {
            name: loopName,
            value: null,
            copy: { count: entry['count'] ?? null, input: entry['input'] as Json },
          });
        }
        continue;
      }
      this.definitions.set(name.toLowerCase(), { name, value });
    }
  }

  all(): JsonObject {
    const out: JsonObject = {};
    for (const d of this.definitions.values()) out[d.name] = this.get(d.name);
    return out;
  }

  /** Whether the variable's value was made from a secure value (evaluates it if needed). */
  isSecure(name: string): boolean {
    this.get(name);
    return this.secure.has(name.toLowerCase());
  }

  secureNames(): string[] {
    return [...this.definitions.values()].filter((d) => this.secure.has(d.name.toLowerCase())).map((d) => d.name);
  }

  get(name: string): Json {
    const lower = name.toLowerCase();
    const cached = this.resolved.get(lower);
    if (cached !== undefined) return cached;
    const def = this.definitions.get(lower);
    if (def === undefined) throw new ExpressionError(ExpressionMessages.variableNotFound(name));
    if (this.inProgress.includes(lower)) {
      const chain = [...this.inProgress, lower].map((k) => (this.definitions.get(k) as { name: string }).name);
      throw TemplateErrors.inSection(
        'variable',
        def.name,
        `Circular reference detected: the variable is used by its own value through '${chain.join(' -> ')}'.`,
        `variables.${def.name}`,
      );
    }
    this.inProgress.push(lower);
    try {
      const loops: Loop[] = [];
      const ctx = makeEvalContext(this.scope, 'variable', loops);
      const hooks = loopHooks(loops, () => null);
      let value: Json;
      if (def.copy !== undefined) {
        const copy = def.copy;
        const count = evaluateCount(copy.count, ctx, BUILTIN_FUNCTIONS, def.name);
        value = Array.from({ length: count }, (_, n) =>
          hooks.withLoop(def.name, n, () => evaluateJson(copy.input, ctx, BUILTIN_FUNCTIONS, hooks, `${def.name}[${n}]`)),
        );
      } else {
        value = evaluateJson(def.value, ctx, BUILTIN_FUNCTIONS, hooks, def.name);
      }
      if (ctx.taint.touched) this.secure.add(lower);
      this.resolved.set(lower, value);
      return value;
    } catch (err) {
      if (err instanceof ExpressionError) throw TemplateErrors.inSection('variable', def.name, err.message, `variables.${def.name}`);
      throw err;
    } finally {
      this.inProgress.pop();
    }
  }
}

interface Instance {
  path: number[];
  label: string;
  loops: Loop[];
  type: string;
  name: string;
  apiVersion: string;
  id: string;
  condition: boolean;
  copy?: { name: string; index: number; serial: boolean; batchSize: number; group: string };
  parentId?: string;
  resourceGroup?: string;
  symbolicName?: string;
  dependsOn: string[];
  body: JsonObject;
  deferred: string[];
  calls: DeployTimeCall[];
}

const labelOf = (path: number[]) => `resources[${path.join('].resources[')}]`;

/** Past the limit, resources are only counted (to report ARM's 'actual'), up to this many. */
const RESOURCES_COUNTED_AT_MOST = 100_000;

function expandResources(scope: Scope, list: Json[]): Instance[] {
  const out: Instance[] = [];
  let total = 0;
  const expand = (items: Json[], prefix: number[], parent: Instance | undefined, countLoops?: Loop[]) => {
    items.forEach((raw, i) => {
      const path = [...prefix, i];
      const label = labelOf(path);
      if (!isObject(raw)) throw TemplateErrors.validationFailed(`The template resource at '${label}' must be a JSON object.`, label);
      const parentLoops = countLoops ?? parent?.loops ?? [];
      const copy = getProperty(raw, 'copy');
      const add = (loops: Loop[], copyInfo: Instance['copy'] | undefined) => {
        total += 1;
        if (total > TemplateLimits.resources) {
          // Over the limit: count the rest without evaluating it, so the error says how many there are.
          if (total >= RESOURCES_COUNTED_AT_MOST) throw countLimitExceeded('resources', TemplateLimits.resources, `${total}+`);
          const children = getProperty(raw, 'resources');
          if (Array.isArray(children)) expand(children, path, undefined, loops);
          return;
        }
        const { self, children } = instance(scope, raw, path, loops, parent, copyInfo);
        out.push(self);
        if (children !== undefined) expand(children, path, self);
      };
      if (copy === undefined) {
        add(parentLoops, undefined);
        return;
      }
      const loop = readResourceCopy(scope, raw, copy, label, parentLoops);
      for (let n = 0; n < loop.count; n++) {
        const loops = [...parentLoops, { name: loop.name, index: n, resource: true }];
        add(loops, { ...loop, index: n, group: `${path.join('.')}|${JSON.stringify(parentLoops)}` });
      }
    });
  };
  expand(list, [], undefined);
  if (total > TemplateLimits.resources) throw countLimitExceeded('resources', TemplateLimits.resources, total);
  return out;
}

function readResourceCopy(scope: Scope, raw: JsonObject, copy: Json, label: string, loops: Loop[]) {
  const display = typeof raw['name'] === 'string' ? raw['name'] : label;
  const fail = (detail: string) => TemplateErrors.inSection('resource', display, detail, `${label}.copy`);
  if (!isObject(copy)) throw fail("the 'copy' property must be an object.");
  const name = getProperty(copy, 'name');
  if (typeof name !== 'string' || name === '') throw fail("the copy loop needs a non-empty 'name'.");
  const ctx = makeEvalContext(scope, 'resourceIdentity', [...loops]);
  let count: number;
  let batchSize = 1;
  try {
    count = evaluateCount(getProperty(copy, 'count') ?? null, ctx, BUILTIN_FUNCTIONS, name);
    const rawBatch = getProperty(copy, 'batchSize');
    if (rawBatch !== undefined) {
      const batch = typeof rawBatch === 'string' ? evaluateString(rawBatch, ctx, BUILTIN_FUNCTIONS) : rawBatch;
      if (!isInteger(batch as Json) || (batch as number) < 1) throw new ExpressionError(`The copy 'batchSize' must be a positive integer.`);
      batchSize = batch as number;
    }
  } catch (err) {
    if (err instanceof ExpressionError) throw fail(err.message);
    throw err;
  }
  const mode = getProperty(copy, 'mode') ?? 'parallel';
  if (typeof mode !== 'string' || !['serial', 'parallel'].includes(mode.toLowerCase())) {
    throw fail(`the copy mode '${String(mode)}' is not valid. Allowed values are 'Serial' and 'Parallel'.`);
  }
  return { name, count, serial: mode.toLowerCase() === 'serial', batchSize };
}

function instance(
  scope: Scope,
  raw: JsonObject,
  path: number[],
  loops: Loop[],
  parent: Instance | undefined,
  copy: Instance['copy'] | undefined,
): { self: Instance; children: Json[] | undefined } {
  const label = labelOf(path);
  let display = typeof raw['name'] === 'string' ? raw['name'] : label;
  const fail = (detail: string, target = label) => TemplateErrors.inSection('resource', display, detail, target);
  const ctx = makeEvalContext(scope, 'resourceIdentity', [...loops]);
  const identity = (key: string): string => {
    const value = getProperty(raw, key);
    if (typeof value !== 'string') throw fail(`the required property '${key}' is missing or is not a string.`);
    const result = evaluateString(value, ctx, BUILTIN_FUNCTIONS);
    if (typeof result !== 'string') throw fail(`the property '${key}' must evaluate to a string, but it is of type '${typeOf(result as Json)}'.`);
    return result;
  };

  let type: string;
  let name: string;
  let apiVersion: string;
  let condition = parent?.condition ?? true;
  const dependsOn: string[] = [];
  let targetGroup: string | undefined;
  let targetSubscription: string | undefined;
  try {
    name = identity('name');
    display = name;
    type = identity('type');
    apiVersion = identity('apiVersion');
    if (findKey(raw, 'resourceGroup') !== undefined) targetGroup = identity(findKey(raw, 'resourceGroup') as string);
    if (findKey(raw, 'subscriptionId') !== undefined) targetSubscription = identity(findKey(raw, 'subscriptionId') as string);
    if (parent !== undefined) {
      const fullType = type.split('/')[0]?.includes('.') ? type : `${parent.type}/${type}`;
      if (name.split('/').length !== fullType.split('/').length - 1) name = `${parent.name}/${name}`;
      type = fullType;
    }
    const rawCondition = getProperty(raw, 'condition');
    if (rawCondition !== undefined) {
      const value = typeof rawCondition === 'string' ? evaluateString(rawCondition, ctx, BUILTIN_FUNCTIONS) : rawCondition;
      if (typeof value !== 'boolean') {
        throw new ExpressionError(`The condition must evaluate to a boolean, but it is of type '${typeOf(value as Json)}'.`);
      }
      condition = condition && value;
    }
    const rawDepends = getProperty(raw, 'dependsOn') ?? [];
    if (!Array.isArray(rawDepends)) throw new ExpressionError("The 'dependsOn' property must be an array of strings.");
    for (const entry of rawDepends) {
      const value = typeof entry === 'string' ? evaluateString(entry, ctx, BUILTIN_FUNCTIONS) : entry;
      if (typeof value !== 'string') throw new ExpressionError("The 'dependsOn' entries must evaluate to strings.");
      if (value !== '') dependsOn.push(value);
    }
  } catch (err) {
    if (err instanceof ExpressionError) throw fail(err.message);
    throw err;
  }

  if (!isValidType(type)) throw fail(`the resource type '${type}' is not a valid fully qualified type ('Namespace/type[/childType]').`);
  if (name.split('/').length !== type.split('/').length - 1) {
    throw TemplateErrors.validationFailed(
      `The template resource '${name}' for type '${type}' has incorrect segment lengths. A nested resource type must have identical number of segments as its resource name. A root resource type must have segment length one greater than its resource name. Please see https://aka.ms/arm-template/#resources for usage details.`,
      label,
    );
  }
  // ARM skips a resource whose condition is false entirely: what this service cannot deploy matters only if it runs.
  if (condition && findKey(raw, 'scope') !== undefined) {
    throw fail("the 'scope' property (extension resources and resources in other scopes) is not supported by this service.");
  }

  const { context } = scope;
  if (targetGroup !== undefined || targetSubscription !== undefined) {
    if (!isNestedDeploymentType(type)) {
      throw fail("the 'resourceGroup' and 'subscriptionId' properties are only supported on nested deployments ('Microsoft.Resources/deployments').");
    }
    if (targetSubscription !== undefined && targetSubscription.toLowerCase() !== context.subscriptionId.toLowerCase()) {
      throw fail(
        `deployments into another subscription ('${targetSubscription}') are not supported by this service: 'subscriptionId' must be the deployment's own subscription.`,
      );
    }
  }
  const self: Instance = {
    path,
    label,
    loops,
    type,
    name,
    apiVersion,
    id: templateResourceId(context, type, name, targetGroup),
    condition,
    dependsOn,
    body: {},
    deferred: [],
    calls: [],
  };
  if (copy !== undefined) self.copy = copy;
  if (parent !== undefined) self.parentId = parent.id;
  if (targetGroup !== undefined) self.resourceGroup = targetGroup;
  const symbolicName = getProperty(raw, SYMBOLIC_NAME);
  if (typeof symbolicName === 'string') self.symbolicName = symbolicName;
  const nested = isNestedDeploymentType(type);

  if (condition) {
    try {
      self.body = evaluateResourceBody(
        scope,
        raw,
        loops,
        nested,
        (call) => {
          self.calls.push(call);
          return Deferred.value;
        },
        (rawValue, bodyPath) => {
          self.deferred.push(bodyPath);
          return rawValue;
        },
      );
    } catch (err) {
      if (err instanceof ExpressionError) throw fail(err.message);
      throw err;
    }
  } else {
    // ARM does not evaluate a skipped resource, but a broken expression is still a template error.
    for (const [key, value] of Object.entries(raw)) {
      if (!NOT_IN_BODY.has(key.toLowerCase())) staticCheck(value, (msg) => fail(msg));
    }
  }

  const children = getProperty(raw, 'resources');
  if (children !== undefined && !Array.isArray(children)) throw fail("the nested 'resources' property must be an array.");
  return { self, children };
}

/** Evaluates everything but the identity of a resource. Re-entrant: the deploy phase calls it again. */
function evaluateResourceBody(
  scope: Scope,
  raw: JsonObject,
  loops: Loop[],
  nested: boolean,
  deployTime: (call: DeployTimeCall) => Value,
  onDeferred: (raw: string, path: string) => Json,
): JsonObject {
  const live = loops.map((l) => ({ ...l }));
  const ctx = makeEvalContext(scope, 'resourceBody', live, deployTime);
  const hooks = loopHooks(live, onDeferred);
  const report = scope.options.onSecureValue;
  if (report !== undefined) {
    hooks.onSecure = (value) => {
      report(value);
      return value;
    };
  }
  const body: JsonObject = {};
  for (const [key, value] of Object.entries(raw)) {
    if (NOT_IN_BODY.has(key.toLowerCase())) continue;
    if (nested && key.toLowerCase() === 'properties' && isObject(value)) {
      // A nested deployment's template is evaluated by that deployment (inner scope) or rewritten for it (outer).
      const properties: JsonObject = {};
      for (const [k, v] of Object.entries(value)) {
        properties[k] = NESTED_RAW.has(k.toLowerCase()) ? clone(v) : evaluateJson(v, ctx, BUILTIN_FUNCTIONS, hooks, `${key}.${k}`);
      }
      body[key] = properties;
      continue;
    }
    body[key] = evaluateJson(value, ctx, BUILTIN_FUNCTIONS, hooks, key);
  }
  return body;
}

/**
 * The id of a template resource: in the deployment's group; at subscription scope a resource group is
 * `/subscriptions/{s}/resourceGroups/{n}` and other types are subscription-level; a nested deployment with a
 * `resourceGroup` lives in that group.
 */
function templateResourceId(context: DeploymentContext, type: string, name: string, targetGroup: string | undefined): string {
  const group = targetGroup ?? context.resourceGroup?.name;
  if (group !== undefined) return resourceGroupResourceId(context.subscriptionId, group, type, [name]);
  if (isResourceGroupType(type)) return `/subscriptions/${context.subscriptionId}/resourceGroups/${name}`;
  return subscriptionLevelResourceId(context.subscriptionId, type, [name]);
}

/** Parses every expression in a JSON tree and checks its functions exist (for parts evaluated later or never). */
function staticCheck(value: Json, fail: (message: string) => Error): void {
  if (typeof value === 'string') {
    let parsed;
    try {
      parsed = parseBounded(value);
    } catch (err) {
      if (err instanceof ExpressionError) throw fail(err.message);
      throw err;
    }
    if (parsed.kind === 'expression') {
      walkCalls(parsed.ast, (call) => {
        const lower = call.name.toLowerCase();
        if (!BUILTIN_FUNCTIONS.has(lower) && !isEvaluatorFunction(lower)) {
          throw fail(ExpressionMessages.functionNotFound(call.name));
        }
      });
    }
    return;
  }
  if (Array.isArray(value)) value.forEach((v) => staticCheck(v, fail));
  else if (isObject(value)) Object.values(value).forEach((v) => staticCheck(v, fail));
}

function notDefined(reference: string): Error {
  const parsed = parseResourceGroupResourceId(reference);
  const shown = parsed === undefined ? reference : `${parsed.type}/${parsed.name}`;
  return TemplateErrors.validationFailed(`The resource '${shown}' is not defined in the template. Please see https://aka.ms/arm-syntax for usage details.`);
}

/** reference()/list*() read platform resources only: anything but a well-formed ARM resource id is refused. */
const invalidResourceId = (fn: string, id: string) =>
  `Unable to evaluate template language function '${fn}': the resource id '${id.length > 200 ? `${id.slice(0, 200)}...` : id}' is not valid. Expect a fully qualified resource id that starts with '/subscriptions/{subscriptionId}'. Please see https://aka.ms/arm-function-reference for usage details.`;

const unknownReference = (name: string) =>
  `The template reference '${name}' is not valid: could not find template resource or resource copy with this name. Please see https://aka.ms/arm-function-reference for usage details.`;

/** Lookup of template resources by id, full name, `type/name` and copy loop name (all case-insensitive). */
class ResourceIndex<T extends { id: string; type: string; name: string; symbolicName?: string; copy?: { name: string } }> {
  private readonly byId = new Map<string, T[]>();
  private readonly byName = new Map<string, T[]>();
  private readonly byLoop = new Map<string, T[]>();

  constructor(items: T[]) {
    const add = (map: Map<string, T[]>, key: string, item: T) => map.set(key, [...(map.get(key) ?? []), item]);
    for (const item of items) {
      add(this.byId, item.id.toLowerCase(), item);
      add(this.byName, item.name.toLowerCase(), item);
      add(this.byName, `${item.type}/${item.name}`.toLowerCase(), item);
      if (item.symbolicName !== undefined) add(this.byName, item.symbolicName.toLowerCase(), item);
      if (item.copy !== undefined) add(this.byLoop, item.copy.name.toLowerCase(), item);
    }
  }

  /**
   * By id; a `…/providers/{ns}/{type}/{name}` id that is not a template id (`resourceId('Microsoft.Resources/resourceGroups', n)`
   * at subscription scope, a nested deployment named without its group) falls back to the resource of that type and name.
   */
  id(id: string): T[] {
    const hits = this.byId.get(id.toLowerCase());
    if (hits !== undefined) return hits;
    const m = /^\/subscriptions\/[^/]+\/providers\/([^/]+\/[^/]+)\/([^/]+)$/i.exec(id);
    return m === null ? [] : (this.byName.get(`${m[1] as string}/${m[2] as string}`.toLowerCase()) ?? []);
  }

  /** A dependsOn entry: an id, a copy loop name, `type/name` or a resource name. */
  dependency(value: string): T[] | undefined {
    if (value.startsWith('/')) {
      const hits = this.id(value);
      return hits.length > 0 ? hits : undefined;
    }
    return this.byLoop.get(value.toLowerCase()) ?? this.byName.get(value.toLowerCase());
  }

  /** The first argument of reference()/list*(): an id (may be outside the template) or a template resource name. */
  target(value: string): T | undefined {
    return value.startsWith('/') ? this.id(value)[0] : this.byName.get(value.toLowerCase())?.[0];
  }
}

/**
 * A reference()/list*() target: the template resource it names, and the id the call reads (a template resource's,
 * or the full id of `Namespace/type/name` in the deployment's group, or the argument as written).
 */
function callTarget<T extends { id: string; type: string; name: string }>(
  index: ResourceIndex<T>,
  value: string,
  context: DeploymentContext,
): { hit: T | undefined; target: string } {
  const named = index.target(value);
  if (named !== undefined) return { hit: named, target: named.id };
  const target = referenceTarget(value, context.subscriptionId, context.resourceGroup?.name);
  return { hit: target === value ? undefined : index.target(target), target };
}

function resolveDependencies(instances: Instance[], context: DeploymentContext) {
  const seen = new Map<string, Instance>();
  for (const i of instances) {
    const existing = seen.get(i.id.toLowerCase());
    if (existing !== undefined) {
      throw TemplateErrors.validationFailed(
        `The resource '${i.type}/${i.name}' is defined multiple times in a template. Please see https://aka.ms/arm-template/#resources for usage details.`,
        i.label,
      );
    }
    seen.set(i.id.toLowerCase(), i);
  }
  const index = new ResourceIndex(instances);
  return instances.map((i) => {
    const deps = new Set<string>();
    if (i.parentId !== undefined) deps.add(i.parentId);
    for (const value of i.dependsOn) {
      const hits = index.dependency(value);
      if (hits === undefined) {
        if (value.startsWith('/') || (value.includes('/') && (value.split('/')[0] ?? '').includes('.'))) throw notDefined(value);
        throw TemplateErrors.validationFailed(unknownReference(value), `${i.label}.dependsOn`);
      }
      hits.forEach((h) => deps.add(h.id));
    }
    for (const call of i.calls) {
      const { hit, target } = callTarget(index, call.target, context);
      if (hit !== undefined) deps.add(hit.id);
      else if (!target.startsWith('/')) {
        throw TemplateErrors.inSection('resource', i.name, unknownReference(call.target), i.label);
      } else if (!isPlatformResourceId(target)) {
        throw TemplateErrors.inSection('resource', i.name, invalidResourceId(call.function, call.target), i.label);
      }
    }
    if (i.copy !== undefined && i.copy.serial) {
      const batch = Math.floor(i.copy.index / i.copy.batchSize);
      for (const other of instances) {
        if (other.copy?.group === i.copy.group && Math.floor(other.copy.index / i.copy.batchSize) === batch - 1) deps.add(other.id);
      }
    }
    return { id: i.id, active: i.condition, dependsOn: [...deps] };
  });
}

function checkOutputDefinition(name: string, def: Json): void {
  const fail = (detail: string) => TemplateErrors.inSection('output', name, detail, `outputs.${name}`);
  if (!isObject(def)) throw fail('the output definition must be an object.');
  const type = getProperty(def, 'type');
  if (typeof type !== 'string' || templateType(type) === undefined) {
    throw fail(`the output type '${String(type)}' is not valid. Allowed types are 'string, securestring, int, bool, object, secureObject, array'.`);
  }
  if (getProperty(def, 'value') === undefined && getProperty(def, 'copy') === undefined) {
    throw fail("the output needs a 'value' or a 'copy'.");
  }
  staticCheck(def, fail);
}

// ---------------------------------------------------------------------------------------------------------------
// Phase two: deploy time.

/** Thrown inside a synchronous evaluation when a deploy-time value is not fetched yet; the driver fetches and retries. */
class NeedsFetch extends Error {
  constructor(
    readonly key: string,
    readonly kind: 'reference' | 'list',
    readonly request: { resourceId: string; apiVersion?: string; full: boolean; inTemplate: boolean; action: string; body?: Json },
  ) {
    super('deploy-time value needed');
  }
}

function planScope(plan: TemplatePlan, options: ProcessOptions = {}): Scope {
  const secureVariables = new Set((plan.secureVariables ?? []).map((n) => n.toLowerCase()));
  return {
    context: plan.context,
    template: plan.template,
    options: {},
    budget: new EvaluationBudget(TemplateLimits.work, options.deadline),
    isSecure: (kind, name) => {
      if (kind === 'variable') return secureVariables.has(name.toLowerCase());
      const key = findKey(plan.parameters as unknown as JsonObject, name);
      return key !== undefined && (plan.parameters[key] as PlanParameter).secure;
    },
    parameter: (name) => {
      const key = findKey(plan.parameters as unknown as JsonObject, name);
      if (key === undefined) throw new ExpressionError(ExpressionMessages.parameterNotFound(name));
      return (plan.parameters[key] as PlanParameter).value;
    },
    variable: (name) => {
      const value = getProperty(plan.variables, name);
      if (value === undefined) throw new ExpressionError(ExpressionMessages.variableNotFound(name));
      return value;
    },
  };
}

/** Runs a synchronous evaluation, answering its reference()/list*() calls from the host (fetch, then retry). */
async function withHost<T>(plan: TemplatePlan, host: TemplateHost, run: (deployTime: (call: DeployTimeCall) => Value) => T): Promise<T> {
  const index = new ResourceIndex(plan.resources.filter((r) => r.condition));
  const all = new ResourceIndex(plan.resources);
  const cache = new Map<string, Json>();
  const deployTime = (call: DeployTimeCall): Value => {
    const { hit, target } = callTarget(index, call.target, plan.context);
    if (hit === undefined && !target.startsWith('/')) {
      const skipped = all.target(call.target);
      throw new ExpressionError(
        skipped === undefined ? unknownReference(call.target) : `The resource '${skipped.type}/${skipped.name}' is not deployed: its condition is false.`,
      );
    }
    // The host is asked about platform resource ids only: never a URL, a host or a port.
    if (hit === undefined && !isPlatformResourceId(target)) throw new ExpressionError(invalidResourceId(call.function, call.target));
    const resourceId = hit?.id ?? target;
    const isReference = call.function.toLowerCase() === 'reference';
    const request = {
      resourceId,
      full: call.full === true,
      inTemplate: hit !== undefined,
      action: call.function,
      ...(call.apiVersion !== undefined ? { apiVersion: call.apiVersion } : {}),
      ...(call.body !== undefined ? { body: call.body } : {}),
    };
    const key = JSON.stringify([
      isReference ? 'reference' : call.function.toLowerCase(),
      resourceId.toLowerCase(),
      request.apiVersion,
      request.full,
      request.body,
    ]);
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    throw new NeedsFetch(key, isReference ? 'reference' : 'list', request);
  };
  for (;;) {
    try {
      return run(deployTime);
    } catch (err) {
      if (!(err instanceof NeedsFetch)) throw err;
      const { resourceId, apiVersion, full, inTemplate, action, body } = err.request;
      const value =
        err.kind === 'reference'
          ? await host.reference({ resourceId, full, inTemplate, ...(apiVersion !== undefined ? { apiVersion } : {}) })
          : await host.list({ action, resourceId, ...(apiVersion !== undefined ? { apiVersion } : {}), ...(body !== undefined ? { body } : {}) });
      cache.set(err.key, value);
    }
  }
}

function locate(template: JsonObject, path: number[]): JsonObject {
  let list = getProperty(template, 'resources') as Json[];
  let node: Json = null;
  for (const [depth, i] of path.entries()) {
    node = list[i] as Json;
    if (depth < path.length - 1) list = getProperty(node as JsonObject, 'resources') as Json[];
  }
  return node as JsonObject;
}

/**
 * Phase two for one resource: its body with deploy-time expressions evaluated through the host. Call it when the
 * resource's dependencies are deployed. Returns a copy; resources without deploy-time expressions need no host call.
 */
export async function resolveResource(plan: TemplatePlan, resourceId: string, host: TemplateHost, options: ProcessOptions = {}): Promise<JsonObject> {
  const planned = plan.resources.find((r) => r.id.toLowerCase() === resourceId.toLowerCase());
  if (planned === undefined || !planned.condition) throw new Error(`Resource '${resourceId}' is not an active resource of this plan.`);
  if (planned.deferred.length === 0) return clone(planned.body);
  const raw = locate(plan.template, planned.source.path);
  const scope = planScope(plan, options);
  try {
    return await withHost(plan, host, (deployTime) =>
      evaluateResourceBody(scope, raw, planned.source.loops, isNestedDeploymentType(planned.type), deployTime, () => {
        throw new Error('A deploy-time expression was deferred at deploy time.');
      }),
    );
  } catch (err) {
    if (err instanceof ExpressionError) throw TemplateErrors.resourceExpressions(planned.id, err.message);
    throw err;
  }
}

/** An evaluated output as a deployment returns it. Secure outputs keep only their type. */
export interface OutputValue {
  type: string;
  value?: Json;
}

/** Evaluates the template's outputs after the deployment (reference() reads the live resources through the host). */
export async function evaluateOutputs(plan: TemplatePlan, host: TemplateHost, options: ProcessOptions = {}): Promise<Record<string, OutputValue>> {
  const outputs = objectMember(plan.template, 'outputs');
  const scope = planScope(plan, options);
  const result: Record<string, OutputValue> = {};
  const failed: string[] = [];
  const errors: ReturnType<typeof TemplateErrors.inSection>[] = [];
  for (const [name, def] of Object.entries(outputs)) {
    const definition = def as JsonObject;
    const type = templateType(getProperty(definition, 'type') as string) as NonNullable<ReturnType<typeof templateType>>;
    try {
      const value = await withHost(plan, host, (deployTime) => evaluateOutput(scope, definition, deployTime));
      if (value === undefined) continue;
      if (!type.accepts(value)) {
        throw new ExpressionError(
          `Template output JToken type is not valid. Expected '${type.expected}'. Actual '${typeOf(value)}'. Please see https://aka.ms/arm-template/#outputs for usage details.`,
        );
      }
      result[name] = type.secure ? { type: type.display } : { type: type.display, value };
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      failed.push(name);
      errors.push(TemplateErrors.inSection('output', name, err.message, `outputs.${name}`));
    }
  }
  if (failed.length > 0) throw TemplateErrors.outputsFailed(failed, errors);
  return result;
}

function evaluateOutput(scope: Scope, def: JsonObject, deployTime: (call: DeployTimeCall) => Value): Json | undefined {
  const loops: Loop[] = [];
  const ctx = makeEvalContext(scope, 'output', loops, deployTime);
  const hooks = loopHooks(loops, () => {
    throw new Error('A deploy-time expression was deferred at deploy time.');
  });
  const condition = getProperty(def, 'condition');
  if (condition !== undefined) {
    const value = typeof condition === 'string' ? evaluateString(condition, ctx, BUILTIN_FUNCTIONS) : condition;
    if (isDeferred(value) || typeof value !== 'boolean') throw new ExpressionError('The output condition must evaluate to a boolean.');
    if (!value) return undefined;
  }
  const copy = getProperty(def, 'copy');
  if (copy !== undefined) {
    if (!isObject(copy)) throw new ExpressionError("The output 'copy' must be an object with 'count' and 'input'.");
    const count = evaluateCount(getProperty(copy, 'count') ?? null, ctx, BUILTIN_FUNCTIONS, 'output');
    const input = getProperty(copy, 'input') ?? null;
    return Array.from({ length: count }, (_, n) => {
      loops.push({ name: '', index: n, resource: true });
      try {
        return evaluateJson(input, ctx, BUILTIN_FUNCTIONS, hooks, `copy[${n}]`);
      } finally {
        loops.pop();
      }
    });
  }
  return evaluateJson(getProperty(def, 'value') as Json, ctx, BUILTIN_FUNCTIONS, hooks, 'value');
}
