import { isPlainObject, JsonObject } from './object';
import { invalidCause, notSupportedCause, StatusCause } from './status';

/**
 * Upstream's Job spec rules for the failure and success policies (apis/batch/validation): podFailurePolicy,
 * backoffLimitPerIndex with maxFailedIndexes, successPolicy, podReplacementPolicy, with upstream's field paths and
 * messages. The Job's other fields are checked in validation.ts.
 */

const MAX_POD_FAILURE_POLICY_RULES = 20;
const MAX_ON_EXIT_CODES_VALUES = 255;
const MAX_ON_POD_CONDITIONS_PATTERNS = 20;
const MAX_SUCCESS_POLICY_RULES = 20;
const MAX_SUCCEEDED_INDEXES_LENGTH = 64 * 1024;
const MAX_PARALLELISM_INDEXED = 100_000;
const MAX_FAILED_INDEXES_INDEXED = 100_000;
const COMPLETIONS_SOFT_LIMIT = 100_000;
const PARALLELISM_LIMIT_HIGH_COMPLETIONS = 10_000;
const MAX_FAILED_INDEXES_HIGH_COMPLETIONS = 10_000;

const ACTIONS = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
const OPERATORS = ['In', 'NotIn'];
const CONDITION_STATUSES = ['False', 'True', 'Unknown'];
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const asObj = (v: unknown): JsonObject => (isPlainObject(v) ? v : {});
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const given = (v: unknown) => v !== undefined && v !== null;

const required = (field: string, detail: string): StatusCause => ({ reason: 'FieldValueRequired', message: `Required value: ${detail}`, field });
const tooMany = (field: string, actual: number, max: number): StatusCause => ({
  reason: 'FieldValueTooMany',
  message: `Too many: ${actual}: must have at most ${max} items`,
  field,
});
/** An invalid value whose value upstream leaves out of the message (field.OmitValueType). */
const invalidNoValue = (field: string, detail: string): StatusCause => ({ reason: 'FieldValueInvalid', message: `Invalid value: ${detail}`, field });
const nonNegative = (field: string, value: unknown): StatusCause[] =>
  isInt(value) && value < 0 ? [invalidCause(field, value, 'must be greater than or equal to 0')] : [];

/** Upstream's index list format ("1,3-5"): each index below completions, intervals ascending. Answers the count or the error text. */
export function checkIndexesFormat(text: string, completions: number): { total: number } | { error: string } {
  if (text === '') return { total: 0 };
  let last: number | undefined;
  let total = 0;
  for (const part of text.split(',')) {
    const limits = part.split('-');
    if (limits.length > 2)
      return { error: `the fragment ${JSON.stringify(part)} violates the requirement that an index interval can have at most two parts separated by '-'` };
    const bounds: number[] = [];
    for (const l of limits) {
      if (!/^[-+]?\d+$/.test(l)) return { error: `cannot convert string to integer for index: ${JSON.stringify(l)}` };
      const n = Number(l);
      if (n >= completions) return { error: `too large index: ${JSON.stringify(l)}` };
      bounds.push(n);
    }
    const [x, y = x] = bounds;
    if (bounds.length === 2 && x >= y) return { error: `non-increasing order, previous: ${x}, current: ${y}` };
    if (last !== undefined && last >= x) return { error: `non-increasing order, previous: ${last}, current: ${x}` };
    total += y - x + 1;
    last = y;
  }
  return { total };
}

function validateExitCodes(req: JsonObject, path: string, containerNames: Set<string>): StatusCause[] {
  const out: StatusCause[] = [];
  const op = req.operator;
  if (!given(op) || op === '') out.push(required(`${path}.operator`, `valid values: ${JSON.stringify(OPERATORS).replace(/,/g, ' ')}`));
  else if (!OPERATORS.includes(String(op))) out.push(notSupportedCause(`${path}.operator`, op, OPERATORS));
  if (given(req.containerName) && !containerNames.has(String(req.containerName)))
    out.push(invalidCause(`${path}.containerName`, req.containerName, 'must be one of the container or initContainer names in the pod template'));
  const values = asList(req.values);
  if (values.length === 0) out.push(invalidCause(`${path}.values`, values, 'at least one value is required'));
  else if (values.length > MAX_ON_EXIT_CODES_VALUES) out.push(tooMany(`${path}.values`, values.length, MAX_ON_EXIT_CODES_VALUES));
  const seen = new Set<unknown>();
  let ordered = true;
  values.forEach((v, j) => {
    if (op === 'In' && v === 0) out.push(invalidCause(`${path}.values[${j}]`, v, 'must not be 0 for the In operator'));
    if (seen.has(v)) out.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(v)}`, field: `${path}.values[${j}]` });
    else seen.add(v);
    if (j > 0 && (values[j - 1] as number) > (v as number)) ordered = false;
  });
  if (!ordered) out.push(invalidCause(`${path}.values`, values, 'must be ordered'));
  return out;
}

function validateOnPodConditions(patterns: unknown[], path: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (patterns.length > MAX_ON_POD_CONDITIONS_PATTERNS) out.push(tooMany(path, patterns.length, MAX_ON_POD_CONDITIONS_PATTERNS));
  patterns.forEach((raw, j) => {
    const p = asObj(raw);
    const type = typeof p.type === 'string' ? p.type : '';
    const [prefix, name] = type.includes('/') ? [type.slice(0, type.indexOf('/')), type.slice(type.indexOf('/') + 1)] : ['', type];
    if (!type) out.push({ reason: 'FieldValueRequired', message: 'Required value: name part must be non-empty', field: `${path}[${j}].type` });
    else if ((prefix && !DNS1123_SUBDOMAIN.test(prefix)) || !QUALIFIED_NAME.test(name) || name.length > 63)
      out.push(
        invalidCause(
          `${path}[${j}].type`,
          type,
          "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ),
      );
    // An absent status defaults to True (as upstream's defaulting does before validation).
    const status = given(p.status) ? p.status : 'True';
    if (status === '') out.push(required(`${path}[${j}].status`, `valid values: ${JSON.stringify(CONDITION_STATUSES).replace(/,/g, ' ')}`));
    else if (!CONDITION_STATUSES.includes(String(status))) out.push(notSupportedCause(`${path}[${j}].status`, status, CONDITION_STATUSES));
  });
  return out;
}

function validatePodFailurePolicy(spec: JsonObject, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  const rules = asList(asObj(spec.podFailurePolicy).rules);
  if (rules.length > MAX_POD_FAILURE_POLICY_RULES) out.push(tooMany(`${path}.rules`, rules.length, MAX_POD_FAILURE_POLICY_RULES));
  const podSpec = asObj(asObj(spec.template).spec);
  const containerNames = new Set([...asList(podSpec.containers), ...asList(podSpec.initContainers)].map((c) => String(asObj(c).name)));
  rules.forEach((raw, i) => {
    const rule = asObj(raw);
    const rulePath = `${path}.rules[${i}]`;
    const action = rule.action;
    if (!given(action) || action === '') out.push(required(`${rulePath}.action`, `valid values: ${JSON.stringify(ACTIONS).replace(/,/g, ' ')}`));
    else if (action === 'FailIndex') {
      if (!given(spec.backoffLimitPerIndex)) out.push(invalidCause(`${rulePath}.action`, action, 'requires the backoffLimitPerIndex to be set'));
    } else if (!ACTIONS.includes(String(action))) out.push(notSupportedCause(`${rulePath}.action`, action, ACTIONS));
    const onExitCodes = given(rule.onExitCodes) ? asObj(rule.onExitCodes) : undefined;
    const onPodConditions = asList(rule.onPodConditions);
    if (onExitCodes) out.push(...validateExitCodes(onExitCodes, `${rulePath}.onExitCodes`, containerNames));
    if (onPodConditions.length) out.push(...validateOnPodConditions(onPodConditions, `${rulePath}.onPodConditions`));
    if (onExitCodes && onPodConditions.length) out.push(invalidNoValue(rulePath, 'specifying both OnExitCodes and OnPodConditions is not supported'));
    if (!onExitCodes && !onPodConditions.length) out.push(invalidNoValue(rulePath, 'specifying one of OnExitCodes and OnPodConditions is required'));
  });
  return out;
}

function validateSuccessPolicy(spec: JsonObject, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  const rules = asList(asObj(spec.successPolicy).rules);
  const completions = isInt(spec.completions) ? spec.completions : 0;
  if (rules.length === 0) out.push(required(`${path}.rules`, 'at least one rules must be specified when the successPolicy is specified'));
  if (rules.length > MAX_SUCCESS_POLICY_RULES) out.push(tooMany(`${path}.rules`, rules.length, MAX_SUCCESS_POLICY_RULES));
  rules.forEach((raw, i) => {
    const rule = asObj(raw);
    const rulePath = `${path}.rules[${i}]`;
    if (!given(rule.succeededCount) && !given(rule.succeededIndexes))
      out.push(required(rulePath, 'at least one of succeededCount or succeededIndexes must be specified'));
    let total = 0;
    if (given(rule.succeededIndexes)) {
      const text = String(rule.succeededIndexes);
      if (text.length > MAX_SUCCEEDED_INDEXES_LENGTH)
        out.push({
          reason: 'FieldValueTooLong',
          message: `Too long: may not be more than ${MAX_SUCCEEDED_INDEXES_LENGTH} bytes`,
          field: `${rulePath}.succeededIndexes`,
        });
      const parsed = checkIndexesFormat(text, completions);
      if ('error' in parsed) out.push(invalidCause(`${rulePath}.succeededIndexes`, text, `error parsing succeededIndexes: ${parsed.error}`));
      else total = parsed.total;
    }
    if (given(rule.succeededCount)) {
      const count = rule.succeededCount as number;
      const countPath = `${rulePath}.succeededCount`;
      out.push(...nonNegative(countPath, count));
      if (count > completions) out.push(invalidCause(countPath, count, `must be less than or equal to ${completions} (the number of specified completions)`));
      if (given(rule.succeededIndexes) && count > total)
        out.push(invalidCause(countPath, count, `must be less than or equal to ${total} (the number of indexes in the specified succeededIndexes field)`));
    }
  });
  return out;
}

/** The causes for a Job spec's policy fields (at `path`: a CronJob's is spec.jobTemplate.spec); an empty list means valid. */
export function validateJobPolicies(spec: JsonObject, path = 'spec'): StatusCause[] {
  const out: StatusCause[] = [];
  const indexed = spec.completionMode === 'Indexed';
  out.push(...nonNegative(`${path}.backoffLimitPerIndex`, spec.backoffLimitPerIndex));
  if (given(spec.maxFailedIndexes)) {
    out.push(...nonNegative(`${path}.maxFailedIndexes`, spec.maxFailedIndexes));
    if (!given(spec.backoffLimitPerIndex)) out.push(required(`${path}.backoffLimitPerIndex`, 'when maxFailedIndexes is specified'));
  }
  const completions = spec.completions;
  const maxFailed = spec.maxFailedIndexes;
  if (indexed) {
    if (isInt(spec.parallelism) && spec.parallelism > MAX_PARALLELISM_INDEXED)
      out.push(
        invalidCause(`${path}.parallelism`, spec.parallelism, `must be less than or equal to ${MAX_PARALLELISM_INDEXED} when completion mode is Indexed`),
      );
    if (isInt(completions) && isInt(maxFailed) && maxFailed > completions)
      out.push(invalidCause(`${path}.maxFailedIndexes`, maxFailed, 'must be less than or equal to completions'));
    if (isInt(maxFailed) && maxFailed > MAX_FAILED_INDEXES_INDEXED)
      out.push(invalidCause(`${path}.maxFailedIndexes`, maxFailed, `must be less than or equal to ${MAX_FAILED_INDEXES_INDEXED}`));
    if (isInt(completions) && completions > COMPLETIONS_SOFT_LIMIT && given(spec.backoffLimitPerIndex)) {
      if (!given(maxFailed)) out.push(required(`${path}.maxFailedIndexes`, `must be specified when completions is above ${COMPLETIONS_SOFT_LIMIT}`));
      if (isInt(spec.parallelism) && spec.parallelism > PARALLELISM_LIMIT_HIGH_COMPLETIONS)
        out.push(
          invalidCause(
            `${path}.parallelism`,
            spec.parallelism,
            `must be less than or equal to ${PARALLELISM_LIMIT_HIGH_COMPLETIONS} when completions are above ${COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index`,
          ),
        );
      if (isInt(maxFailed) && maxFailed > MAX_FAILED_INDEXES_HIGH_COMPLETIONS)
        out.push(
          invalidCause(
            `${path}.maxFailedIndexes`,
            maxFailed,
            `must be less than or equal to ${MAX_FAILED_INDEXES_HIGH_COMPLETIONS} when completions are above ${COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index`,
          ),
        );
    }
  } else {
    if (given(spec.backoffLimitPerIndex)) out.push(invalidCause(`${path}.backoffLimitPerIndex`, spec.backoffLimitPerIndex, 'requires indexed completion mode'));
    if (given(maxFailed)) out.push(invalidCause(`${path}.maxFailedIndexes`, maxFailed, 'requires indexed completion mode'));
  }
  if (given(spec.podFailurePolicy)) out.push(...validatePodFailurePolicy(spec, `${path}.podFailurePolicy`));
  if (given(spec.successPolicy)) {
    if (!indexed) out.push(invalidCause(`${path}.successPolicy`, spec.successPolicy, 'requires indexed completion mode'));
    else out.push(...validateSuccessPolicy(spec, `${path}.successPolicy`));
  }
  const replacement = spec.podReplacementPolicy;
  if (given(replacement)) {
    if (given(spec.podFailurePolicy)) {
      if (replacement !== 'Failed') out.push(notSupportedCause(`${path}.podReplacementPolicy`, replacement, ['Failed']));
    } else if (!['Failed', 'TerminatingOrFailed'].includes(String(replacement)))
      out.push(notSupportedCause(`${path}.podReplacementPolicy`, replacement, ['Failed', 'TerminatingOrFailed']));
  }
  const restartPolicy = asObj(asObj(spec.template).spec).restartPolicy;
  if (given(spec.podFailurePolicy) && restartPolicy === 'OnFailure')
    out.push(invalidCause(`${path}.template.spec.restartPolicy`, restartPolicy, 'only "Never" is supported when podFailurePolicy is specified'));
  return out;
}

/** JSON with object keys sorted, so that equal values compare equal whatever order a client sent them in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isPlainObject(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v ?? null);
}

/** Upstream's immutable Job spec fields among the policies: podFailurePolicy, backoffLimitPerIndex, successPolicy. */
export function validateJobPoliciesUpdate(spec: JsonObject, oldSpec: JsonObject): StatusCause[] {
  const out: StatusCause[] = [];
  for (const f of ['podFailurePolicy', 'backoffLimitPerIndex', 'successPolicy']) {
    if (canonical(spec[f]) !== canonical(oldSpec[f])) out.push(invalidCause(`spec.${f}`, spec[f] ?? null, 'field is immutable'));
  }
  return out;
}
