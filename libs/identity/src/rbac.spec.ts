import {
  actionMatches,
  AKS_CLUSTER_ADMIN_ROLE_ID,
  AKS_CLUSTER_USER_ROLE_ID,
  AKS_CONTRIBUTOR_ROLE_ID,
  armActionFor,
  CONTRIBUTOR_ROLE_ID,
  findRole,
  OWNER_ROLE_ID,
  READER_ROLE_ID,
  rolePermits,
  scopeCovers,
} from './rbac';

const S = '/subscriptions/3f2e1d0c-9b8a-4765-8432-10fedcba9876';
const MC = 'Microsoft.ContainerService/managedClusters';

describe('ARM actions from method and path', () => {
  it.each([
    ['GET', `${S}`, 'Microsoft.Resources/subscriptions/read', S, false],
    ['GET', `${S}/resourceGroups`, 'Microsoft.Resources/subscriptions/resourceGroups/read', S, true],
    ['PUT', `${S}/resourcegroups/rg1`, 'Microsoft.Resources/subscriptions/resourceGroups/write', `${S}/resourcegroups/rg1`, false],
    ['DELETE', `${S}/resourceGroups/rg1`, 'Microsoft.Resources/subscriptions/resourceGroups/delete', `${S}/resourceGroups/rg1`, false],
    ['GET', `${S}/providers/${MC}`, `${MC}/read`, `${S}/providers/Microsoft.ContainerService`, true],
    ['GET', `${S}/resourceGroups/rg1/providers/${MC}`, `${MC}/read`, `${S}/resourceGroups/rg1/providers/Microsoft.ContainerService`, true],
    ['PUT', `${S}/resourceGroups/rg1/providers/${MC}/c1`, `${MC}/write`, `${S}/resourceGroups/rg1/providers/${MC}/c1`, false],
    [
      'POST',
      `${S}/resourceGroups/rg1/providers/${MC}/c1/listClusterAdminCredential`,
      `${MC}/listClusterAdminCredential/action`,
      `${S}/resourceGroups/rg1/providers/${MC}/c1`,
      false,
    ],
    ['GET', `${S}/resourceGroups/rg1/providers/${MC}/c1/agentPools`, `${MC}/agentPools/read`, `${S}/resourceGroups/rg1/providers/${MC}/c1`, true],
    [
      'DELETE',
      `${S}/resourceGroups/rg1/providers/${MC}/c1/agentPools/np`,
      `${MC}/agentPools/delete`,
      `${S}/resourceGroups/rg1/providers/${MC}/c1/agentPools/np`,
      false,
    ],
    [
      'POST',
      `${S}/resourceGroups/rg1/providers/${MC}/c1/agentPools/np/upgradeNodeImageVersion`,
      `${MC}/agentPools/upgradeNodeImageVersion/action`,
      `${S}/resourceGroups/rg1/providers/${MC}/c1/agentPools/np`,
      false,
    ],
    [
      'GET',
      `${S}/resourceGroups/rg1/providers/${MC}/c1/upgradeProfiles/default`,
      `${MC}/upgradeProfiles/read`,
      `${S}/resourceGroups/rg1/providers/${MC}/c1/upgradeProfiles/default`,
      false,
    ],
    [
      'GET',
      `${S}/providers/Microsoft.ContainerService/locations/eastus/kubernetesVersions`,
      'Microsoft.ContainerService/locations/kubernetesVersions/read',
      `${S}/providers/Microsoft.ContainerService/locations/eastus`,
      true,
    ],
    [
      'POST',
      `${S}/providers/Microsoft.ContainerService/register`,
      'Microsoft.ContainerService/register/action',
      `${S}/providers/Microsoft.ContainerService`,
      false,
    ],
    [
      'PUT',
      `${S}/resourceGroups/rg1/providers/${MC}/c1/providers/Microsoft.Authorization/roleAssignments/a1`,
      'Microsoft.Authorization/roleAssignments/write',
      `${S}/resourceGroups/rg1/providers/${MC}/c1/providers/Microsoft.Authorization/roleAssignments/a1`,
      false,
    ],
    [
      'GET',
      `${S}/providers/Microsoft.Authorization/roleAssignments`,
      'Microsoft.Authorization/roleAssignments/read',
      `${S}/providers/Microsoft.Authorization`,
      true,
    ],
    [
      'PUT',
      `${S}/resourcegroups/rg1/providers/Microsoft.Resources/deployments/d1`,
      'Microsoft.Resources/deployments/write',
      `${S}/resourcegroups/rg1/providers/Microsoft.Resources/deployments/d1`,
      false,
    ],
    [
      'POST',
      `${S}/resourcegroups/rg1/providers/Microsoft.Resources/deployments/d1/whatIf`,
      'Microsoft.Resources/deployments/whatIf/action',
      `${S}/resourcegroups/rg1/providers/Microsoft.Resources/deployments/d1`,
      false,
    ],
  ])('%s %s → %s', (method, path, action, scope, list) => {
    expect(armActionFor(method, path)).toEqual({ action, scope, list });
  });

  it.each([
    ['PUT', `${S}/providers/Microsoft.Authorization`],
    ['DELETE', `${S}/providers/Microsoft.ContainerService`],
    ['PUT', `${S}/resourceGroups/rg1/providers/${MC}/c1/agentPools`],
    ['DELETE', `${S}/resourceGroups/rg1/providers/${MC}/c1/agentPools/np/extra`],
    ['PATCH', `${S}/resourceGroups/rg1/providers/${MC}/c1/upgradeProfiles`],
    ['POST', `${S}/resourceGroups/rg1/providers/${MC}/c1`],
    ['PUT', `${S}/resourceGroups/rg1/providers/Microsoft.%41uthorization/roleAssignments/a1`],
    ['PUT', `${S}/resourceGroups/rg1/providers/Micro*/roleAssignments/a1`],
    ['PUT', `${S}/resourceGroups/rg1/providers/Microsoft.Authorization/*/a1`],
  ])('names no action for %s %s (no method/path shape ARM would map, so nothing is authorized)', (method, path) => {
    expect(armActionFor(method, path)).toBeUndefined();
  });

  it('is undefined outside ARM resource paths', () => {
    expect(armActionFor('GET', '/tenants')).toBeUndefined();
    expect(armActionFor('GET', '/providers/Microsoft.ContainerService/operations')).toBeUndefined();
  });
});

describe('role permissions', () => {
  const permits = (roleId: string, action: string) => rolePermits(findRole(roleId)!, action);

  it('matches wildcards case-insensitively, across segments', () => {
    expect(actionMatches('*', 'Microsoft.X/y/write')).toBe(true);
    expect(actionMatches('*/read', `${MC}/agentPools/read`)).toBe(true);
    expect(actionMatches('*/read', `${MC}/write`)).toBe(false);
    expect(actionMatches('Microsoft.Authorization/*/Write', 'microsoft.authorization/roleassignments/write')).toBe(true);
    expect(actionMatches(`${MC}/runcommand/action`, `${MC}/runCommand/action`)).toBe(true);
    expect(actionMatches('Microsoft.ContainerService/managedClusters/*', 'Microsoft.ContainerService/managedClustersX/read')).toBe(false);
  });

  it('applies notActions within a role', () => {
    expect(permits(CONTRIBUTOR_ROLE_ID, `${MC}/write`)).toBe(true);
    expect(permits(CONTRIBUTOR_ROLE_ID, 'Microsoft.Authorization/roleAssignments/write')).toBe(false);
    expect(permits(CONTRIBUTOR_ROLE_ID, 'Microsoft.Authorization/roleAssignments/read')).toBe(true);
    expect(permits(OWNER_ROLE_ID, 'Microsoft.Authorization/roleAssignments/write')).toBe(true);
    expect(permits(READER_ROLE_ID, `${MC}/read`)).toBe(true);
    expect(permits(READER_ROLE_ID, `${MC}/listClusterAdminCredential/action`)).toBe(false);
    expect(permits(AKS_CLUSTER_ADMIN_ROLE_ID, `${MC}/listClusterAdminCredential/action`)).toBe(true);
    expect(permits(AKS_CLUSTER_USER_ROLE_ID, `${MC}/listClusterAdminCredential/action`)).toBe(false);
    expect(permits(AKS_CLUSTER_USER_ROLE_ID, `${MC}/listClusterUserCredential/action`)).toBe(true);
    expect(permits(AKS_CONTRIBUTOR_ROLE_ID, `${MC}/agentPools/write`)).toBe(true);
    expect(permits(AKS_CONTRIBUTOR_ROLE_ID, 'Microsoft.Resources/subscriptions/resourceGroups/write')).toBe(false);
  });

  it('inherits scopes downward only', () => {
    expect(scopeCovers('/', `${S}/resourceGroups/rg`)).toBe(true);
    expect(scopeCovers(S, `${S}/resourceGroups/rg`)).toBe(true);
    expect(scopeCovers(`${S}/resourceGroups/RG`, `${S}/resourcegroups/rg/providers/${MC}/c`)).toBe(true);
    expect(scopeCovers(`${S}/resourceGroups/rg`, S)).toBe(false);
    expect(scopeCovers(`${S}/resourceGroups/rg`, `${S}/resourceGroups/rg2`)).toBe(false);
  });
});
