import { ExpressionError, ExpressionMessages, TemplateErrors } from '../errors';
import { evaluateJson } from '../expression/evaluator';
import { BUILTIN_FUNCTIONS } from '../functions';
import { Json, JsonObject, deepEquals, findKey, getProperty, isInteger, isObject, toDotnetString, typeOf } from '../values';
import { Scope, loopHooks, makeEvalContext } from './scope';

export interface ParameterType {
  /** How ARM shows the type in a deployment's `properties.parameters` (`String`, `SecureString`, `Int`...). */
  display: string;
  /** ARM's "Expected '...'" in a type mismatch. */
  expected: string;
  secure: boolean;
  accepts(value: Json): boolean;
}

const isString = (v: Json) => typeof v === 'string';
const PARAMETER_TYPES: Record<string, ParameterType> = {
  string: { display: 'String', expected: 'String, Uri', secure: false, accepts: isString },
  securestring: { display: 'SecureString', expected: 'String, Uri', secure: true, accepts: isString },
  int: { display: 'Int', expected: 'Integer', secure: false, accepts: isInteger },
  bool: { display: 'Bool', expected: 'Boolean', secure: false, accepts: (v) => typeof v === 'boolean' },
  object: { display: 'Object', expected: 'Object', secure: false, accepts: isObject },
  secureobject: { display: 'SecureObject', expected: 'Object', secure: true, accepts: isObject },
  array: { display: 'Array', expected: 'Array', secure: false, accepts: Array.isArray },
};

/** The parameter/output type named `raw` (case-insensitive), or undefined. */
export function templateType(raw: string): ParameterType | undefined {
  return PARAMETER_TYPES[raw.toLowerCase()];
}

/** A resolved template parameter. Secure values must never be echoed (see `deploymentParametersView`). */
export interface PlanParameter {
  type: string;
  value: Json;
  secure: boolean;
}

const SEE_PARAMETERS = 'Please see https://aka.ms/arm-create-parameter-file for usage details.';

/**
 * Accepts `{ "p": { "value": ... } }` (a deployment's properties.parameters) or a whole parameters file
 * (`{ "$schema", "contentVersion", "parameters": {...} }`). Returns the values by name.
 */
export function normalizeSuppliedParameters(input: Json | undefined): Map<string, { name: string; value: Json }> {
  const out = new Map<string, { name: string; value: Json }>();
  if (input === undefined || input === null) return out;
  if (!isObject(input)) throw TemplateErrors.invalidRequestContent('The deployment parameters must be a JSON object.', 'parameters');
  const entries = typeof input['$schema'] === 'string' && isObject(input['parameters']) ? input['parameters'] : input;
  for (const [name, entry] of Object.entries(entries)) {
    if (isObject(entry) && findKey(entry, 'reference') !== undefined && findKey(entry, 'value') === undefined) {
      throw TemplateErrors.validationFailed(
        `The template parameter '${name}' uses a Key Vault reference, which this service does not support. Pass the value instead.`,
        `parameters.${name}`,
      );
    }
    if (!isObject(entry) || findKey(entry, 'value') === undefined) {
      throw TemplateErrors.invalidRequestContent(`The parameter '${name}' must be an object with a 'value' property.`, `parameters.${name}`);
    }
    out.set(name.toLowerCase(), { name, value: entry[findKey(entry, 'value') as string] as Json });
  }
  return out;
}

/** Resolves parameter values lazily (defaults may use other parameters), checking types and constraints. */
export class ParameterResolver {
  private readonly definitions = new Map<string, { name: string; def: JsonObject; type: ParameterType }>();
  private readonly resolved = new Map<string, PlanParameter>();
  private readonly inProgress: string[] = [];

  constructor(
    private readonly scope: Scope,
    definitions: JsonObject,
    private readonly supplied: Map<string, { name: string; value: Json }>,
  ) {
    const types = getProperty(scope.template, 'definitions');
    for (const [name, declared] of Object.entries(definitions)) {
      if (!isObject(declared)) throw TemplateErrors.inSection('parameter', name, 'the parameter definition must be an object.');
      const def = withReferencedType(name, declared, isObject(types) ? types : {});
      const rawType = def[findKey(def, 'type') ?? 'type'];
      if (typeof rawType !== 'string') {
        throw TemplateErrors.inSection('parameter', name, "the required property 'type' is missing.", `parameters.${name}`);
      }
      const type = PARAMETER_TYPES[rawType.toLowerCase()];
      if (type === undefined) {
        throw TemplateErrors.inSection(
          'parameter',
          name,
          `the type '${rawType}' is not valid. Allowed types are 'string, securestring, int, bool, object, secureObject, array'.`,
          `parameters.${name}`,
        );
      }
      this.definitions.set(name.toLowerCase(), { name, def, type });
    }
    const unknown = [...supplied.values()].filter((s) => !this.definitions.has(s.name.toLowerCase())).map((s) => s.name);
    if (unknown.length > 0) {
      throw TemplateErrors.unknownParameters(
        unknown,
        [...this.definitions.values()].map((d) => d.name),
      );
    }
  }

  names(): string[] {
    return [...this.definitions.values()].map((d) => d.name);
  }

  get(name: string): PlanParameter {
    const lower = name.toLowerCase();
    const cached = this.resolved.get(lower);
    if (cached !== undefined) return cached;
    const definition = this.definitions.get(lower);
    if (definition === undefined) throw new ExpressionError(ExpressionMessages.parameterNotFound(name));
    if (this.inProgress.includes(lower)) {
      throw TemplateErrors.inSection(
        'parameter',
        definition.name,
        `the default value references itself: '${[...this.inProgress, lower].join(' -> ')}'.`,
        `parameters.${definition.name}`,
      );
    }
    this.inProgress.push(lower);
    try {
      const value = this.valueOf(definition.name, definition.def, definition.type);
      const parameter: PlanParameter = { type: definition.type.display, value, secure: definition.type.secure };
      this.resolved.set(lower, parameter);
      return parameter;
    } finally {
      this.inProgress.pop();
    }
  }

  private valueOf(name: string, def: JsonObject, type: ParameterType): Json {
    const target = `parameters.${name}`;
    const supplied = this.supplied.get(name.toLowerCase());
    let value: Json;
    const nullable = constraint(def, 'nullable') === true;
    if (supplied !== undefined) {
      value = supplied.value;
      if (value === null && nullable) return null;
    } else if (findKey(def, 'defaultValue') !== undefined) {
      const loops: never[] = [];
      const ctx = makeEvalContext(this.scope, 'parameterDefault', loops);
      try {
        value = evaluateJson(
          def[findKey(def, 'defaultValue') as string] as Json,
          ctx,
          BUILTIN_FUNCTIONS,
          loopHooks(loops, () => null),
        );
      } catch (err) {
        if (err instanceof ExpressionError) throw TemplateErrors.inSection('parameter', name, err.message, target);
        throw err;
      }
    } else if (nullable) {
      return null;
    } else {
      throw TemplateErrors.parameterNotProvided(name);
    }
    if (!type.accepts(value)) {
      throw TemplateErrors.validationFailed(
        `Template parameter JToken type is not valid. Expected '${type.expected}'. Actual '${typeOf(value)}'. ${SEE_PARAMETERS}`,
        target,
      );
    }
    checkConstraints(name, def, value, type.secure);
    return value;
  }
}

/**
 * Language version 2.0: a parameter typed by reference to a user-defined type (`"$ref": "#/definitions/x"`) takes
 * that type's `type` and constraints (its own win). Only the outer type is checked: the shape of objects and the
 * items of arrays are not (ARM checks them; this service accepts what fits the outer type).
 */
function withReferencedType(name: string, def: JsonObject, types: JsonObject): JsonObject {
  let current = def;
  const merged: JsonObject = {};
  for (let depth = 0; depth < 32; depth++) {
    const refKey = findKey(current, '$ref');
    for (const [k, v] of Object.entries(current)) if (k !== refKey && merged[k] === undefined) merged[k] = v;
    if (refKey === undefined) return merged;
    const ref = current[refKey];
    const m = typeof ref === 'string' ? /^#\/definitions\/([^/]+)$/.exec(ref) : null;
    const target = m === null ? undefined : getProperty(types, m[1] as string);
    if (!isObject(target)) {
      throw TemplateErrors.inSection(
        'parameter',
        name,
        `the type reference '${String(ref)}' does not name a user-defined type of the template's 'definitions'.`,
        `parameters.${name}`,
      );
    }
    current = target;
  }
  throw TemplateErrors.inSection('parameter', name, 'the user-defined type references itself.', `parameters.${name}`);
}

function constraint(def: JsonObject, key: string): Json | undefined {
  const k = findKey(def, key);
  return k === undefined ? undefined : (def[k] as Json);
}

function checkConstraints(name: string, def: JsonObject, value: Json, secure: boolean): void {
  const allowed = constraint(def, 'allowedValues');
  if (allowed !== undefined) {
    if (!Array.isArray(allowed)) {
      throw TemplateErrors.inSection('parameter', name, "'allowedValues' must be an array.", `parameters.${name}`);
    }
    const candidates = Array.isArray(value) ? value : [value];
    if (!candidates.every((v) => allowed.some((a) => deepEquals(a, v)))) {
      const list = allowed.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(',');
      // A secure value is never quoted (the message reaches the response, the deployment and the activity log).
      const provided = secure ? 'The provided value' : `The provided value '${Array.isArray(value) ? JSON.stringify(value) : toDotnetString(value)}'`;
      throw TemplateErrors.validationFailed(
        `${provided} for the template parameter '${name}' is not valid. The parameter value is not part of the allowed value(s): '${list}'. ${SEE_PARAMETERS}`,
        `parameters.${name}`,
      );
    }
  }
  const bound = (key: string): number | undefined => {
    const b = constraint(def, key);
    if (b === undefined) return undefined;
    if (!isInteger(b)) throw TemplateErrors.inSection('parameter', name, `'${key}' must be an integer.`, `parameters.${name}`);
    return b;
  };
  const minValue = bound('minValue');
  const maxValue = bound('maxValue');
  if (isInteger(value)) {
    if (minValue !== undefined && value < minValue) {
      throw TemplateErrors.parameterValue(name, `The value should be greater than or equal to '${minValue}'.`);
    }
    if (maxValue !== undefined && value > maxValue) {
      throw TemplateErrors.parameterValue(name, `The value should be less than or equal to '${maxValue}'.`);
    }
  }
  const minLength = bound('minLength');
  const maxLength = bound('maxLength');
  if (typeof value === 'string' || Array.isArray(value)) {
    if (minLength !== undefined && value.length < minLength) {
      throw TemplateErrors.parameterValue(name, `Length of the value should be greater than or equal to '${minLength}'.`);
    }
    if (maxLength !== undefined && value.length > maxLength) {
      throw TemplateErrors.parameterValue(name, `Length of the value should be less than or equal to '${maxLength}'.`);
    }
  }
}

/**
 * A deployment's `properties.parameters` as ARM returns it: secure parameters keep only their type,
 * so nothing secret is ever echoed.
 */
export function deploymentParametersView(parameters: Record<string, PlanParameter>): JsonObject {
  const out: JsonObject = {};
  for (const [name, p] of Object.entries(parameters)) {
    out[name] = p.secure ? { type: p.type } : { type: p.type, value: p.value };
  }
  return out;
}
