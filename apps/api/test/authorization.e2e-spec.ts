import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import {
  AKS_API,
  arm,
  ArmResponse,
  clusterBody,
  clusterPath,
  newPrincipal,
  rgPath,
  RES_API,
  startWorker,
  state,
  sub,
  waitForOperation,
  WorkerProcess,
} from '../../../test-support/platform';

jest.setTimeout(300_000);

/**
 * Access control as Azure does it: built-in roles assigned at subscription, resource group and resource
 * scope, inherited downward; each request authorized by its ARM action; 403 AuthorizationFailed otherwise;
 * lists show only what the caller may read. Real principals, real tokens, a real cluster.
 */
const AUTHZ_API = 'api-version=2022-04-01';
const ROLES = {
  Owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  Contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  Reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  'AKS Cluster Admin': '0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8',
  'AKS Cluster User': '4abbcc35-e782-43d8-92c5-2d3f1bd2253f',
  'AKS Contributor': 'ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8',
} as const;
type RoleName = keyof typeof ROLES;

interface Principal {
  id: string;
  appId: string;
  token: string;
}

const rg = 'authz-rg';
const otherRg = 'authz-other';
const cluster = 'authzc';

const assignmentPath = (scope: string, name: string) => `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}?${AUTHZ_API}`;

async function assign(
  scope: string,
  roleId: string,
  principalId: string,
  token?: string,
): Promise<ArmResponse<{ id: string; properties: { scope: string; roleDefinitionId: string } }>> {
  return arm('PUT', assignmentPath(scope, randomUUID()), {
    token,
    body: {
      properties: {
        roleDefinitionId: `/subscriptions/${sub()}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`,
        principalId,
        principalType: 'ServicePrincipal',
      },
    },
  });
}

describe('access control (Microsoft.Authorization)', () => {
  let worker: WorkerProcess;
  const scopes = () => ({ subscription: `/subscriptions/${sub()}`, resourceGroup: rgPath(rg), resource: clusterPath(rg, cluster) });

  beforeAll(async () => {
    worker = await startWorker();
    for (const name of [rg, otherRg]) expect((await arm('PUT', `${rgPath(name)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBeLessThan(300);
    const put = await arm('PUT', `${clusterPath(rg, cluster)}?${AKS_API}`, { body: clusterBody([{ name: 'system', count: 1 }]) });
    expect(put.status).toBe(201);
    const done = await waitForOperation(String(put.headers['azure-asyncoperation']), 180_000);
    expect(done.status).toBe('Succeeded');
  });

  afterAll(async () => {
    await worker?.stop();
  });

  it('serves the built-in role definitions with their real ids, filterable by name', async () => {
    const list = await arm<{ value: { name: string; properties: { roleName: string; permissions: { actions: string[]; notActions: string[] }[] } }[] }>(
      'GET',
      `/subscriptions/${sub()}/providers/Microsoft.Authorization/roleDefinitions?${AUTHZ_API}`,
    );
    expect(list.status).toBe(200);
    expect(Object.fromEntries(list.body.value.map((r) => [r.properties.roleName, r.name]))).toMatchObject({
      Owner: ROLES.Owner,
      Contributor: ROLES.Contributor,
      Reader: ROLES.Reader,
      'Azure Kubernetes Service Cluster Admin Role': ROLES['AKS Cluster Admin'],
      'Azure Kubernetes Service Cluster User Role': ROLES['AKS Cluster User'],
      'Azure Kubernetes Service Contributor Role': ROLES['AKS Contributor'],
    });
    const reader = await arm<{ value: { properties: { permissions: { actions: string[] }[] } }[] }>(
      'GET',
      `/subscriptions/${sub()}/providers/Microsoft.Authorization/roleDefinitions?$filter=${encodeURIComponent("roleName eq 'Reader'")}&${AUTHZ_API}`,
    );
    expect(reader.body.value).toHaveLength(1);
    expect(reader.body.value[0].properties.permissions[0].actions).toEqual(['*/read']);
    const one = await arm('GET', `${rgPath(rg)}/providers/Microsoft.Authorization/roleDefinitions/${ROLES.Contributor}?${AUTHZ_API}`);
    expect(one.status).toBe(200);
    expect((await arm('GET', `/subscriptions/${sub()}/providers/Microsoft.Authorization/roleDefinitions/${randomUUID()}?${AUTHZ_API}`)).status).toBe(404);
  });

  it('shows the bootstrap principal as Owner at the root scope', async () => {
    const list = await arm<{ value: { properties: { scope: string; principalId: string; roleDefinitionId: string } }[] }>(
      'GET',
      `/subscriptions/${sub()}/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${state().bootstrap.objectId}'`)}&${AUTHZ_API}`,
    );
    expect(list.status).toBe(200);
    expect(list.body.value.map((a) => [a.properties.scope, a.properties.roleDefinitionId])).toContainEqual([
      '/',
      `/providers/Microsoft.Authorization/roleDefinitions/${ROLES.Owner}`,
    ]);
  });

  // Expected answers on the cluster (read, write, action, delete) per role, whichever of the three scopes holds the assignment.
  const CLUSTER_MATRIX: Record<RoleName, [boolean, boolean, boolean, boolean]> = {
    Owner: [true, true, true, true],
    Contributor: [true, true, true, true],
    Reader: [true, false, false, false],
    'AKS Cluster Admin': [true, false, true, false],
    'AKS Cluster User': [true, false, false, false],
    'AKS Contributor': [true, true, true, true],
  };
  // Reading the resource group itself: only from an assignment at or above it, and only for roles with that action.
  const READS_GROUP: Record<RoleName, boolean> = {
    Owner: true,
    Contributor: true,
    Reader: true,
    'AKS Cluster Admin': false,
    'AKS Cluster User': false,
    'AKS Contributor': true,
  };
  // Assigning roles: Owner only (Contributor's notActions exclude Microsoft.Authorization/*/Write).
  const ASSIGNS: Record<RoleName, boolean> = {
    Owner: true,
    Contributor: false,
    Reader: false,
    'AKS Cluster Admin': false,
    'AKS Cluster User': false,
    'AKS Contributor': false,
  };

  for (const role of Object.keys(ROLES) as RoleName[]) {
    for (const scopeName of ['subscription', 'resourceGroup', 'resource'] as const) {
      it(`${role} at ${scopeName} scope: read / write / action / delete on the cluster, and what is outside the scope`, async () => {
        const p = await newPrincipal(`authz-${role}-${scopeName}`);
        const scope = scopes()[scopeName];
        const granted = await assign(scope, ROLES[role], p.id);
        expect(granted.status).toBe(201);
        expect(granted.body.properties.scope).toBe(scope);

        const opts = { token: p.token };
        const results = [
          await arm('GET', `${clusterPath(rg, cluster)}?${AKS_API}`, opts),
          await arm('PATCH', `${clusterPath(rg, cluster)}?${AKS_API}`, { ...opts, body: { tags: { by: p.appId } } }),
          await arm('POST', `${clusterPath(rg, cluster)}/listClusterAdminCredential?${AKS_API}`, opts),
          await arm('DELETE', `${clusterPath(rg, cluster)}/agentPools/ghost?${AKS_API}`, opts),
        ];
        const expected = CLUSTER_MATRIX[role];
        expect(results.map((r) => r.status)).toEqual([200, 200, 200, 204].map((ok, i) => (expected[i] ? ok : 403)));
        for (const r of results.filter((x) => x.status === 403)) {
          const body = r.body as { error: { code: string; message: string } };
          expect(body.error.code).toBe('AuthorizationFailed');
          expect(body.error.message).toMatch(
            new RegExp(
              `^The client '${p.appId}' with object id '${p.id}' does not have authorization to perform action 'Microsoft\\.ContainerService/managedClusters/[^']+' over scope '/subscriptions/${sub()}/resourceGroups/${rg}/providers/Microsoft\\.ContainerService/managedClusters/${cluster}[^']*' or the scope is invalid\\.`,
            ),
          );
        }

        const group = await arm('GET', `${rgPath(rg)}?${RES_API}`, opts);
        expect(group.status).toBe(READS_GROUP[role] && scopeName !== 'resource' ? 200 : 403);
        const other = await arm('GET', `${rgPath(otherRg)}?${RES_API}`, opts);
        expect(other.status).toBe(READS_GROUP[role] && scopeName === 'subscription' ? 200 : 403);

        const delegate = await newPrincipal(`authz-delegate-${role}-${scopeName}`);
        expect((await assign(scope, ROLES.Reader, delegate.id, p.token)).status).toBe(ASSIGNS[role] ? 201 : 403);
      });
    }
  }

  it('a Reader cannot list admin (or user) credentials; the Cluster User can list user credentials only', async () => {
    const reader = await newPrincipal('authz-reader-creds');
    const user = await newPrincipal('authz-user-creds');
    await assign(scopes().subscription, ROLES.Reader, reader.id);
    await assign(scopes().resource, ROLES['AKS Cluster User'], user.id);
    const post = (p: Principal, action: string) =>
      arm<{ error?: { code: string } }>('POST', `${clusterPath(rg, cluster)}/${action}?${AKS_API}`, { token: p.token });
    const denied = await post(reader, 'listClusterAdminCredential');
    expect(denied.status).toBe(403);
    expect(denied.body.error?.code).toBe('AuthorizationFailed');
    expect((await post(reader, 'listClusterUserCredential')).status).toBe(403);
    expect((await post(user, 'listClusterUserCredential')).status).toBe(200);
    expect((await post(user, 'listClusterAdminCredential')).status).toBe(403);
  });

  it('a principal without any role gets 403 everywhere and sees no subscription', async () => {
    const nobody = await newPrincipal('authz-nobody');
    const subs = await arm<{ value: unknown[] }>('GET', `/subscriptions?${RES_API}`, { token: nobody.token });
    expect(subs.status).toBe(200);
    expect(subs.body.value).toEqual([]);
    for (const [method, path] of [
      ['GET', `/subscriptions/${sub()}?${RES_API}`],
      ['GET', `/subscriptions/${sub()}/resourcegroups?${RES_API}`],
      ['GET', `${clusterPath(rg, cluster)}?${AKS_API}`],
      ['PUT', `${rgPath('authz-new')}?${RES_API}`],
    ]) {
      expect((await arm(method, path, { token: nobody.token, body: method === 'PUT' ? { location: 'eastus' } : undefined })).status).toBe(403);
    }
  });

  it('lists show only what the caller may read', async () => {
    const scoped = await newPrincipal('authz-list');
    await assign(scopes().resourceGroup, ROLES.Reader, scoped.id);
    const groups = await arm<{ value: { name: string }[]; nextLink?: string }>('GET', `/subscriptions/${sub()}/resourcegroups?${RES_API}`, {
      token: scoped.token,
    });
    expect(groups.status).toBe(200);
    // Pages are small in the test platform (PAGE_SIZE 2): follow nextLink.
    const names: string[] = groups.body.value.map((g) => g.name);
    let next = groups.body.nextLink;
    while (next) {
      const page = await arm<{ value: { name: string }[]; nextLink?: string }>('GET', next, { token: scoped.token });
      names.push(...page.body.value.map((g) => g.name));
      next = page.body.nextLink;
    }
    expect(names).toEqual([rg]);
    const clusters = await arm<{ value: { name: string }[] }>(
      'GET',
      `/subscriptions/${sub()}/providers/Microsoft.ContainerService/managedClusters?${AKS_API}`,
      { token: scoped.token },
    );
    expect(clusters.body.value.map((c) => c.name)).toEqual([cluster]);
    const subs = await arm<{ value: { subscriptionId: string }[] }>('GET', `/subscriptions?${RES_API}`, { token: scoped.token });
    expect(subs.body.value.map((s) => s.subscriptionId)).toEqual([sub()]);
  });

  it('role assignments: GET, idempotent PUT, conflicts, validation, DELETE (200 then 204); access ends with the assignment', async () => {
    const p = await newPrincipal('authz-lifecycle');
    const name = randomUUID();
    const body = {
      properties: { roleDefinitionId: `/subscriptions/${sub()}/providers/Microsoft.Authorization/roleDefinitions/${ROLES.Reader}`, principalId: p.id },
    };
    const path = assignmentPath(rgPath(rg), name);
    expect((await arm('PUT', path, { body })).status).toBe(201);
    expect((await arm('PUT', path, { body })).status).toBe(200);
    const got = await arm<{ id: string; name: string; type: string; properties: { principalType: string } }>('GET', path);
    expect(got.body).toMatchObject({
      id: `${rgPath(rg)}/providers/Microsoft.Authorization/roleAssignments/${name}`,
      name,
      type: 'Microsoft.Authorization/roleAssignments',
      properties: { principalType: 'ServicePrincipal' },
    });
    expect((await arm('GET', `${rgPath(rg)}?${RES_API}`, { token: p.token })).status).toBe(200);

    const twin = await arm<{ error: { code: string } }>('PUT', assignmentPath(rgPath(rg), randomUUID()), { body });
    expect([twin.status, twin.body.error.code]).toEqual([409, 'RoleAssignmentExists']);
    const cases: [unknown, string, number][] = [
      [
        { properties: { ...body.properties, roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${randomUUID()}` } },
        'RoleDefinitionDoesNotExist',
        400,
      ],
      [{ properties: { ...body.properties, principalId: randomUUID() } }, 'PrincipalNotFound', 400],
      [{ properties: { ...body.properties, principalId: 'nope' } }, 'InvalidPrincipalId', 400],
      [{}, 'InvalidRequestContent', 400],
    ];
    for (const [b, code, status] of cases) {
      const r = await arm<{ error: { code: string } }>('PUT', assignmentPath(rgPath(rg), randomUUID()), { body: b });
      expect([r.status, r.body.error.code]).toEqual([status, code]);
    }
    const badName = await arm<{ error: { code: string } }>('PUT', assignmentPath(rgPath(rg), 'not-a-guid'), { body });
    expect([badName.status, badName.body.error.code]).toEqual([400, 'InvalidRoleAssignmentId']);
    const missingRg = await arm<{ error: { code: string } }>('PUT', assignmentPath(rgPath('authz-missing'), randomUUID()), { body });
    expect([missingRg.status, missingRg.body.error.code]).toEqual([404, 'ResourceGroupNotFound']);

    expect((await arm('DELETE', path)).status).toBe(200);
    expect((await arm('DELETE', path)).status).toBe(204);
    expect((await arm('GET', path)).status).toBe(404);
    expect((await arm('GET', `${rgPath(rg)}?${RES_API}`, { token: p.token })).status).toBe(403);
  });

  it('concurrent PUTs of one assignment, and of twins under other names, answer one 201 and the rest 200 or 409: never a 5xx', async () => {
    const p = await newPrincipal('authz-race');
    const body = {
      properties: { roleDefinitionId: `/subscriptions/${sub()}/providers/Microsoft.Authorization/roleDefinitions/${ROLES.Reader}`, principalId: p.id },
    };
    const name = randomUUID();
    const same = await Promise.all(Array.from({ length: 8 }, () => arm('PUT', assignmentPath(rgPath(rg), name), { body })));
    expect(same.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);

    const twinBody = { properties: { ...body.properties, roleDefinitionId: body.properties.roleDefinitionId.replace(ROLES.Reader, ROLES.Contributor) } };
    const names = Array.from({ length: 8 }, () => randomUUID());
    const twins = await Promise.all(names.map((n) => arm<{ error?: { code: string } }>('PUT', assignmentPath(rgPath(rg), n), { body: twinBody })));
    expect(twins.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of twins.filter((t) => t.status !== 201)) expect([r.status, r.body.error?.code]).toEqual([409, 'RoleAssignmentExists']);
    for (const n of [name, ...names]) expect((await arm('DELETE', assignmentPath(rgPath(rg), n))).status).toBeLessThan(300);
  });

  it('a role assignment changed outside this API process (straight in Postgres) applies within moments: grants are cached only while Postgres announces changes', async () => {
    const p = await newPrincipal('authz-outside');
    const groupRead = async (): Promise<number> => (await arm('GET', `${rgPath(rg)}?${RES_API}`, { token: p.token })).status;
    const settle = async (want: number): Promise<number> => {
      const until = Date.now() + 5_000;
      let got = await groupRead();
      while (got !== want && Date.now() < until) {
        await sleep(50);
        got = await groupRead();
      }
      return got;
    };
    expect(await groupRead()).toBe(403); // and this principal's (empty) grants are now cached
    const db = new Client({ connectionString: state().databaseUrl });
    await db.connect();
    try {
      const id = randomUUID();
      await db.query(
        `INSERT INTO role_assignments (id, scope, scope_key, role_definition_id, principal_id, principal_type, created_by)
         VALUES ($1, $2, lower($2), $3, $4, 'ServicePrincipal', 'test')`,
        [id, rgPath(rg), ROLES.Reader, p.id],
      );
      expect(await settle(200)).toBe(200);
      expect(await groupRead()).toBe(200); // cached again, now with the Reader role
      await db.query('DELETE FROM role_assignments WHERE id = $1', [id]);
      expect(await settle(403)).toBe(403);
    } finally {
      await db.end();
    }
  });
});
