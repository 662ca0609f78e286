import { ArmError } from '@cerulean/arm';
import { OperationKind, OperationStatus } from '@cerulean/domain';
import { parseOperationFilter } from './operation-filter';

const badParameter = (query: Record<string, string>): { status: number; code: string; target?: string } => {
  try {
    parseOperationFilter(query);
  } catch (err) {
    if (err instanceof ArmError) return { status: err.status, code: err.code, target: err.target };
    throw err;
  }
  throw new Error('no error');
};

describe('parseOperationFilter', () => {
  it('is empty for an empty query', () => {
    const sut = parseOperationFilter({ 'api-version': '2026-06-01' });

    expect(sut).toEqual({ statuses: undefined, kinds: undefined, startedAfter: undefined, startedBefore: undefined });
  });

  it('reads comma-separated statuses and kinds in any casing, in their canonical spelling', () => {
    const sut = parseOperationFilter({ status: 'inprogress, FAILED', kind: 'Cluster.Put,agent-pool.put' });

    expect(sut.statuses).toEqual([OperationStatus.InProgress, OperationStatus.Failed]);
    expect(sut.kinds).toEqual([OperationKind.ClusterPut, OperationKind.AgentPoolPut]);
  });

  it('lower-cases the resource id and drops a trailing slash (prefix match is case-insensitive)', () => {
    const sut = parseOperationFilter({ resourceId: '/subscriptions/S/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/C1/' });

    expect(sut.resourceIdPrefix).toBe('/subscriptions/s/resourcegroups/rg/providers/microsoft.containerservice/managedclusters/c1');
  });

  it('takes the resource id in any casing', () => {
    expect(parseOperationFilter({ resourceId: '/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG' }).resourceIdPrefix).toBe('/subscriptions/s/resourcegroups/rg');
  });

  it('reads ISO 8601 times', () => {
    const sut = parseOperationFilter({ startedAfter: '2026-11-21T10:00:00Z', startedBefore: '2026-11-21T11:00:00+01:00' });

    expect(sut.startedAfter?.toISOString()).toBe('2026-11-21T10:00:00.000Z');
    expect(sut.startedBefore?.toISOString()).toBe('2026-11-21T10:00:00.000Z');
  });

  it.each([
    [{ status: 'Running' }, 'status'],
    [{ kind: 'cluster.explode' }, 'kind'],
    [{ resourceId: 'managedClusters/c1' }, 'resourceId'],
    [{ startedAfter: 'yesterday' }, 'startedAfter'],
    [{ startedBefore: '2026-13-45T00:00:00Z' }, 'startedBefore'],
    [{ startedAfter: '2026-11-22T00:00:00Z', startedBefore: '2026-11-21T00:00:00Z' }, 'startedAfter'],
  ])('rejects %j with 400 InvalidParameter on %s', (query, target) => {
    expect(badParameter(query)).toEqual({ status: 400, code: 'InvalidParameter', target });
  });
});
