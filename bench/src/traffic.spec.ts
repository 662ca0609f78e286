import { atSpecVersion, classify, judge, OavIssue, RecordedPair, SKIP, SpecFile, specOperations, withoutPayloadRefs } from './traffic';

const swagger = {
  paths: {
    '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}': {
      get: { operationId: 'ManagedClusters_Get' },
      put: { operationId: 'ManagedClusters_CreateOrUpdate' },
      parameters: [],
    },
    '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters': {
      get: { operationId: 'ManagedClusters_ListByResourceGroup' },
    },
    '/{scope}/providers/Microsoft.Resources/deployments/{deploymentName}': { get: { operationId: 'Deployments_GetAtScope' } },
    '/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Resources/deployments/{deploymentName}': {
      get: { operationId: 'Deployments_Get' },
    },
  },
};
const spec: SpecFile = { key: 'aks', path: '/x.json', apiVersion: '2026-10-01', operations: specOperations(swagger) };
const CLUSTER = 'https://127.0.0.1:1/subscriptions/s/resourcegroups/rg/providers/microsoft.containerservice/managedClusters/c1';

const pair = (url: string, method = 'GET', userAgent = 'azsdk-js-arm-containerservice/25.5.0 core-rest-pipeline/1.22.0'): RecordedPair => ({
  liveRequest: { headers: { 'user-agent': userAgent }, method, url },
  liveResponse: { statusCode: '200', headers: {} },
});

describe('classify', () => {
  it('matches a real client request to its operation in any casing, most specific template first, with the version it sent', () => {
    expect(classify(pair(`${CLUSTER}?api-version=2026-06-01`), [spec])).toEqual({
      kind: 'validate',
      spec,
      operationId: 'ManagedClusters_Get',
      sentVersion: '2026-06-01',
      realClient: true,
    });
    expect(classify(pair(`${CLUSTER}?api-version=2026-10-01`, 'PUT', 'AZURECLI/2.70.0 azsdk-python-core/1.0'), [spec])).toMatchObject({
      operationId: 'ManagedClusters_CreateOrUpdate',
      sentVersion: '2026-10-01',
      realClient: true,
    });
    expect(classify(pair(`${CLUSTER}?api-version=2026-10-01`, 'GET', ''), [spec])).toMatchObject({ kind: 'validate', realClient: false });
    expect(
      classify(pair('https://h/subscriptions/s/resourcegroups/rg/providers/Microsoft.Resources/deployments/d?api-version=2026-06-01'), [spec]),
    ).toMatchObject({
      operationId: 'Deployments_Get',
    });
  });

  it('skips, with the reason, other resource types, unknown operations, odd paths and a missing api-version', () => {
    for (const odd of [
      `${CLUSTER}/`,
      CLUSTER.replace('/resourcegroups/', '//resourcegroups/'),
      CLUSTER.replace('/managedClusters/', '/managedClusters%2F'),
      CLUSTER.replace('managedClusters', 'managed%43lusters'),
    ]) {
      expect(classify(pair(`${odd}?api-version=2026-10-01`), [spec])).toEqual({ kind: 'skip', reason: SKIP.oddPath });
    }
    expect(classify(pair('https://h/subscriptions/s/resourcegroups/rg?api-version=2025-04-01'), [spec])).toEqual({ kind: 'skip', reason: SKIP.noSpec });
    expect(classify(pair(`${CLUSTER}?api-version=2026-10-01`, 'DELETE'), [spec])).toEqual({ kind: 'skip', reason: SKIP.noOperation });
    expect(classify(pair('https://h/subscriptions/s/providers/Microsoft.ContainerService/locations/x/operations/1?api-version=2026-10-01'), [spec])).toEqual({
      kind: 'skip',
      reason: SKIP.noOperation,
    });
    expect(classify(pair(CLUSTER), [spec])).toEqual({ kind: 'skip', reason: SKIP.noApiVersion });
  });
});

describe('atSpecVersion', () => {
  it('rewrites only the api-version, keeping the other query parameters', () => {
    const out = atSpecVersion(pair(`${CLUSTER}?api-version=2026-06-01&$top=2`), '2026-10-01');
    expect(new URL(out.liveRequest.url).searchParams.get('api-version')).toBe('2026-10-01');
    expect(new URL(out.liveRequest.url).searchParams.get('$top')).toBe('2');
  });
});

describe('judge', () => {
  const issue: OavIssue = {
    errors: [
      { code: 'INVALID_TYPE', message: 'Expected type integer but found type string', issueSource: 'request', jsonPathsInPayload: ['$.properties.count'] },
      { code: 'OBJECT_MISSING_REQUIRED_PROPERTY', message: 'Missing required property: status', issueSource: 'response' },
    ],
    runtimeExceptions: [{ code: 'RUNTIME_ERROR', message: 'boom' }],
  };
  const request = 'request INVALID_TYPE: Expected type integer but found type string at $.properties.count';

  it("counts every response issue and runtime exception, and lists the request's issues apart", () => {
    expect(judge(issue)).toEqual({
      errors: ['response OBJECT_MISSING_REQUIRED_PROPERTY: Missing required property: status', 'runtime RUNTIME_ERROR: boom'],
      requestIssues: [request],
      extensions: [],
    });
    expect(judge({ errors: [] })).toEqual({ errors: [], requestIssues: [], extensions: [] });
  });

  it("excuses only a documented extension's own issue, on its own operations", () => {
    const nodeStatus = { code: 'OBJECT_ADDITIONAL_PROPERTIES', message: 'Additional properties not allowed: nodeStatus', issueSource: 'response' };
    const machines = judge({
      operationInfo: { operationId: 'Machines_List' },
      errors: [{ ...nodeStatus, jsonPathsInPayload: ['$.value[0].properties.nodeStatus'] }],
    });
    expect(machines.errors).toEqual([]);
    expect(machines.extensions).toHaveLength(1);
    const elsewhere = judge({ operationInfo: { operationId: 'AgentPools_Get' }, errors: [{ ...nodeStatus, jsonPathsInPayload: ['$.properties.nodeStatus'] }] });
    expect(elsewhere.errors).toHaveLength(1);
    const other = judge({ operationInfo: { operationId: 'Machines_Get' }, errors: [{ ...nodeStatus, jsonPathsInPayload: ['$.properties.extra'] }] });
    expect(other.errors).toHaveLength(1);
    const notModified = { code: 'INVALID_RESPONSE_CODE', message: "The swagger file does not define '304' response code", issueSource: 'response' };
    // Every GET can be conditional (GetUpgradeProfile too); a 304 to any other method is an error.
    expect(judge({ operationInfo: { operationId: 'AgentPools_List' }, errors: [notModified] }, 'GET').errors).toEqual([]);
    expect(judge({ operationInfo: { operationId: 'ManagedClusters_GetUpgradeProfile' }, errors: [notModified] }, 'get').errors).toEqual([]);
    expect(judge({ operationInfo: { operationId: 'AgentPools_CreateOrUpdate' }, errors: [notModified] }, 'PUT').errors).toHaveLength(1);
    expect(judge({ operationInfo: { operationId: 'ManagedClusters_ListClusterAdminCredentials' }, errors: [notModified] }, 'POST').errors).toHaveLength(1);
    expect(judge({ operationInfo: { operationId: 'AgentPools_Get' }, errors: [notModified] }).errors).toHaveLength(1);
  });
});

describe('withoutPayloadRefs', () => {
  it("renames a template's $ref keys in both bodies and keeps everything else", () => {
    const template = { definitions: { idType: { type: 'object' } }, parameters: { id: { $ref: '#/definitions/idType', nullable: true } } };
    const pair: RecordedPair = {
      liveRequest: { headers: {}, method: 'POST', url: 'https://x/validate', body: { properties: { template, mode: 'Incremental' } } },
      liveResponse: { statusCode: '200', headers: {}, body: { list: [{ $ref: '#/x' }], n: 1 } },
    };
    const out = withoutPayloadRefs(pair);
    expect(out.liveRequest.body).toEqual({
      properties: {
        template: { definitions: { idType: { type: 'object' } }, parameters: { id: { '$ref (data)': '#/definitions/idType', nullable: true } } },
        mode: 'Incremental',
      },
    });
    expect(out.liveResponse.body).toEqual({ list: [{ '$ref (data)': '#/x' }], n: 1 });
    expect(pair.liveRequest.body).toEqual({ properties: { template, mode: 'Incremental' } });
    expect(withoutPayloadRefs({ ...pair, liveRequest: { headers: {}, method: 'GET', url: 'https://x' } }).liveRequest).not.toHaveProperty('body');
  });
});
