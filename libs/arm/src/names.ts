import { ArmError } from './arm-error';

const RESOURCE_GROUP = /^[-\w._()]+$/u;
const CLUSTER = /^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$/;
const AGENT_POOL = /^[a-z][a-z0-9]{0,11}$/;
// eslint-disable-next-line no-control-regex
const GENERIC_FORBIDDEN = /[<>%&:\\?/\u0000-\u001f\u007f]/;

/** R1.6: names are checked before anything else and fail with 400. */
export function assertResourceGroupName(name: string): void {
  if (name.length < 1 || name.length > 90 || !RESOURCE_GROUP.test(name) || name.endsWith('.')) {
    throw ArmError.badRequest(
      'InvalidResourceGroupName',
      `Resource group name '${name}' is invalid. It must be 1-90 characters of letters, digits, underscores, hyphens, periods and parentheses, and must not end in a period.`,
      'resourceGroupName',
    );
  }
}

export function assertClusterName(name: string): void {
  if (!CLUSTER.test(name)) {
    throw ArmError.badRequest(
      'InvalidResourceName',
      `The managed cluster name '${name}' is invalid. It must be 1-63 characters, start and end with a letter or digit, and contain only letters, digits, hyphens and underscores.`,
      'resourceName',
    );
  }
}

export function assertAgentPoolName(name: string, target = 'agentPoolName'): void {
  if (!AGENT_POOL.test(name)) {
    throw ArmError.badRequest(
      'InvalidParameter',
      `The agent pool name '${name}' is invalid. It must start with a lowercase letter and contain only lowercase letters and digits, 1-12 characters.`,
      target,
    );
  }
}

export function assertGenericName(name: string, target: string): void {
  if (name.length < 1 || name.length > 260 || GENERIC_FORBIDDEN.test(name)) {
    throw ArmError.badRequest('InvalidResourceName', `The name '${name}' is invalid.`, target);
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A GUID in its 8-4-4-4-12 hex form, any case (subscription, operation, principal and role assignment ids). */
export const isGuid = (s: string): boolean => GUID.test(s);

export function assertSubscriptionId(id: string): void {
  if (!isGuid(id)) {
    throw ArmError.badRequest('InvalidSubscriptionId', `The provided subscription identifier '${id}' is malformed or invalid.`);
  }
}
