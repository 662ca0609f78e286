import { existsSync } from 'node:fs';
import { AKS_RESPONSE_MODEL, armIdValues, buildResponseModel, isStableApiVersion, modelOf, projectToModel } from './response-model';

const specsRoot = process.env.CERULEAN_AZURE_SPECS ?? '/work/shared/azure-specs/specification';

describe('modelOf', () => {
  const files: Record<string, { definitions: Record<string, object> }> = {
    '/specs/rp/api.json': {
      definitions: {
        Thing: {
          type: 'object',
          allOf: [{ $ref: '../common/types.json#/definitions/Resource' }],
          properties: {
            properties: { $ref: '#/definitions/ThingProperties' },
            tags: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
        ThingProperties: {
          type: 'object',
          properties: {
            count: { type: 'integer' },
            pools: { type: 'array', items: { $ref: '#/definitions/Pool' } },
            settings: { type: 'object' },
            labels: { type: 'object', additionalProperties: {} },
            zones: { type: 'array', items: { type: 'string' } },
            child: { $ref: '#/definitions/ThingProperties' },
          },
        },
        Pool: { type: 'object', properties: { name: { type: 'string' } } },
      },
    },
    '/specs/common/types.json': { definitions: { Resource: { type: 'object', properties: { id: { type: 'string', readOnly: true } } } } },
  };

  it('follows references across files, merges allOf, and leaves recursive and untyped objects open', () => {
    const sut = modelOf((f) => files[f], '/specs/rp/api.json', 'Thing');
    expect(sut).toEqual({
      props: {
        id: 1,
        properties: {
          props: { count: 1, pools: { items: { props: { name: 1 } } }, settings: 1, labels: { values: 1 }, zones: { items: 1 }, child: 1 },
        },
        tags: { values: 1 },
      },
    });
  });

  it('marks the resource ids a caller sets (format arm-id, not read-only) and leaves read-only ones plain', () => {
    const schemas: Record<string, { definitions: Record<string, object> }> = {
      '/x.json': {
        definitions: {
          Res: {
            type: 'object',
            properties: {
              id: { type: 'string', format: 'arm-id', readOnly: true },
              subnet: { type: 'string', format: 'arm-id' },
              zones: { type: 'array', items: { type: 'string', format: 'arm-id' } },
              name: { type: 'string' },
            },
          },
        },
      },
    };
    expect(modelOf((f) => schemas[f], '/x.json', 'Res')).toEqual({ props: { id: 1, subnet: 'arm-id', zones: { items: 'arm-id' }, name: 1 } });
  });

  it('names a missing definition', () => {
    expect(() => modelOf((f) => files[f], '/specs/rp/api.json', 'Nothing')).toThrow('/specs/rp/api.json has no definition Nothing');
  });
});

describe('projectToModel', () => {
  it('leaves out what the model does not declare, at any depth, and keeps maps, arrays and open values whole', () => {
    const model = { props: { a: 1 as const, list: { items: { props: { name: 1 as const } } }, map: { values: { props: { x: 1 as const } } } } };
    expect(projectToModel({ a: { anything: [1] }, gone: 2, list: [{ name: 'n', extra: 1 }, 'x'], map: { k1: { x: 1, y: 2 }, k2: null } }, model)).toEqual({
      a: { anything: [1] },
      list: [{ name: 'n' }, 'x'],
      map: { k1: { x: 1 }, k2: null },
    });
  });

  it("drops the retired properties of an old template's cluster and keeps every current one", () => {
    const cluster = {
      id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c',
      name: 'c',
      type: 'Microsoft.ContainerService/managedClusters',
      location: 'westeurope',
      tags: { team: 'a' },
      properties: {
        kubernetesVersion: '1.33.4',
        networkProfile: { networkPlugin: 'kubenet', podCidr: '10.244.0.0/16', dockerBridgeCidr: '172.17.0.1/16' },
        agentPoolProfiles: [{ name: 'np1', count: 1, storageProfile: 'ManagedDisks', nodeLabels: { a: 'b' }, upgradeSettings: { maxSurge: '33%' } }],
      },
    };
    expect(projectToModel(cluster, AKS_RESPONSE_MODEL.managedCluster)).toEqual({
      ...cluster,
      properties: {
        kubernetesVersion: '1.33.4',
        networkProfile: { networkPlugin: 'kubenet', podCidr: '10.244.0.0/16' },
        agentPoolProfiles: [{ name: 'np1', count: 1, nodeLabels: { a: 'b' }, upgradeSettings: { maxSurge: '33%' } }],
      },
    });
  });
});

describe('armIdValues', () => {
  const model = {
    props: {
      subnet: 'arm-id' as const,
      ips: { items: { props: { id: 'arm-id' as const } } },
      identities: { values: { props: { resourceId: 'arm-id' as const, clientId: 1 as const } } },
      open: 1 as const,
    },
  };

  it('gives every resource id the model marks, with its path, and skips left-out and null values', () => {
    const value = {
      subnet: 's',
      ips: [{ id: 'a' }, { id: null }, {}],
      identities: { kubeletidentity: { resourceId: 'r', clientId: 'c' } },
      open: { subnet: 'x' },
    };
    expect(armIdValues(value, model, 'properties')).toEqual([
      { path: 'properties.subnet', value: 's' },
      { path: 'properties.ips[0].id', value: 'a' },
      { path: 'properties.identities.kubeletidentity.resourceId', value: 'r' },
    ]);
    expect(armIdValues({ subnet: 7 }, model, '')).toEqual([{ path: 'subnet', value: 7 }]);
    expect(armIdValues({ ips: 'not a list', identities: null }, model, '')).toEqual([]);
  });

  it("finds the AKS spec's references in a cluster: its pools' subnets, outbound IPs, identities, DNS zones", () => {
    const paths = armIdValues(
      {
        properties: {
          agentPoolProfiles: [{ name: 'np1', vnetSubnetID: 'a' }],
          diskEncryptionSetID: 'b',
          networkProfile: { loadBalancerProfile: { outboundIPs: { publicIPs: [{ id: 'c' }] } } },
          identityProfile: { kubeletidentity: { resourceId: 'd' } },
          ingressProfile: { webAppRouting: { dnsZoneResourceIds: ['e'] } },
        },
      },
      AKS_RESPONSE_MODEL.managedCluster,
      '',
    ).map((f) => f.path);
    expect(paths).toEqual([
      'properties.agentPoolProfiles[0].vnetSubnetID',
      'properties.diskEncryptionSetID',
      'properties.networkProfile.loadBalancerProfile.outboundIPs.publicIPs[0].id',
      'properties.identityProfile.kubeletidentity.resourceId',
      'properties.ingressProfile.webAppRouting.dnsZoneResourceIds[0]',
    ]);
  });
});

describe('the saved response model', () => {
  it('is the one the saved spec gives (regenerate with dist/libs/catalog/src/cli/response-model.js)', () => {
    expect(existsSync(specsRoot)).toBe(true);
    expect(AKS_RESPONSE_MODEL).toEqual(buildResponseModel(specsRoot));
    expect(AKS_RESPONSE_MODEL.apiVersion).toBe('2026-10-01');
  });

  it('applies to stable api-versions only', () => {
    expect(isStableApiVersion('2026-10-01')).toBe(true);
    expect(isStableApiVersion('2026-11-02-preview')).toBe(false);
    expect(isStableApiVersion(undefined)).toBe(false);
  });
});
