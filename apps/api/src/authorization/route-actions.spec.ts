import 'reflect-metadata';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { ApiModule } from '../api.module';
import { PUBLIC_ROUTE } from '../common/public-route';
import { controllersOf } from '../../../../test-support/fuzz/routes';
import { accessRuleFor } from './route-actions';

type Ctor = new (...args: never[]) => unknown;
const SUB = '3f2e1d0c-9b8a-4765-8432-10fedcba9876';
const sample = (path: string): string =>
  `/${path}`
    .replace(/:subscriptionId/g, SUB)
    .replace(/:([A-Za-z]+)/g, (_, name: string) => `x${name}`)
    .replace(/\/+/g, '/');

/** Every route a controller declares, with its method, whether it is public. */
function routes(): { method: string; path: string; isPublic: boolean }[] {
  const controllers = controllersOf(ApiModule) as Ctor[];
  const out: { method: string; path: string; isPublic: boolean }[] = [];
  for (const c of controllers) {
    const base = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, c) ?? '');
    for (const key of Object.getOwnPropertyNames(c.prototype)) {
      const handler = (c.prototype as Record<string, unknown>)[key];
      if (typeof handler !== 'function' || key === 'constructor') continue;
      const paths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (paths === undefined || method === undefined) continue;
      const isPublic = Boolean(Reflect.getMetadata(PUBLIC_ROUTE, handler) ?? Reflect.getMetadata(PUBLIC_ROUTE, c));
      for (const b of base) for (const p of ([] as string[]).concat(paths)) out.push({ method: RequestMethod[method], path: sample(`${b}/${p}`), isPublic });
    }
  }
  return out;
}

describe('route → ARM action mapping', () => {
  it('covers every non-public route the API declares (an unmapped route would be refused with 403)', () => {
    const all = routes();
    expect(all.length).toBeGreaterThan(40);
    const unmapped = all.filter((r) => !r.isPublic && accessRuleFor(r.method, r.path) === undefined);
    expect(unmapped).toEqual([]);
  });

  it('names the actions ARM uses for the AKS routes az calls', () => {
    const cluster = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1`;
    expect(accessRuleFor('POST', `${cluster}/listClusterAdminCredential?api-version=2026-03-02-preview`)).toMatchObject({
      kind: 'action',
      action: 'Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action',
      scope: cluster,
    });
    expect(accessRuleFor('GET', `/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/eastus/operations/abc`)).toEqual({
      kind: 'operation',
      subscriptionId: SUB,
    });
    expect(accessRuleFor('GET', '/subscriptions')).toEqual({ kind: 'subscriptions' });
    expect(accessRuleFor('POST', '/v1.0/servicePrincipals')).toMatchObject({ action: 'Microsoft.Directory/servicePrincipals/write', scope: '/' });
    expect(accessRuleFor('PUT', '/providers/Microsoft.Authorization/roleAssignments/x')).toMatchObject({
      action: 'Microsoft.Authorization/roleAssignments/write',
      scope: '/',
    });
  });

  it('names the maintenanceConfigurations actions on the configuration', () => {
    const config = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1/maintenanceConfigurations/default`;
    for (const [method, verb] of [
      ['GET', 'read'],
      ['PUT', 'write'],
      ['DELETE', 'delete'],
    ]) {
      expect(accessRuleFor(method, `${config}?api-version=2026-06-01`)).toEqual({
        kind: 'action',
        action: `Microsoft.ContainerService/managedClusters/maintenanceConfigurations/${verb}`,
        scope: config,
        list: false,
      });
    }
    expect(accessRuleFor('GET', config.replace(/\/default$/, ''))).toMatchObject({
      action: 'Microsoft.ContainerService/managedClusters/maintenanceConfigurations/read',
      list: true,
    });
  });

  it('names the deployment actions at subscription scope over the deployment', () => {
    const dep = `/subscriptions/${SUB}/providers/Microsoft.Resources/deployments/d1`;
    expect(accessRuleFor('PUT', `${dep}?api-version=2026-09-01`)).toEqual({
      kind: 'action',
      action: 'Microsoft.Resources/deployments/write',
      scope: dep,
      list: false,
    });
    expect(accessRuleFor('POST', `${dep}/whatIf`)).toMatchObject({ action: 'Microsoft.Resources/deployments/whatIf/action', scope: dep });
    expect(accessRuleFor('GET', `${dep}/operations`)).toMatchObject({ action: 'Microsoft.Resources/deployments/operations/read', scope: dep, list: true });
    expect(accessRuleFor('GET', `/subscriptions/${SUB}/providers/Microsoft.Resources/deployments`)).toMatchObject({
      action: 'Microsoft.Resources/deployments/read',
      list: true,
    });
  });
});
