// Fixed ARM path segments in their canonical spelling, keyed by lower case (R1.2).
const KEYWORDS = [
  'subscriptions',
  'resourceGroups',
  'providers',
  'locations',
  'tenants',
  'register',
  'unregister',
  'managedClusters',
  'agentPools',
  'operations',
  'operationresults',
  'operationStatus',
  'operationStatuses',
  'kubernetesVersions',
  'upgradeProfiles',
  'availableAgentPoolVersions',
  'commandResults',
  'abort',
  'start',
  'stop',
  'runCommand',
  'listClusterUserCredential',
  'listClusterAdminCredential',
  'listClusterMonitoringUserCredential',
  'rotateClusterCertificates',
  'upgradeNodeImageVersion',
  'machines',
  'rotateServiceAccountSigningKeys',
  'resetServicePrincipalProfile',
  'resetAADProfile',
  'meshRevisionProfiles',
  'meshUpgradeProfiles',
  'trustedAccessRoles',
  'trustedAccessRoleBindings',
  'maintenanceConfigurations',
  'snapshots',
  'privateEndpointConnections',
  'privateLinkResources',
  'identityBindings',
  'managedNamespaces',
  'accessProfiles',
  'listCredential',
  'deleteMachines',
  'outboundNetworkDependenciesEndpoints',
  'resolvePrivateLinkServiceId',
  'deployments',
  'validate',
  'whatIf',
  'cancel',
  'exportTemplate',
  'resources',
  'roleAssignments',
  'roleDefinitions',
  'eventtypes',
  'values',
];
const NAMESPACES = ['Microsoft.ContainerService', 'Microsoft.Resources', 'Microsoft.Authorization', 'Microsoft.Insights'];

const canonical = new Map<string, string>([...KEYWORDS, ...NAMESPACES].map((w) => [w.toLowerCase(), w]));

const fix = (segment: string): string => canonical.get(segment.toLowerCase()) ?? segment;

/**
 * Rewrites the fixed segments of an ARM path to their canonical casing and leaves names alone, so
 * routes are declared once and `/SUBSCRIPTIONS/x/resourcegroups/Rg1` reaches the same handler as
 * `/subscriptions/x/resourceGroups/Rg1` with `Rg1` untouched.
 *
 * ARM paths alternate `{type}/{name}`; after `providers` comes a namespace, then the same pattern.
 * Only type positions (and the namespace) are rewritten, so a resource called "providers" stays a name.
 */
export function canonicalizeArmPath(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q);
  const segments = path.split('/');
  // segments[0] is '' for an absolute path.
  let typePosition = true;
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i];
    if (s === '') continue;
    if (typePosition) {
      const fixed = fix(s);
      segments[i] = fixed;
      if (fixed === 'providers' && i + 1 < segments.length) {
        segments[i + 1] = fix(segments[i + 1]);
        i += 1; // the namespace; the next segment is a type again
        typePosition = true;
        continue;
      }
    }
    typePosition = !typePosition;
  }
  return segments.join('/') + query;
}

/** A request target the router and authorization both read the same way, or why it cannot be one. */
export type CanonicalTarget = { ok: true; url: string } | { ok: false; message: string };

// Decoded characters that would let one path be read two ways: separators, escapes, parameters, controls.
// eslint-disable-next-line no-control-regex -- control characters are refused on purpose
const AMBIGUOUS_IN_SEGMENT = /[/\\%?#;\u0000-\u001f\u007f]/;
const PERCENT = /%(?![0-9a-fA-F]{2})/;

/**
 * The one spelling of a request's path that every later step reads: each segment percent-decoded once,
 * checked, and encoded again one way (so `Microsoft.%41uthorization` and `Microsoft.Authorization` are the
 * same path to the router, the authorization check and the handlers), with fixed segments in their
 * canonical casing (canonicalizeArmPath).
 *
 * A path that cannot be read one way only is refused rather than guessed at: a raw `#` (fragments are never
 * sent) or `;` (matrix parameters, which the router would cut), empty segments (`//`), dot segments,
 * malformed escapes, and escapes that decode to a separator, an escape (double encoding), `;`, `#`, `?` or a
 * control character. A single trailing `/` is allowed (the router ignores it).
 */
export function canonicalRequestTarget(rawUrl: string): CanonicalTarget {
  if (rawUrl.includes('#')) return { ok: false, message: "The request URI must not contain '#'." };
  if (!rawUrl.startsWith('/')) return { ok: false, message: "The request URI must be an absolute path starting with '/'." };
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? '' : rawUrl.slice(q);
  if (path.includes(';')) return { ok: false, message: "The request URI path must not contain ';'." };
  const raw = path.split('/').slice(1);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const segment = raw[i];
    if (segment === '') {
      if (i === raw.length - 1) break; // one trailing slash, or the root '/'
      return { ok: false, message: "The request URI path must not contain empty segments ('//')." };
    }
    if (PERCENT.test(segment)) return { ok: false, message: `The request URI path segment '${segment}' has a malformed percent-encoding.` };
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return { ok: false, message: `The request URI path segment '${segment}' has a malformed percent-encoding.` };
    }
    if (decoded === '.' || decoded === '..') return { ok: false, message: "The request URI path must not contain '.' or '..' segments." };
    if (AMBIGUOUS_IN_SEGMENT.test(decoded)) {
      return { ok: false, message: `The request URI path segment '${segment}' encodes a character that is not allowed in a path segment.` };
    }
    out.push(encodeURIComponent(decoded));
  }
  const trailing = raw.length > 0 && raw[raw.length - 1] === '' && out.length > 0 ? '/' : '';
  return { ok: true, url: canonicalizeArmPath(`/${out.join('/')}${trailing}`) + query };
}
