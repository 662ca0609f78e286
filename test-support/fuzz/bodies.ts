import { join } from 'node:path';
import { CONTENT_TYPES, expandDeep, randomString, rawJunkBody } from './inputs';
import { Rng } from './rng';
import { mutate, Mutation, NamedValue, Schema, SwaggerShapes } from './swagger-shapes';

const SPECS = '/work/shared/azure-specs/specification';
/** The saved real Azure REST specs (see shared/azure-specs/SOURCES.md); CERULEAN_AZURE_SPECS overrides the folder. */
export const specsRoot = (): string => process.env.CERULEAN_AZURE_SPECS ?? SPECS;
const AKS = (): string => join(specsRoot(), 'containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-10-01/managedClusters.json');
const DEPLOYMENTS = (): string => join(specsRoot(), 'resources/resource-manager/Microsoft.Resources/deployments/stable/2026-09-01/deployments.json');

/**
 * ResourceGroup and RoleAssignment: their specs (resources.json, authorization's roleAssignmentsCalls.json) are
 * not among the saved ones, so their request shapes are written here as those specs define them.
 */
const RESOURCE_GROUP: Schema = {
  type: 'object',
  required: ['location'],
  properties: {
    id: { type: 'string', readOnly: true },
    name: { type: 'string', readOnly: true },
    type: { type: 'string', readOnly: true },
    properties: { type: 'object', properties: { provisioningState: { type: 'string', readOnly: true } } },
    location: { type: 'string' },
    managedBy: { type: 'string' },
    tags: { type: 'object', additionalProperties: { type: 'string' } },
  },
};
const ROLE_ASSIGNMENT: Schema = {
  type: 'object',
  required: ['properties'],
  properties: {
    properties: {
      type: 'object',
      required: ['roleDefinitionId', 'principalId'],
      properties: {
        scope: { type: 'string', readOnly: true },
        roleDefinitionId: { type: 'string' },
        principalId: { type: 'string' },
        principalType: { type: 'string', enum: ['User', 'Group', 'ServicePrincipal', 'ForeignGroup', 'Device'] },
        description: { type: 'string' },
        condition: { type: 'string' },
        conditionVersion: { type: 'string' },
        createdOn: { type: 'string', format: 'date-time', readOnly: true },
        delegatedManagedIdentityResourceId: { type: 'string' },
      },
    },
  },
};

/** The names the fuzz may create things under: at most a handful of node containers ever exist. */
export interface Tiny {
  resourceGroup: string;
  clusters: readonly string[];
  pools: readonly string[];
  /** Ids the body generator uses where a real one reaches deeper code. */
  subscriptionId: string;
  principalId: string;
  roleDefinitionIds: readonly string[];
}

export const CLUSTER_NAME = /^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$/;
export const POOL_NAME = /^[a-z][a-z0-9]{0,11}$/;
export const GROUP_NAME = /^[-\w._()]{1,90}$/;

/** Node counts: mostly 0..2, plus values ARM refuses. Never a valid count above 2. */
export function nodeCount(rng: Rng): unknown {
  return rng.weighted<unknown>([
    [6, 0],
    [8, 1],
    [6, 2],
    [1, -1],
    [1, 1001],
    [1, 1e9],
    [1, 1.5],
    [1, '2'],
    [1, null],
    [1, 2 ** 53 + 2],
  ]);
}

const TEMPLATE_EXPRESSIONS = [
  '[div(1, 0)]',
  '[mod(1, 0)]',
  "[int('x')]",
  "[int('99999999999999999999999')]",
  "[json('{')]",
  "[base64ToString('!!')]",
  '[first(createArray())]',
  "[last('')]",
  "[skip('abc', -1)]",
  '[take(createArray(1), 1e308)]',
  "[substring('abc', 2, 5)]",
  "[split('a', '')]",
  '[string(null())]',
  "[parameters('missing')]",
  "[variables('v')]",
  "[reference('x').y]",
  "[resourceId('a')]",
  '[concat()]',
  "[union(json('null'), createArray())]",
  '[utcNow()]',
  '[guid()]',
  '[uniqueString()]',
  "[format('{0}{1}', 'a')]",
  "[dataUri('x')]",
  "[uri('not a uri', 'x')]",
  '[if(true(), 1)]',
  '[coalesce()]',
  '[equals(1)]',
  "[greater('a', 1)]",
  '[length(1)]',
  '[contains(1, 2)]',
  '[empty(1)]',
  '[indexOf(1, 1)]',
  "[replace('a', '', 'b')]",
  '[toLower(1)]',
  "[trim(json('{}'))]",
  "[array(json('{}'))]",
  "[createObject('a')]",
  '[items(1)]',
  '[min()]',
  '[max(createArray())]',
  '[range(1e308, 1)]',
  '[range(0, 5000)]',
  "[padLeft('a', 20000, 'b')]",
  "[dateTimeAdd('x', 'PT1H')]",
  '[base64(null())]',
  "[parameters('p')]",
  "[concat(parameters('p'), variables('v'))]",
  '[resourceGroup().location]',
  '[subscription().subscriptionId]',
  '[deployment().name]',
  '[[literal]',
  '[',
  '[]',
  '[)]',
  "[concat('a'",
  "[parameters('p')[0]]",
  "[parameters('p').x.y]",
  '[json(\'{"a":1}\').a]',
  '[copyIndex()]',
  "[listKeys('x', '1')]",
];

export interface GeneratedBody {
  /** The body's text, or undefined for none. */
  text?: string;
  contentType?: string;
  /** What was done to it, for the failure report. */
  note: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Request bodies from the real specs' shapes: valid-looking ones, mutated ones, and raw junk. */
export class BodyFactory {
  private readonly shapes: SwaggerShapes;

  constructor(private readonly tiny: Tiny) {
    const named: NamedValue = (key, path, rng) => {
      if (/count$/i.test(key)) return { value: nodeCount(rng) };
      if (/^maxSurge$|^maxUnavailable$/i.test(key)) return { value: rng.pick(['1', '0', '50%', '200%', '-1', 'x', 1]) };
      if (key === 'name' && /agentPoolProfiles\[\d+\]\.name$/.test(path)) return { value: rng.chance(0.85) ? rng.pick(tiny.pools) : randomString(rng, 64) };
      if (key === 'vmSize' && rng.chance(0.8)) return { value: rng.pick(['Standard_DS2_v2', 'Standard_D2s_v3', 'standard_ds2_v2', 'Standard_B1s']) };
      if (/^(kubernetesVersion|orchestratorVersion)$/.test(key) && rng.chance(0.7))
        return { value: rng.pick(['1.33', '1.32', '1.31.2', '1.99', 'latest', '']) };
      if (key === 'location' && rng.chance(0.8)) return { value: rng.pick(['eastus', 'East US', 'westeurope', 'EASTUS', 'nowhere']) };
      if (key === 'roleDefinitionId' && rng.chance(0.8)) return { value: rng.pick(tiny.roleDefinitionIds) };
      if (key === 'principalId' && rng.chance(0.7)) return { value: tiny.principalId };
      if (key === 'mode' && /agentPoolProfiles\[0\]\.mode$/.test(path) && rng.chance(0.7)) return { value: 'System' };
      if (key === 'osType' && rng.chance(0.7)) return { value: 'Linux' };
      if (key === 'enableAutoScaling' && rng.chance(0.8)) return { value: false };
      if (key === 'dnsPrefix' && rng.chance(0.8)) return { value: 'fuzz' };
      if (key === 'template') return { value: this.template(rng) };
      if (key === 'mode' && path === 'properties.mode' && rng.chance(0.8)) return { value: rng.pick(['Incremental', 'Incremental', 'Complete']) };
      return undefined;
    };
    this.shapes = new SwaggerShapes(named);
  }

  /** The body of a request to `template` with `method` (a route's own shape, or a random one for others). */
  body(rng: Rng, method: string, template: string): GeneratedBody {
    const kind = this.kindOf(method, template);
    if (kind === 'token') return this.tokenForm(rng);
    const wantsBody = ['PUT', 'PATCH', 'POST'].includes(method);
    const mode = rng.weighted([
      [wantsBody ? 5 : 1, 'valid'],
      [wantsBody ? 6 : 1, 'spec'],
      [2, 'junk'],
      [wantsBody ? 1 : 8, 'none'],
    ] as const);
    if (mode === 'none') return { note: 'no body' };
    if (mode === 'junk') return { text: rawJunkBody(rng), contentType: this.contentType(rng), note: 'raw junk' };
    let value: unknown = mode === 'valid' ? this.valid(kind, rng) : this.shapes.generate(this.shapeOf(kind), rng);
    if (mode === 'valid' && rng.chance(0.5)) value = merge(value, this.shapes.generate(this.shapeOf(kind), rng));
    const mutations: Mutation[] = mutate(
      rng,
      value,
      rng.weighted([
        [3, 0],
        [4, 1],
        [2, 2],
        [1, 4],
      ] as const),
    );
    value = this.tame(value, rng);
    const text = expandDeep(JSON.stringify(value) ?? 'null');
    return {
      text: rng.chance(0.03) ? text.replace(/}$/, ',}') : text,
      contentType: rng.chance(0.9) ? 'application/json' : this.contentType(rng),
      note: `${mode} ${kind}${mutations.length ? `; mutated ${mutations.map((m) => `${m.path}=${m.kind}`).join(', ')}` : ''}`,
    };
  }

  private contentType(rng: Rng): string | undefined {
    return rng.chance(0.1) ? undefined : rng.pick(CONTENT_TYPES);
  }

  private kindOf(method: string, template: string): string {
    const t = template.toLowerCase();
    if (/oauth2\/(v2\.0\/)?token$/.test(t)) return 'token';
    if (t.endsWith('managedclusters/:resourcename')) return method === 'PATCH' ? 'tags' : 'cluster';
    if (t.endsWith('agentpools/:agentpoolname')) return 'pool';
    if (t.endsWith('resourcegroups/:resourcegroupname')) return method === 'PATCH' ? 'group-patch' : 'group';
    if (/deployments\/:deploymentname(\/(validate|whatif))?$/.test(t)) return 'deployment';
    if (t.endsWith('roleassignments/:roleassignmentname')) return 'role-assignment';
    if (t.endsWith('/runcommand')) return 'run-command';
    if (t === 'v1.0/serviceprincipals') return 'principal';
    if (t.endsWith('/addpassword')) return 'add-password';
    if (t.endsWith('/removepassword')) return 'remove-password';
    return rng0(template) ? 'cluster' : 'deployment';
  }

  private shapeOf(kind: string) {
    switch (kind) {
      case 'cluster':
        return this.shapes.definition(AKS(), 'ManagedCluster');
      case 'tags':
        return this.shapes.definition(AKS(), 'TagsObject');
      case 'pool':
        return this.shapes.definition(AKS(), 'AgentPool');
      case 'run-command':
        return this.shapes.definition(AKS(), 'RunCommandRequest');
      case 'deployment':
        return this.shapes.definition(DEPLOYMENTS(), 'Deployment');
      case 'group':
      case 'group-patch':
        return this.shapes.inline(RESOURCE_GROUP, AKS());
      case 'role-assignment':
        return this.shapes.inline(ROLE_ASSIGNMENT, AKS());
      default:
        return this.shapes.inline(
          {
            type: 'object',
            properties: {
              displayName: { type: 'string' },
              keyId: { type: 'string', format: 'uuid' },
              passwordCredential: { type: 'object', properties: { displayName: { type: 'string' }, endDateTime: { type: 'string', format: 'date-time' } } },
            },
          },
          AKS(),
        );
    }
  }

  /** A body the route would accept as it is, before any mutation. */
  private valid(kind: string, rng: Rng): unknown {
    const tags = rng.chance(0.3) ? { [randomString(rng, 40)]: randomString(rng, 40) } : { env: 'fuzz' };
    switch (kind) {
      case 'cluster':
        return {
          location: 'eastus',
          tags,
          properties: {
            dnsPrefix: 'fuzz',
            agentPoolProfiles: [
              { name: 'system', count: rng.pick([1, 1, 2]), vmSize: 'Standard_DS2_v2', mode: 'System', osType: 'Linux' },
              ...(rng.chance(0.3)
                ? [{ name: rng.pick(this.tiny.pools), count: nodeCount(rng), vmSize: 'Standard_DS2_v2', mode: 'User', osType: 'Linux' }]
                : []),
            ],
          },
        };
      case 'tags':
        return { tags };
      case 'pool':
        return { properties: { count: nodeCount(rng), mode: rng.pick(['User', 'System']), vmSize: 'Standard_D2s_v3', osType: 'Linux' } };
      case 'group':
      case 'group-patch':
        return { location: 'eastus', tags };
      case 'deployment':
        return {
          properties: { mode: 'Incremental', template: this.template(rng), parameters: rng.chance(0.5) ? { p: { value: randomString(rng, 64) } } : {} },
        };
      case 'role-assignment':
        return {
          properties: { roleDefinitionId: rng.pick(this.tiny.roleDefinitionIds), principalId: this.tiny.principalId, principalType: 'ServicePrincipal' },
        };
      case 'run-command':
        return {
          command: rng.pick(['kubectl get nodes', 'kubectl version', randomString(rng, 300)]),
          ...(rng.chance(0.2) ? { context: randomString(rng, 200) } : {}),
        };
      case 'principal':
        return { displayName: rng.chance(0.8) ? `fuzz-${rng.int(0, 3)}` : randomString(rng, 400) };
      case 'add-password':
        return { passwordCredential: { displayName: randomString(rng, 50), endDateTime: rng.pick(['2099-01-01T00:00:00Z', '2000-01-01', 'x', '']) } };
      case 'remove-password':
        return { keyId: rng.chance(0.5) ? '00000000-0000-0000-0000-000000000000' : randomString(rng, 100) };
      default:
        return {};
    }
  }

  /** An ARM template whose resources may only be the tiny set's cluster and pools. */
  private template(rng: Rng): unknown {
    const expr = (): string => rng.pick(TEMPLATE_EXPRESSIONS);
    const resources: unknown[] = [];
    if (rng.chance(0.5)) {
      const cluster = (): unknown => (this.shapes.generate(this.shapes.definition(AKS(), 'ManagedCluster'), rng) as { properties?: unknown }).properties ?? {};
      resources.push({
        type: 'Microsoft.ContainerService/managedClusters',
        apiVersion: rng.pick(['2026-06-01', '2024-02-01', '2099-01-01']),
        name: rng.chance(0.9) ? rng.pick(this.tiny.clusters) : expr(),
        location: rng.chance(0.8) ? 'eastus' : expr(),
        properties: rng.chance(0.5) ? (this.valid('cluster', rng) as { properties: unknown }).properties : cluster(),
      });
    }
    if (rng.chance(0.3)) {
      resources.push({
        type: 'Microsoft.ContainerService/managedClusters/agentPools',
        apiVersion: '2026-06-01',
        name: `${rng.pick(this.tiny.clusters)}/${rng.pick(this.tiny.pools)}`,
        properties: (this.valid('pool', rng) as { properties: unknown }).properties,
        ...(rng.chance(0.3) ? { dependsOn: [rng.pick(this.tiny.clusters), expr()] } : {}),
      });
    }
    if (rng.chance(0.15)) resources.push({ type: randomString(rng, 60), apiVersion: '2020-01-01', name: randomString(rng, 60), properties: { x: expr() } });
    if (rng.chance(0.1))
      resources.push({
        type: 'Microsoft.Authorization/roleAssignments',
        apiVersion: '2022-04-01',
        name: '00000000-0000-0000-0000-000000000001',
        properties: this.valid('role-assignment', rng),
      });
    return {
      $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
      contentVersion: rng.chance(0.9) ? '1.0.0.0' : randomString(rng, 20),
      parameters: {
        p: {
          type: rng.pick(['string', 'int', 'object', 'array', 'securestring', 'bool', 'x']),
          defaultValue: rng.chance(0.5) ? expr() : randomString(rng, 30),
        },
      },
      variables: { v: rng.chance(0.5) ? expr() : { a: [expr()] } },
      resources,
      outputs: rng.chance(0.6) ? { o: { type: rng.pick(['string', 'int', 'object', 'array', 'bool']), value: expr() } } : {},
    };
  }

  private tokenForm(rng: Rng): GeneratedBody {
    const form = new URLSearchParams();
    if (rng.chance(0.9))
      form.set('grant_type', rng.pick(['client_credentials', 'client_credentials', 'password', 'authorization_code', randomString(rng, 50)]));
    if (rng.chance(0.8)) form.set('client_id', rng.chance(0.5) ? '00000000-0000-0000-0000-000000000000' : randomString(rng, 200));
    if (rng.chance(0.7)) form.set('client_secret', randomString(rng, 200));
    if (rng.chance(0.7))
      form.set(
        'scope',
        rng.pick(['https://management.core.windows.net//.default', 'https://management.azure.com/.default', '.default', randomString(rng, 200)]),
      );
    if (rng.chance(0.3)) form.set('resource', rng.pick(['https://management.core.windows.net/', randomString(rng, 200)]));
    const text = rng.chance(0.85) ? form.toString() : rng.chance(0.5) ? rawJunkBody(rng) : `${form.toString()}&%zz=%&a=%E0%A4%A`;
    return { text, contentType: rng.chance(0.85) ? 'application/x-www-form-urlencoded' : this.contentType(rng), note: 'token form' };
  }

  /**
   * Whatever the mutations did, nothing may ask for more than a handful of nodes or name a cluster or pool
   * outside the tiny set: valid counts above 2, count expressions, big surges and foreign names are put back.
   */
  private tame(value: unknown, rng: Rng, depth = 0, path = ''): unknown {
    if (depth > 64) return value;
    if (Array.isArray(value)) return value.map((v, i) => this.tame(v, rng, depth + 1, `${path}[${i}]`));
    if (!isObject(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      let next = this.tame(v, rng, depth + 1, path ? `${path}.${k}` : k);
      if (/count$/i.test(k) && ((typeof next === 'number' && Number.isInteger(next) && next > 2 && next <= 1000) || typeof next === 'string')) next = 1;
      if (/^(maxSurge|maxUnavailable)$/i.test(k) && typeof next === 'string' && /^\d+%?$/.test(next) && parseInt(next, 10) > 2) next = '1';
      if (k === 'name' && typeof next === 'string' && /agentPoolProfiles\[\d+\]$/.test(path) && POOL_NAME.test(next) && !this.tiny.pools.includes(next))
        next = rng.pick(this.tiny.pools);
      out[k] = next;
    }
    // A template resource of the cluster or pool types keeps the tiny set's names (or an invalid one).
    if (typeof out.type === 'string' && /managedclusters/i.test(out.type) && typeof out.name === 'string') {
      const parts = out.name.split('/');
      const fixed = parts.map((p, i) =>
        i === 0
          ? CLUSTER_NAME.test(p) && !this.tiny.clusters.includes(p.toLowerCase())
            ? rng.pick(this.tiny.clusters)
            : p
          : POOL_NAME.test(p) && !this.tiny.pools.includes(p)
            ? rng.pick(this.tiny.pools)
            : p,
      );
      out.name = fixed.join('/');
    }
    // `copy` loops multiply resources; nested deployments reach other groups.
    if ('copy' in out) out.copy = { name: 'c', count: 1 };
    if (typeof out.type === 'string' && /deployments/i.test(out.type)) out.type = 'Microsoft.Fuzz/notDeployments';
    return out;
  }
}

/** Deep merge of b into a (b's scalars win; arrays are replaced). */
function merge(a: unknown, b: unknown): unknown {
  if (!isObject(a) || !isObject(b)) return b === undefined ? a : b;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in a ? merge(a[k], v) : v;
  return out;
}

/** Routes with no body shape of their own get a cluster's or a deployment's, by a fixed choice per route. */
function rng0(template: string): boolean {
  let h = 0;
  for (const c of template) h = (h * 31 + c.charCodeAt(0)) | 0;
  return (h & 1) === 0;
}
