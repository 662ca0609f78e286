import { TemplateErrors } from '../errors';
import { Json, JsonObject, clone, findKey, getProperty, isObject } from '../values';
import { DeploymentContext } from './context';
import { PlannedResource, TemplatePlan, isNestedDeploymentType } from './processor';

/** The parameter that carries a secure variable of the parent into an outer-scope nested template. */
export const SECURE_VARIABLE_PREFIX = 'secureVariable__';

/** `properties.expressionEvaluationOptions.scope` of a nested deployment. */
export type NestedScope = 'inner' | 'outer';

/**
 * A nested `Microsoft.Resources/deployments` resource (a Bicep module), as the resource group deployment it becomes:
 * its group, and the request body (`properties.mode/template/parameters`) to PUT there.
 */
export interface NestedDeployment {
  resourceId: string;
  name: string;
  resourceGroup: string;
  scope: NestedScope;
  mode: 'Incremental' | 'Complete';
  template: JsonObject;
  /** `{ name: { value } }`. With `outer` scope: the parent's parameters, which may hold secure values. */
  parameters: JsonObject;
}

/** Escapes a value so that the template language reads it back literally (`[x]` → `[[x]`). */
function literal(value: Json): Json {
  if (typeof value === 'string') return value.startsWith('[') ? `[${value}` : value;
  if (Array.isArray(value)) return value.map(literal);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, literal(v)]));
  return value;
}

const nonEmpty = (value: Json | undefined): boolean => value !== undefined && value !== null && !(isObject(value) && Object.keys(value).length === 0);

/**
 * The group deployment a nested deployment resource stands for. `body` is the resource's evaluated body (the plan's,
 * or the one resolveResource() gives at deploy time); `properties.template` in it is still raw.
 * - `inner`: the nested template has its own parameters and variables; `properties.parameters` (evaluated in the
 *   parent) supplies the values.
 * - `outer` (ARM's default): the nested template's expressions see the parent's parameters and variables. The
 *   template is rewritten so the group deployment evaluates it the same way: the parent's parameters are passed
 *   with their declared types, the parent's (already evaluated) variables are inlined as literals.
 * The group is the `resourceGroup` property, or else (in a template deployed at resource group scope) the
 * deployment's own group, as in ARM.
 * Throws InvalidTemplate for what is not supported (templateLink, a nested deployment at subscription scope without
 * `resourceGroup`) and, at resource group scope, for a nested deployment in Complete mode (ARM: only the root
 * template may use it).
 */
export function nestedDeployment(plan: TemplatePlan, resource: PlannedResource, body: JsonObject = resource.body): NestedDeployment {
  const fail = (detail: string, target = resource.id) => TemplateErrors.inSection('resource', resource.name, detail, target);
  if (!isNestedDeploymentType(resource.type)) throw new Error(`'${resource.id}' is not a nested deployment.`);
  const resourceGroup = resource.resourceGroup ?? plan.context.resourceGroup?.name;
  if (resourceGroup === undefined) {
    throw fail(
      "a nested deployment at subscription scope must name its target with the 'resourceGroup' property: nested deployments at subscription scope itself are not supported by this service.",
    );
  }
  const properties = getProperty(body, 'properties');
  if (!isObject(properties)) throw fail("the nested deployment needs a 'properties' object.");
  if (findKey(properties, 'templateLink') !== undefined || findKey(properties, 'parametersLink') !== undefined) {
    throw fail("linked templates ('templateLink', 'parametersLink') are not supported by this service: put the template inline in 'properties.template'.");
  }
  const template = getProperty(properties, 'template');
  if (!isObject(template)) throw fail("the nested deployment needs an inline template object in 'properties.template'.");
  const rawMode = getProperty(properties, 'mode') ?? 'Incremental';
  const mode = typeof rawMode === 'string' ? (['Incremental', 'Complete'] as const).find((m) => m.toLowerCase() === rawMode.toLowerCase()) : undefined;
  if (mode === undefined) throw fail(`the deployment mode '${String(rawMode)}' is not valid. Allowed values are 'Incremental' and 'Complete'.`);
  if (mode === 'Complete' && plan.context.resourceGroup !== undefined) {
    throw fail(
      "the nested deployment's mode is 'Complete': for nested templates of a template deployed at resource group scope only 'Incremental' is allowed. Deploy the main template in 'Complete' mode: the resources of its nested deployments into the same group count as part of it.",
    );
  }
  const options = getProperty(properties, 'expressionEvaluationOptions');
  const rawScope = isObject(options) ? (getProperty(options, 'scope') ?? 'outer') : 'outer';
  const scope = typeof rawScope === 'string' ? (['inner', 'outer'] as const).find((s) => s === rawScope.toLowerCase()) : undefined;
  if (scope === undefined) throw fail(`the expression evaluation scope '${String(rawScope)}' is not valid. Allowed values are 'inner' and 'outer'.`);
  const supplied = getProperty(properties, 'parameters');
  const base = { resourceId: resource.id, name: resource.name, resourceGroup, scope, mode };
  if (scope === 'inner') {
    if (supplied !== undefined && supplied !== null && !isObject(supplied)) throw fail("the nested deployment's 'properties.parameters' must be an object.");
    return { ...base, template: clone(template), parameters: clone((supplied ?? {}) as JsonObject) };
  }
  if (nonEmpty(supplied)) {
    throw fail(
      "'properties.parameters' is only used with the 'inner' expression evaluation scope: with 'outer' scope the nested template uses the parent's parameters.",
    );
  }
  for (const section of ['parameters', 'variables']) {
    if (nonEmpty(getProperty(template, section))) {
      throw fail(
        `the nested template declares '${section}', which are only used with the 'inner' expression evaluation scope. Set 'expressionEvaluationOptions.scope' to 'inner', or use the parent's ${section}.`,
      );
    }
  }
  const rewritten: JsonObject = { ...clone(template) };
  const parameterDefinitions: JsonObject = {};
  const values: JsonObject = {};
  for (const [name, p] of Object.entries(plan.parameters)) {
    parameterDefinitions[name] = { type: p.type };
    values[name] = { value: clone(p.value) };
  }
  for (const section of ['parameters', 'variables']) {
    const key = findKey(rewritten, section);
    if (key !== undefined) delete rewritten[key];
  }
  // A variable made from a secure value must not become plaintext in the nested template (it is stored and exported):
  // it travels as a secureObject parameter, and the variable reads it back.
  const secureVariables = new Set((plan.secureVariables ?? []).map((n) => n.toLowerCase()));
  const variables: JsonObject = {};
  for (const [name, value] of Object.entries(plan.variables)) {
    if (!secureVariables.has(name.toLowerCase())) {
      variables[name] = literal(value);
      continue;
    }
    const carrier = `${SECURE_VARIABLE_PREFIX}${name}`;
    parameterDefinitions[carrier] = { type: 'secureObject' };
    values[carrier] = { value: { value: clone(value) } };
    variables[name] = `[parameters('${carrier}').value]`;
  }
  rewritten['parameters'] = parameterDefinitions;
  rewritten['variables'] = variables;
  return { ...base, template: rewritten, parameters: values };
}

/** The group deployment's PUT / what-if body. */
export const nestedDeploymentRequest = (n: NestedDeployment): JsonObject => ({
  properties: { mode: n.mode, template: n.template, parameters: n.parameters },
});

/** The context of a nested deployment into `group` (the parent's subscription, tenant and environment). */
export function nestedContext(
  parent: DeploymentContext,
  n: Pick<NestedDeployment, 'name'>,
  group: NonNullable<DeploymentContext['resourceGroup']>,
): DeploymentContext {
  const { location: _location, resourceGroup: _group, templateLink: _link, ...shared } = parent;
  return { ...shared, resourceGroup: group, deploymentName: n.name };
}

/**
 * The resource types an inline nested template declares, those of its own inline nested templates included, read
 * from the raw template (nothing is evaluated). Validation of the parent checks them: a type no provider serves is
 * refused before anything is deployed, wherever in the nesting it is declared.
 */
export function declaredNestedTypes(resource: Pick<PlannedResource, 'type' | 'body'>): string[] {
  const out: string[] = [];
  const fromTemplate = (template: Json | undefined): void => {
    const resources = isObject(template) ? getProperty(template, 'resources') : undefined;
    // Language version 2.0 keys them by symbolic name; an `existing` one is only read, not deployed.
    const list = Array.isArray(resources) ? resources : isObject(resources) ? Object.values(resources) : [];
    for (const r of list) {
      if (isObject(r) && getProperty(r, 'existing') === true) continue;
      const type = isObject(r) ? getProperty(r, 'type') : undefined;
      if (typeof type !== 'string' || type.startsWith('[')) continue;
      out.push(type);
      if (isNestedDeploymentType(type)) fromBody(r as JsonObject);
    }
  };
  const fromBody = (body: JsonObject): void => {
    const properties = getProperty(body, 'properties');
    if (isObject(properties)) fromTemplate(getProperty(properties, 'template'));
  };
  if (isNestedDeploymentType(resource.type)) fromBody(resource.body);
  return out;
}
