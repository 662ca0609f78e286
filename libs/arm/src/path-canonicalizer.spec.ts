import { canonicalizeArmPath, canonicalRequestTarget } from './path-canonicalizer';

const SUB = '00000000-0000-0000-0000-000000000001';

const clusterPath = (rg: string, cluster: string): string =>
  `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${cluster}`;

describe('canonicalizeArmPath', () => {
  const sut = canonicalizeArmPath;

  describe('fixed segments (R1.2)', () => {
    it('rewrites every fixed segment of a cluster path to its canonical casing', () => {
      const input = `/SUBSCRIPTIONS/${SUB}/resourcegroups/rG1/PROVIDERS/microsoft.containerservice/MANAGEDCLUSTERS/Foo`;

      expect(sut(input)).toBe(clusterPath('rG1', 'Foo'));
    });

    it('rewrites the child type of an agent pool path', () => {
      const input = `/subscriptions/${SUB}/RESOURCEGROUPS/rg/providers/Microsoft.ContainerService/managedclusters/c1/AGENTPOOLS/pool1`;

      expect(sut(input)).toBe(`${clusterPath('rg', 'c1')}/agentPools/pool1`);
    });

    it('rewrites the list paths in a resource group and in a subscription', () => {
      expect(sut(`/subscriptions/${SUB}/resourcegroups/rg/providers/microsoft.containerservice/managedclusters`)).toBe(
        `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters`,
      );
      expect(sut(`/subscriptions/${SUB}/providers/MICROSOFT.CONTAINERSERVICE/ManagedClusters`)).toBe(
        `/subscriptions/${SUB}/providers/Microsoft.ContainerService/managedClusters`,
      );
    });

    it('rewrites a location-scoped operation status path and leaves the location and id alone', () => {
      const input = `/subscriptions/${SUB}/providers/microsoft.containerservice/LOCATIONS/WestUS/Operations/Op-1A`;

      expect(sut(input)).toBe(`/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/WestUS/operations/Op-1A`);
    });

    it.each([
      ['OPERATIONRESULTS', 'operationresults'],
      ['operationstatus', 'operationStatus'],
      ['OperationStatuses', 'operationStatuses'],
    ])('rewrites the status alias %s to %s (R11.2)', (given, canonical) => {
      expect(sut(`/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/westus/${given}/abc`)).toBe(
        `/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/westus/${canonical}/abc`,
      );
    });

    it('rewrites the tenant-level operations list', () => {
      expect(sut('/PROVIDERS/microsoft.containerservice/OPERATIONS')).toBe('/providers/Microsoft.ContainerService/operations');
    });

    it('rewrites the lower-case resourcegroups segment of a deployment path', () => {
      const input = `/subscriptions/${SUB}/resourcegroups/rg/providers/microsoft.resources/DEPLOYMENTS/Deploy1`;

      expect(sut(input)).toBe(`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Resources/deployments/Deploy1`);
    });

    it('rewrites deployment operations, which have no providers segment', () => {
      const input = `/subscriptions/${SUB}/resourcegroups/rg/DEPLOYMENTS/Deploy1/OPERATIONS`;

      expect(sut(input)).toBe(`/subscriptions/${SUB}/resourceGroups/rg/deployments/Deploy1/operations`);
    });

    // Every cluster-level fixed segment the contract names (R1.1, R9.6, R10.3–R10.5).
    it.each([
      'abort',
      'start',
      'stop',
      'runCommand',
      'commandResults',
      'listClusterUserCredential',
      'listClusterAdminCredential',
      'listClusterMonitoringUserCredential',
      'rotateClusterCertificates',
      'rotateServiceAccountSigningKeys',
      'resetServicePrincipalProfile',
      'resetAADProfile',
      'upgradeProfiles',
    ])('rewrites the cluster segment %s from upper case', (segment) => {
      expect(sut(`${clusterPath('rg', 'C1')}/${segment.toUpperCase()}`)).toBe(`${clusterPath('rg', 'C1')}/${segment}`);
    });

    it.each(['upgradeNodeImageVersion', 'upgradeProfiles', 'availableAgentPoolVersions', 'abort', 'machines'])(
      'rewrites the agent pool segment %s from lower case',
      (segment) => {
        expect(sut(`${clusterPath('rg', 'C1')}/agentPools/pool1/${segment.toLowerCase()}`)).toBe(`${clusterPath('rg', 'C1')}/agentPools/pool1/${segment}`);
      },
    );

    // Location-scoped proxy types named in R1.1.
    it.each(['kubernetesVersions', 'meshRevisionProfiles', 'trustedAccessRoles'])('rewrites the location-scoped type %s', (segment) => {
      expect(sut(`/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/westus/${segment.toLowerCase()}`)).toBe(
        `/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/westus/${segment}`,
      );
    });

    it.each(['validate', 'whatIf', 'cancel', 'exportTemplate'])('rewrites the deployment action %s', (segment) => {
      expect(sut(`/subscriptions/${SUB}/resourcegroups/rg/providers/Microsoft.Resources/deployments/d1/${segment.toUpperCase()}`)).toBe(
        `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Resources/deployments/d1/${segment}`,
      );
    });

    it('leaves a namespace it does not know in the casing the caller used', () => {
      const input = `/subscriptions/${SUB}/resourceGroups/rg/providers/microsoft.compute/virtualMachines/vm1`;

      expect(sut(input)).toBe(input);
    });

    it('returns an already canonical path unchanged', () => {
      const input = `${clusterPath('rg', 'C1')}/agentPools/pool1`;

      expect(sut(input)).toBe(input);
    });

    it('is idempotent', () => {
      const input = `/SUBSCRIPTIONS/${SUB}/resourcegroups/Providers/PROVIDERS/microsoft.containerservice/managedclusters/Stop/STOP`;

      expect(sut(sut(input))).toBe(sut(input));
    });
  });

  describe('names keep their casing (R1.2, R1.3)', () => {
    it('keeps mixed-case resource group and cluster names as given', () => {
      expect(sut(clusterPath('MyRG', 'MyCluster'))).toBe(clusterPath('MyRG', 'MyCluster'));
    });

    it.each(['providers', 'Providers', 'PROVIDERS', 'subscriptions', 'Subscriptions', 'resourcegroups', 'managedclusters'])(
      'keeps a resource group literally named %s as a name',
      (rg) => {
        const input = `/subscriptions/${SUB}/resourcegroups/${rg}/providers/microsoft.containerservice/managedclusters/c1`;

        expect(sut(input)).toBe(clusterPath(rg, 'c1'));
      },
    );

    it('keeps a resource group named like a namespace as a name', () => {
      const input = `/subscriptions/${SUB}/resourceGroups/microsoft.containerservice/providers/Microsoft.ContainerService/managedClusters/c1`;

      expect(sut(input)).toBe(clusterPath('microsoft.containerservice', 'c1'));
    });

    it.each(['providers', 'PROVIDERS', 'Stop', 'agentpools', 'subscriptions'])('keeps a cluster literally named %s as a name', (cluster) => {
      expect(sut(clusterPath('rg', cluster))).toBe(clusterPath('rg', cluster));
    });

    it('keeps an agent pool literally named agentpools as a name while fixing the type before it', () => {
      expect(sut(`${clusterPath('rg', 'c1')}/AGENTPOOLS/agentpools`)).toBe(`${clusterPath('rg', 'c1')}/agentPools/agentpools`);
    });

    it('treats the segment after a resource group named providers as the real providers keyword', () => {
      const input = `/subscriptions/${SUB}/resourceGroups/providers/PROVIDERS/microsoft.containerservice/managedClusters/providers`;

      expect(sut(input)).toBe(clusterPath('providers', 'providers'));
    });

    it('keeps the subscription id as given', () => {
      const input = '/SUBSCRIPTIONS/AbCdEf00-0000-0000-0000-000000000001/resourcegroups/rg';

      expect(sut(input)).toBe('/subscriptions/AbCdEf00-0000-0000-0000-000000000001/resourceGroups/rg');
    });
  });

  describe('query strings', () => {
    it('leaves the query string untouched', () => {
      const query = "?api-version=2026-10-01&$filter=Name eq 'PROVIDERS'&$skipToken=AbC";

      expect(sut(`/SUBSCRIPTIONS/${SUB}/resourcegroups/rg${query}`)).toBe(`/subscriptions/${SUB}/resourceGroups/rg${query}`);
    });

    it('does not rewrite path-like text inside the query', () => {
      const query = '?api-version=2026-10-01&next=/SUBSCRIPTIONS/x/RESOURCEGROUPS/y';

      expect(sut(`/subscriptions/${SUB}${query}`)).toBe(`/subscriptions/${SUB}${query}`);
    });

    it('handles an empty query after the question mark', () => {
      expect(sut(`/SUBSCRIPTIONS/${SUB}?`)).toBe(`/subscriptions/${SUB}?`);
    });
  });

  describe('trailing slashes', () => {
    it('keeps a trailing slash and still rewrites the segments before it', () => {
      expect(sut(`/SUBSCRIPTIONS/${SUB}/RESOURCEGROUPS/MyRG/`)).toBe(`/subscriptions/${SUB}/resourceGroups/MyRG/`);
    });

    it('keeps the type/name alternation after a trailing slash on a list path', () => {
      expect(sut(`/subscriptions/${SUB}/RESOURCEGROUPS/`)).toBe(`/subscriptions/${SUB}/resourceGroups/`);
    });

    it('keeps a trailing slash in front of the query string', () => {
      expect(sut(`/subscriptions/${SUB}/resourcegroups/rg/?api-version=2024-11-01`)).toBe(`/subscriptions/${SUB}/resourceGroups/rg/?api-version=2024-11-01`);
    });

    it('leaves the root path alone', () => {
      expect(sut('/')).toBe('/');
    });
  });
});

describe('canonicalRequestTarget', () => {
  const rg = `/subscriptions/${SUB}/resourceGroups/a`;
  const ok = (url: string): string => {
    const t = canonicalRequestTarget(url);
    if (!t.ok) throw new Error(`refused ${url}: ${t.message}`);
    return t.url;
  };

  it.each([
    [`${rg}/providers/Microsoft.%41uthorization/roleAssignments/x?api-version=1`, `${rg}/providers/Microsoft.Authorization/roleAssignments/x?api-version=1`],
    [`${rg}/providers/Microsoft.%41UTHORIZATION/roleAssignments/x`, `${rg}/providers/Microsoft.Authorization/roleAssignments/x`],
    [`${rg}/providers/microsoft.authorization/ROLEASSIGNMENTS/x`, `${rg}/providers/Microsoft.Authorization/roleAssignments/x`],
    [`/subscriptions/${SUB}/resourceGroups/%61`, `/subscriptions/${SUB}/resourceGroups/a`],
    [`/subscriptions/${SUB}/resourceGroups/r%C3%A9seau`, `/subscriptions/${SUB}/resourceGroups/r%C3%A9seau`],
    [`/subscriptions/${SUB}/resourceGroups/r%c3%a9seau`, `/subscriptions/${SUB}/resourceGroups/r%C3%A9seau`],
    [`/subscriptions/${SUB}/resourceGroups/my(rg)`, `/subscriptions/${SUB}/resourceGroups/my(rg)`],
    [`/subscriptions/${SUB}/resourceGroups/a/`, `/subscriptions/${SUB}/resourceGroups/a/`],
    ['/', '/'],
    [`${rg}?x=/a/b;c`, `${rg}?x=/a/b;c`],
  ])('reads %s as %s', (url, expected) => {
    expect(ok(url)).toBe(expected);
  });

  it('gives every spelling of one path the same canonical form', () => {
    const spellings = [
      `${rg}/providers/Microsoft.Authorization/roleAssignments/x`,
      `${rg}/providers/Microsoft.%41uthorization/roleAssignments/x`,
      `${rg}/providers/%4Dicrosoft.Authorization/roleAssignments/x`,
      `${rg}/PROVIDERS/microsoft.authorization/roleassignments/x`,
      `${rg}/%70roviders/Microsoft.Authorization/roleAssignments/x`,
    ];
    expect(new Set(spellings.map(ok)).size).toBe(1);
  });

  it.each([
    [`${rg}/providers/Microsoft.Authorization/roleAssignments/x#api-version=1&x=/foo`, "'#'"],
    [`${rg}/providers/Microsoft.ContainerService/managedClusters/c/agentPools/p/#api-version=1`, "'#'"],
    [`${rg}/providers/Microsoft.Authorization/roleAssignments/x;v=1`, "';'"],
    [`${rg}//providers/Microsoft.Authorization/roleAssignments/x`, 'empty'],
    [`//subscriptions/${SUB}`, 'empty'],
    [`${rg}/./providers`, "'.'"],
    [`${rg}/../b`, "'.'"],
    [`${rg}/%2e%2e/b`, "'.'"],
    [`${rg}/%2E/b`, "'.'"],
    [`${rg}/x%2Fy`, 'not allowed'],
    [`${rg}/x%2fy`, 'not allowed'],
    [`${rg}/x%5Cy`, 'not allowed'],
    [`${rg}/Microsoft.%2541uthorization`, 'not allowed'],
    [`${rg}/x%3By`, 'not allowed'],
    [`${rg}/x%23y`, 'not allowed'],
    [`${rg}/x%3Fy`, 'not allowed'],
    [`${rg}/x%00y`, 'not allowed'],
    [`${rg}/x%zz`, 'malformed'],
    [`${rg}/x%4`, 'malformed'],
    [`${rg}/x%C3`, 'malformed'],
    ['subscriptions', 'absolute'],
    ['*', 'absolute'],
  ])('refuses %s (%s)', (url, reason) => {
    const t = canonicalRequestTarget(url);
    expect(t.ok).toBe(false);
    if (!t.ok) expect(t.message).toContain(reason);
  });
});
