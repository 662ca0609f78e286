// Fixed ARM path segments in their canonical spelling, keyed by lower case (R1.2).
const KEYWORDS = [
  'subscriptions', 'resourceGroups', 'providers', 'locations', 'tenants', 'register', 'unregister',
  'managedClusters', 'agentPools', 'operations', 'operationresults', 'operationStatus', 'operationStatuses',
  'kubernetesVersions', 'upgradeProfiles', 'availableAgentPoolVersions', 'commandResults',
  'abort', 'start', 'stop', 'runCommand', 'listClusterUserCredential', 'listClusterAdminCredential',
  'listClusterMonitoringUserCredential', 'rotateClusterCertificates', 'upgradeNodeImageVersion', 'machines',
  'rotateServiceAccountSigningKeys', 'resetServicePrincipalProfile', 'resetAADProfile', 'meshRevisionProfiles', 'meshUpgradeProfiles',
  'trustedAccessRoles', 'trustedAccessRoleBindings', 'maintenanceConfigurations', 'snapshots', 'privateEndpointConnections',
  'privateLinkResources', 'identityBindings', 'managedNamespaces', 'accessProfiles', 'listCredential', 'deleteMachines',
  'outboundNetworkDependenciesEndpoints', 'resolvePrivateLinkServiceId',
  'deployments', 'validate', 'whatIf', 'cancel', 'exportTemplate', 'resources',
  'roleAssignments', 'roleDefinitions', 'eventtypes', 'values',
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
