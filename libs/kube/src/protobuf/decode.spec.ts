import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeError } from '../status';
import { decodeKubeProtobuf, goDuration, PROTOBUF_MEDIA_TYPE } from './decode';

const run = promisify(execFile);
/** The value at a dotted path of a decoded object. */
const at = (v: unknown, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], v);
const KUBECTL = process.env.KUBECTL ?? 'kubectl';

/**
 * The bytes here are what the real kubectl sends: a recording HTTP server stands in for the API server, keeps each
 * request body and answers 400, and the decoded object must equal what `kubectl create … --dry-run=client -o json`
 * prints for the same command (the JSON kubectl would have sent).
 */
describe('decodeKubeProtobuf on real kubectl request bodies', () => {
  let server: Server;
  let dir: string;
  let kubeconfig: string;
  const recorded: { url: string; contentType: string; body: Buffer }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kube-protobuf-'));
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'POST') recorded.push({ url: req.url ?? '', contentType: req.headers['content-type'] ?? '', body: Buffer.concat(chunks) });
        res.writeHead(req.method === 'POST' ? 400 : 404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'recorded', reason: 'BadRequest', code: 400 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    kubeconfig = join(dir, 'kubeconfig');
    const cluster = { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'rec', cluster }],
        users: [{ name: 'rec', user: {} }],
        contexts: [{ name: 'rec', context: { cluster: 'rec', user: 'rec', namespace: 'default' } }],
        'current-context': 'rec',
      }),
    );
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const kubectl = async (args: string[]): Promise<string> => {
    try {
      return (await run(KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { timeout: 30_000 })).stdout;
    } catch (err) {
      return (err as { stdout?: string }).stdout ?? '';
    }
  };
  /** The body kubectl POSTs for `args` (the recorder answers 400, so kubectl itself reports a failure). */
  const sent = async (args: string[]) => {
    const before = recorded.length;
    await kubectl(args);
    expect(recorded.length).toBe(before + 1);
    const req = recorded[recorded.length - 1];
    expect(req.contentType).toBe(PROTOBUF_MEDIA_TYPE);
    return req;
  };
  const dryRun = async (args: string[]) => {
    const dash = args.includes('--') ? args.indexOf('--') : args.length;
    return JSON.parse(await kubectl([...args.slice(0, dash), '--dry-run=client', '-o', 'json', ...args.slice(dash)])) as unknown;
  };

  it.each([
    ['deployment', ['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3', '--port=80']],
    ['deployment with zero replicas', ['create', 'deployment', 'idle', '--image=nginx', '--replicas=0']],
    ['configmap from literals', ['create', 'configmap', 'settings', '--from-literal=mode=fast', '--from-literal=empty=', '--from-literal=unicode=héllo']],
    ['secret generic', ['create', 'secret', 'generic', 'creds', '--from-literal=user=admin', '--from-literal=password=s3cr3t!', '--type=Opaque']],
    ['service clusterip', ['create', 'service', 'clusterip', 'api', '--tcp=80:8080', '--tcp=443:https']],
    ['job', ['create', 'job', 'once', '--image=busybox', '--', 'sh', '-c', 'echo hi']],
    ['cronjob', ['create', 'cronjob', 'nightly', '--image=busybox', '--schedule=*/5 * * * *', '--restart=OnFailure', '--', 'date']],
    ['namespace', ['create', 'namespace', 'team-a']],
    ['poddisruptionbudget with a percentage', ['create', 'poddisruptionbudget', 'pdb', '--selector=app=web', '--min-available=50%']],
    ['resourcequota', ['create', 'quota', 'compute', '--hard=cpu=1500m,memory=1Gi,pods=10', '--scopes=NotTerminating']],
    ['serviceaccount', ['create', 'serviceaccount', 'builder']],
    [
      'clusterrolebinding',
      ['create', 'clusterrolebinding', 'viewers', '--clusterrole=view', '--user=alice', '--group=devs', '--serviceaccount=default:builder'],
    ],
  ])('%s: the protobuf body decodes to the JSON kubectl would send', async (_label, args) => {
    const req = await sent(args);
    expect(decodeKubeProtobuf(req.body)).toEqual(await dryRun(args));
  });

  it('a deployment keeps its wire facts: replicas 0 (a pointer) stays, zero status fields go, a zero creationTimestamp (omitzero) goes', async () => {
    const obj = decodeKubeProtobuf((await sent(['create', 'deployment', 'zero', '--image=nginx', '--replicas=0'])).body);
    expect(at(obj, 'spec.replicas')).toBe(0);
    expect(at(obj, 'status')).toEqual({});
    expect(at(obj, 'metadata')).toEqual({ name: 'zero', labels: { app: 'zero' } });
    expect(at(obj, 'spec.template.spec.containers')).toEqual([{ name: 'nginx', image: 'nginx', resources: {} }]);
  });

  it('a secret carries its bytes as base64, exactly as the JSON API writes them', async () => {
    const obj = decodeKubeProtobuf((await sent(['create', 'secret', 'generic', 'bin', '--from-literal=k=\u00ff\u0001v'])).body);
    expect(Buffer.from(at(obj, 'data.k') as string, 'base64').toString('utf8')).toBe('\u00ff\u0001v');
  });

  it('service ports: targetPort is an IntOrString, a number or a name', async () => {
    const obj = decodeKubeProtobuf((await sent(['create', 'service', 'clusterip', 'mixed', '--tcp=80:8080', '--tcp=443:https'])).body);
    expect((at(obj, 'spec.ports') as { targetPort: unknown }[]).map((p) => p.targetPort)).toEqual([8080, 'https']);
  });

  it('kubectl create token sends a TokenRequest (authentication.k8s.io/v1) with its expirationSeconds', async () => {
    const req = await sent(['create', 'token', 'builder', '--duration=10m', '--audience=api', '--audience=vault']);
    expect(req.url).toBe('/api/v1/namespaces/default/serviceaccounts/builder/token');
    expect(decodeKubeProtobuf(req.body)).toEqual({
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: {},
      spec: { audiences: ['api', 'vault'], expirationSeconds: 600, boundObjectRef: null },
      status: { token: '', expirationTimestamp: null },
    });
  });

  it('kubectl auth can-i sends a SelfSubjectAccessReview', async () => {
    const before = recorded.length;
    await kubectl(['auth', 'can-i', 'list', 'secrets', '--namespace', 'team-a']);
    const req = recorded.slice(before).find((r) => r.url.includes('selfsubjectaccessreviews'));
    expect(req?.contentType).toBe(PROTOBUF_MEDIA_TYPE);
    const obj = decodeKubeProtobuf(req!.body);
    expect(obj.kind).toBe('SelfSubjectAccessReview');
    expect(obj.apiVersion).toBe('authorization.k8s.io/v1');
    expect(at(obj, 'spec.resourceAttributes')).toMatchObject({ namespace: 'team-a', verb: 'list', resource: 'secrets' });
  });
});

/** A minimal protobuf writer for the cases kubectl does not send (times, durations, raw extensions, bad bytes). */
const varint = (n: bigint | number): Buffer => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
};
const field = (no: number, value: bigint | number | string | Buffer): Buffer =>
  typeof value === 'bigint' || typeof value === 'number'
    ? Buffer.concat([varint(no << 3), varint(value)])
    : Buffer.concat([varint((no << 3) | 2), varint(Buffer.byteLength(value)), Buffer.from(value)]);
const msg = (...fields: Buffer[]): Buffer => Buffer.concat(fields);
const envelope = (apiVersion: string, kind: string, raw: Buffer): Buffer =>
  Buffer.concat([Buffer.from('k8s\0', 'latin1'), field(1, msg(field(1, apiVersion), field(2, kind))), field(2, raw)]);

describe('decodeKubeProtobuf special types and bad input', () => {
  it('metav1.Time, MicroTime, Duration, IntOrString, Quantity and FieldsV1 as the JSON API writes them', () => {
    // An events.k8s.io/v1 Event has a MicroTime (eventTime) and Times (deprecatedFirstTimestamp); a Lease a MicroTime.
    const meta = msg(
      field(1, 'ev'),
      field(3, 'default'),
      field(8, msg(field(1, 1_700_000_000))),
      field(
        17,
        msg(
          field(1, 'kubectl'),
          field(2, 'Update'),
          field(3, 'v1'),
          field(4, msg(field(1, 1_700_000_001))),
          field(6, 'FieldsV1'),
          field(7, msg(field(1, '{"f:spec":{}}'))),
        ),
      ),
    );
    const event = envelope(
      'events.k8s.io/v1',
      'Event',
      msg(field(1, meta), field(2, msg(field(1, 1_700_000_002), field(2, 123_456_789))), field(7, 'Scheduled'), field(15, -5)),
    );
    expect(decodeKubeProtobuf(event)).toEqual({
      kind: 'Event',
      apiVersion: 'events.k8s.io/v1',
      metadata: {
        name: 'ev',
        namespace: 'default',
        creationTimestamp: '2023-11-14T22:13:20Z',
        managedFields: [
          { manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '2023-11-14T22:13:21Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } },
        ],
      },
      eventTime: '2023-11-14T22:13:22.123456Z',
      reason: 'Scheduled',
      deprecatedCount: -5,
      // Non-pointer structs are always written: an empty ObjectReference and EventSource, zero Times as null.
      regarding: {},
      deprecatedSource: {},
      deprecatedFirstTimestamp: null,
      deprecatedLastTimestamp: null,
    });
    const hpaMetric = msg(field(1, 'Utilization'), field(4, 70));
    const hpa = envelope(
      'autoscaling/v2',
      'HorizontalPodAutoscaler',
      msg(
        field(1, msg(field(1, 'web'))),
        field(2, msg(field(2, 1), field(3, 5), field(4, msg(field(1, 'Resource'), field(4, msg(field(1, 'cpu'), field(2, hpaMetric))))))),
        field(3, msg()),
      ),
    );
    expect((decodeKubeProtobuf(hpa) as { status: unknown }).status).toEqual({ desiredReplicas: 0, currentMetrics: null }); // json:"currentMetrics" has no omitempty
    expect(decodeKubeProtobuf(hpa)).toMatchObject({
      metadata: { name: 'web' },
      spec: {
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      },
    });
    const pdb = envelope('policy/v1', 'PodDisruptionBudget', msg(field(2, msg(field(1, msg(field(1, 0), field(2, 2)))))));
    expect(decodeKubeProtobuf(pdb)).toMatchObject({ kind: 'PodDisruptionBudget', apiVersion: 'policy/v1', spec: { minAvailable: 2 } });
    const quota = envelope('v1', 'ResourceQuota', msg(field(2, msg(field(1, msg(field(1, 'memory'), field(2, msg(field(1, '1Gi')))))))));
    expect(decodeKubeProtobuf(quota)).toMatchObject({ spec: { hard: { memory: '1Gi' } } });
  });

  it('json:",inline" structs land in their parent: a Volume\'s source, a secretKeyRef\'s name', () => {
    const env = msg(field(1, 'PASSWORD'), field(3, msg(field(4, msg(field(1, msg(field(1, 'creds'))), field(2, 'password'))))));
    const container = msg(field(1, 'app'), field(2, 'busybox'), field(7, env), field(8, msg()));
    const volume = msg(field(1, 'config'), field(2, msg(field(19, msg(field(1, msg(field(1, 'settings'))), field(3, 0o644))))));
    const pod = envelope('v1', 'Pod', msg(field(1, msg(field(1, 'p'))), field(2, msg(field(1, volume), field(2, container)))));
    expect(at(decodeKubeProtobuf(pod), 'spec.volumes')).toEqual([{ name: 'config', configMap: { name: 'settings', defaultMode: 420 } }]);
    expect(at(decodeKubeProtobuf(pod), 'spec.containers')).toEqual([
      { name: 'app', image: 'busybox', env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } }], resources: {} },
    ]);
  });

  it("Go's Duration strings", () => {
    expect([0n, 999n, 1500n, 2_000_000n, 1_500_000_000n, 90_000_000_000n, 3_600_000_000_000n, -4_000_000_000n].map(goDuration)).toEqual([
      '0s',
      '999ns',
      '1.5µs',
      '2ms',
      '1.5s',
      '1m30s',
      '1h0m0s',
      '-4s',
    ]);
  });

  it('DeleteOptions under any served group-version decode as meta.k8s.io/v1 DeleteOptions (kubectl drain sends them in an Eviction)', () => {
    const options = msg(field(1, 30), field(3, 0), field(4, 'Foreground'), field(5, 'All'));
    const eviction = envelope('policy/v1', 'Eviction', msg(field(1, msg(field(1, 'web-1'), field(3, 'default'))), field(2, options)));
    expect(decodeKubeProtobuf(eviction)).toEqual({
      kind: 'Eviction',
      apiVersion: 'policy/v1',
      metadata: { name: 'web-1', namespace: 'default' },
      deleteOptions: { gracePeriodSeconds: 30, orphanDependents: false, propagationPolicy: 'Foreground', dryRun: ['All'] },
    });
    expect(decodeKubeProtobuf(envelope('apps/v1', 'DeleteOptions', options))).toMatchObject({ kind: 'DeleteOptions', gracePeriodSeconds: 30 });
  });

  it('fields newer than the schema are skipped, as Go skips unknown fields; unset structs are written empty', () => {
    const ns = envelope('v1', 'Namespace', msg(field(1, msg(field(1, 'x'))), field(999, 'future'), field(998, 7)));
    expect(decodeKubeProtobuf(ns)).toEqual({ kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'x' }, spec: {}, status: {} });
  });

  it.each([
    ['no k8s prefix', Buffer.from('{"kind":"Namespace"}'), /prefix/],
    ['an unknown kind', envelope('v1', 'Gadget', msg()), /no kind "Gadget" is registered for version "v1"/],
    ['an unknown group-version', envelope('example.com/v1', 'Namespace', msg()), /no kind "Namespace" is registered for version "example.com\/v1"/],
    ['no kind', envelope('v1', '', msg()), /'Kind' is missing/],
    ['a truncated object', envelope('v1', 'Namespace', msg(field(1, msg(field(1, 'abc')))).subarray(0, 4)), /could not be decoded/],
    ['a length past the end', Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from([0x12, 0x7f, 0x01])]), /could not be decoded/],
    ['a wrong wire type', envelope('v1', 'Namespace', msg(field(1, 5))), /could not be decoded/],
    ['a time out of range', envelope('v1', 'Namespace', msg(field(1, msg(field(8, msg(field(1, 2n ** 62n))))))), /could not be decoded/],
    ['an endless varint', Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.alloc(12, 0xff)]), /could not be decoded/],
    [
      'an embedded RawExtension that is neither JSON nor protobuf',
      envelope('apps/v1', 'ControllerRevision', msg(field(2, msg(field(1, 'not json'))))),
      /neither JSON nor protobuf/,
    ],
  ])('%s is a 400 BadRequest', (_label, body, message) => {
    let error: unknown;
    try {
      decodeKubeProtobuf(body);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KubeError);
    expect((error as KubeError).code).toBe(400);
    expect((error as KubeError).reason).toBe('BadRequest');
    expect((error as KubeError).message).toMatch(message);
  });
});
