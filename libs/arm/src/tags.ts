import { ArmError } from './arm-error';

export type Tags = Record<string, string>;

const MAX_KEY = 512;
const MAX_VALUE = 256;
const MAX_TAGS = 50;

/** R5.6: a flat string→string map; keys ≤ 512, values ≤ 256 characters. */
export function parseTags(value: unknown, target = 'tags'): Tags {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw ArmError.badRequest('InvalidTag', `'${target}' must be an object of string values.`, target);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_TAGS) {
    throw ArmError.badRequest('InvalidTag', `At most ${MAX_TAGS} tags are allowed; ${entries.length} were given.`, target);
  }
  const tags: Tags = {};
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw ArmError.badRequest('InvalidTag', `The value of tag '${k}' must be a string.`, `${target}.${k}`);
    if (k.length === 0 || k.length > MAX_KEY) {
      throw ArmError.badRequest('InvalidTagNameLength', `Tag names must be 1-${MAX_KEY} characters; '${k.slice(0, 40)}' is not.`, target);
    }
    if (v.length > MAX_VALUE) {
      throw ArmError.badRequest('InvalidTagValueLength', `The value of tag '${k}' is longer than ${MAX_VALUE} characters.`, `${target}.${k}`);
    }
    // defineProperty, so a tag named __proto__ is kept as data rather than dropped.
    Object.defineProperty(tags, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return tags;
}
