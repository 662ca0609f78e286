import { createHash } from 'node:crypto';
import { request } from 'node:https';
import { gunzipSync } from 'node:zlib';
import { apiVersionOf, RESOURCE_TYPES } from '@cerulean/kube';
import { Harness, startHarness } from './harness';

jest.setTimeout(180_000);

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

type Doc = { components: { schemas: Record<string, Record<string, unknown>> }; paths: Record<string, unknown> };
type Gvk = { group: string; version: string; kind: string };

/** The field names and types `kubectl explain` lists at one indentation (`  name\t<type>`). */
const fieldsAt = (out: string, indent: number) =>
  [...out.matchAll(new RegExp(`^ {${indent}}(\\w+)\\t<([^>]+)>`, 'gm'))].map((m) => [m[1], m[2]] as [string, string]);

/** Every `$ref` target in a document. */
function refsOf(value: unknown): string[] {
  const out: string[] = [];
  JSON.stringify(value, (k, v: unknown) => {
    if (k === '$ref') out.push(String(v));
    return v;
  });
  return out;
}

describe('OpenAPI documents read by kubectl', () => {
  let h: Harness;
  let index: { paths: Record<string, { serverRelativeURL: string }> };

  /** A raw GET as the admin, without any of kubectl's caching. */
  const get = (path: string, headers: Record<string, string> = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = request(
        new URL(path, h.server.url),
        { method: 'GET', ca: h.ca.certPem, cert: h.admin.certPem, key: h.admin.keyPem, headers: { Accept: 'application/json', ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
  const getJson = async <T>(path: string): Promise<T> => {
    const r = await get(path);
    expect(r.status).toBe(200);
    return JSON.parse(r.body.toString('utf8')) as T;
  };
  const docOf = (gv: string) => getJson<Doc>(index.paths[gv].serverRelativeURL);
  const schemaOf = (doc: Doc, g: Gvk) =>
    Object.values(doc.components.schemas).find((s) =>
      ((s['x-kubernetes-group-version-kind'] as Gvk[] | undefined) ?? []).some((x) => x.group === g.group && x.version === g.version && x.kind === g.kind),
    );

  beforeAll(async () => {
    h = await startHarness({}, []);
    index = await getJson('/openapi/v3');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('explains pods with upstream descriptions and fields', async () => {
    const out = (await h.kubectl(['explain', 'pods'])).stdout;
    expect(out).toMatch(/^KIND:\s+Pod$/m);
    expect(out).toMatch(/^VERSION:\s+v1$/m);
    expect(out).toContain('Pod is a collection of containers that can run on a host.');
    expect(fieldsAt(out, 2)).toEqual([
      ['apiVersion', 'string'],
      ['kind', 'string'],
      ['metadata', 'ObjectMeta'],
      ['spec', 'PodSpec'],
      ['status', 'PodStatus'],
    ]);
    expect(out).toContain('Specification of the desired behavior of the pod.');
  });

  it('explains a nested list field: deployment.spec.template.spec.containers', async () => {
    const out = (await h.kubectl(['explain', 'deployment.spec.template.spec.containers'])).stdout;
    expect(out).toMatch(/^GROUP:\s+apps$/m);
    expect(out).toMatch(/^KIND:\s+Deployment$/m);
    expect(out).toMatch(/^FIELD: containers <\[\]Container>$/m);
    expect(out).toContain('List of containers belonging to the pod.');
    const fields = fieldsAt(out, 2);
    expect(fields).toContainEqual(['image', 'string']);
    expect(fields).toContainEqual(['ports', '[]ContainerPort']);
    expect(fields).toContainEqual(['resources', 'ResourceRequirements']);
    expect(out).toMatch(/^ {2}name\t<string> -required-$/m);
    // Exactly the properties the served schema has, so the listing is the document's and not a fixed list.
    const container = (await docOf('apis/apps/v1')).components.schemas['io.k8s.api.core.v1.Container'];
    expect(fields.map(([n]) => n)).toEqual(Object.keys(container.properties as object).sort());
  });

  it('explains recursively down to the containers of a deployment', async () => {
    const out = (await h.kubectl(['explain', '--recursive', 'deployment'])).stdout;
    expect(out).toMatch(/^KIND:\s+Deployment$/m);
    expect(out).toMatch(/^ {2}spec\t<DeploymentSpec>$/m);
    expect(out).toMatch(/^ {4}template\t<PodTemplateSpec> -required-$/m);
    expect(out).toMatch(/^ {8}containers\t<\[\]Container> -required-$/m);
    expect(out).toMatch(/^ {10}image\t<string>$/m);
    expect(out).toMatch(/^ {6}matchLabels\t<map\[string\]string>$/m);
    expect(out.split('\n').length).toBeGreaterThan(500);
  });

  it('explains cronjobs of batch/v1 and their schedule', async () => {
    const out = (await h.kubectl(['explain', 'cronjobs', '--api-version=batch/v1'])).stdout;
    expect(out).toMatch(/^GROUP:\s+batch$/m);
    expect(out).toMatch(/^KIND:\s+CronJob$/m);
    expect(out).toMatch(/^VERSION:\s+v1$/m);
    expect(out).toContain('CronJob represents the configuration of a single cron job.');
    expect(fieldsAt(out, 2).map(([n]) => n)).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    const schedule = (await h.kubectl(['explain', 'cronjobs.spec.schedule', '--api-version=batch/v1'])).stdout;
    expect(schedule).toMatch(/^FIELD: schedule <string>$/m);
    expect(schedule).toContain('The schedule in Cron format');
  });

  it("answers an unknown field with kubectl's error", async () => {
    const r = await h.kubectl(['explain', 'pods.spec.nosuch'], { allowFail: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('error: field "nosuch" does not exist');
  });

  it('has a schema for every served kind in its group-version document, and kubectl explains each', async () => {
    for (const rt of RESOURCE_TYPES) {
      const gv = rt.group ? `apis/${rt.group}/${rt.version}` : `api/${rt.version}`;
      expect(index.paths[gv]).toBeDefined();
      const schema = schemaOf(await docOf(gv), rt);
      expect({ kind: apiVersionOf(rt) + '/' + rt.kind, found: !!schema }).toEqual({ kind: apiVersionOf(rt) + '/' + rt.kind, found: true });
      expect(String(schema?.description)).not.toBe('');
      expect(Object.keys(schema?.properties as object)).toEqual(expect.arrayContaining(['apiVersion', 'kind', 'metadata']));
      const out = (await h.kubectl(['explain', rt.plural, `--api-version=${apiVersionOf(rt)}`])).stdout;
      expect(out).toMatch(new RegExp(`^KIND:\\s+${rt.kind}$`, 'm'));
      expect(out).toMatch(new RegExp(`^VERSION:\\s+${rt.version}$`, 'm'));
      expect(out).toContain(String(schema?.description).split('\n')[0].split(' ').slice(0, 4).join(' '));
    }
  });

  it('serves self-contained documents whose paths and schemas carry the upstream markers', async () => {
    for (const [gv, { serverRelativeURL }] of Object.entries(index.paths)) {
      const doc = await getJson<Doc>(serverRelativeURL);
      const dangling = refsOf(doc).filter((r) => !r.startsWith('#/components/schemas/') || !doc.components.schemas[r.slice('#/components/schemas/'.length)]);
      expect({ gv, dangling }).toEqual({ gv, dangling: [] });
      // Nothing unreachable either: a document carries what its roots need, not the whole API.
      expect(Object.keys(doc.components.schemas).length).toBeLessThan(320);
    }
    const apps = await docOf('apis/apps/v1');
    const podSpec = apps.components.schemas['io.k8s.api.core.v1.PodSpec'].properties as Record<string, Record<string, unknown>>;
    expect(podSpec.containers).toMatchObject({
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      'x-kubernetes-patch-merge-key': 'name',
      'x-kubernetes-patch-strategy': 'merge',
      items: { $ref: '#/components/schemas/io.k8s.api.core.v1.Container', default: {} },
    });
    expect(apps.components.schemas['io.k8s.api.core.v1.PodSpec'].required).toEqual(['containers']);
    const deployment = apps.components.schemas['io.k8s.api.apps.v1.Deployment'].properties as Record<string, Record<string, unknown>>;
    expect(deployment.metadata).toMatchObject({ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', default: {} });
    const port = apps.components.schemas['io.k8s.api.core.v1.ContainerPort'].properties as Record<string, Record<string, unknown>>;
    expect(port.containerPort).toMatchObject({ type: 'integer', format: 'int32' });
    expect(port.protocol).toMatchObject({ type: 'string', default: 'TCP' });
    expect(apps.components.schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString']).toMatchObject({ type: 'string', format: 'int-or-string' });
    // The scale subresource reads and writes autoscaling/v1 Scale; lists answer the List kind.
    const scale = (apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'] as Record<string, unknown>).get;
    expect(JSON.stringify(scale)).toContain('#/components/schemas/io.k8s.api.autoscaling.v1.Scale');
    const list = (apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments'] as Record<string, unknown>).get;
    expect(JSON.stringify(list)).toContain('#/components/schemas/io.k8s.api.apps.v1.DeploymentList');
    expect(JSON.stringify(apps.paths)).toContain('"name":"fieldValidation"');
  });

  it('caches by hash and ETag, answers If-None-Match with 304, gzips when asked and redirects a stale hash', async () => {
    const url = index.paths['api/v1'].serverRelativeURL;
    const hash = new URL(url, h.server.url).searchParams.get('hash');
    const plain = await get(url);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(createHash('sha512').update(plain.body).digest('hex').toUpperCase()).toBe(hash);
    expect(plain.headers.etag).toBe(`"${hash}"`);
    expect(plain.headers['cache-control']).toContain('immutable');
    const zipped = await get(url, { 'Accept-Encoding': 'gzip' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.body.length).toBeLessThan(plain.body.length / 4);
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
    const notModified = await get('/openapi/v3/api/v1', { 'If-None-Match': `"${hash}"` });
    expect(notModified.status).toBe(304);
    expect(notModified.body.length).toBe(0);
    expect((await get('/openapi/v3/api/v1', { 'If-None-Match': '"other"' })).status).toBe(200);
    const stale = await get('/openapi/v3/api/v1?hash=0123');
    expect(stale.status).toBe(301);
    expect(stale.headers.location).toBe(url);
    const idx = await get('/openapi/v3');
    expect((await get('/openapi/v3', { 'If-None-Match': String(idx.headers.etag) })).status).toBe(304);
    expect((await get('/openapi/v3/apis/nosuch.k8s.io/v1')).status).toBe(404);
  });

  it('explains through swagger 2.0 in protobuf, as older clients read it', async () => {
    const out = (await h.kubectl(['explain', 'pods.spec.containers.ports', '--output=plaintext-openapiv2'])).stdout;
    expect(out).toMatch(/^RESOURCE: ports <\[\]Object>$/m);
    expect(out).toContain('List of ports to expose from the container.');
    expect(out).toMatch(/^ {3}containerPort\t<integer> -required-$/m);
    const recursive = (await h.kubectl(['explain', 'cronjobs.spec', '--recursive', '--api-version=batch/v1', '--output=plaintext-openapiv2'])).stdout;
    expect(recursive).toMatch(/^ {3}schedule\t<string>$/m);
    expect(recursive).toMatch(/^ {15}containers\t<\[\]Object>$/m);
  });

  it('serves swagger 2.0 definitions from the same schemas', async () => {
    const v2 = await getJson<{ swagger: string; definitions: Record<string, Record<string, unknown>> }>('/openapi/v2');
    expect(v2.swagger).toBe('2.0');
    expect(v2.definitions['io.k8s.api.core.v1.Pod'].description).toContain('Pod is a collection of containers');
    expect(v2.definitions['io.k8s.api.batch.v1.CronJob']['x-kubernetes-group-version-kind']).toEqual([{ group: 'batch', kind: 'CronJob', version: 'v1' }]);
    const dangling = refsOf(v2).filter((r) => !r.startsWith('#/definitions/') || !v2.definitions[r.slice('#/definitions/'.length)]);
    expect(dangling).toEqual([]);
  });
});

describe('kubectl writes that read the OpenAPI schemas', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({}, []);
  });
  afterAll(async () => {
    await h?.close();
  });

  const deployment = (containers: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: default }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
${containers}`;

  it('client-side apply merges containers by name (patch-merge-key from the schema), then server-side apply', async () => {
    await h.kubectl(['apply', '-f', '-'], { input: deployment('      - { name: web, image: nginx:1.26 }\n      - { name: sidecar, image: busybox:1.36 }\n') });
    // Edit outside apply: a container env var that the next apply must keep (a replace of the list would drop it).
    await h.kubectl([
      'patch',
      'deployment',
      'web',
      '--type=strategic',
      '-p',
      '{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"A","value":"1"}]}]}}}}',
    ]);
    await h.kubectl(['apply', '-f', '-'], { input: deployment('      - { name: web, image: nginx:1.27 }\n') });
    const d = JSON.parse((await h.kubectl(['get', 'deployment', 'web', '-o', 'json'])).stdout);
    expect(d.spec.template.spec.containers).toEqual([expect.objectContaining({ name: 'web', image: 'nginx:1.27', env: [{ name: 'A', value: '1' }] })]);
    await h.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: deployment('      - { name: web, image: nginx:1.28 }\n') });
    const s = JSON.parse((await h.kubectl(['get', 'deployment', 'web', '-o', 'json'])).stdout);
    expect(s.spec.template.spec.containers[0].image).toBe('nginx:1.28');
  });

  it('create --validate=strict refuses an unknown field and accepts a valid object', async () => {
    const bad = await h.kubectl(['create', '--validate=strict', '-f', '-'], {
      input: deployment('      - { name: web, image: nginx, imagee: typo }\n').replace('name: web, namespace', 'name: bad, namespace'),
      allowFail: true,
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('unknown field "spec.template.spec.containers[0].imagee"');
    const good = await h.kubectl(['create', '--validate=strict', '-f', '-'], {
      input: deployment('      - { name: web, image: nginx }\n').replace('name: web, namespace', 'name: good, namespace'),
    });
    expect(good.stdout).toContain('deployment.apps/good created');
  });
});
