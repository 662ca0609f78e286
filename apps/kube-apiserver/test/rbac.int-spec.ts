import { generateKeyPairSync, sign } from 'node:crypto';
import { request } from 'node:https';
import pino from 'pino';
import { issueCertificate } from '@cerulean/pki';
import { startKubeApiServer } from '../src/server';
import { Harness, issueUserCertificate, kubectlAs, startHarness } from './harness';

jest.setTimeout(180_000);

/** RBAC is fed by a watch: a binding made a moment ago takes effect within milliseconds, not synchronously. */
async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 5_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
const headerOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));

describe('RBAC, reviews and service-account tokens, driven by the real kubectl', () => {
  let h: Harness;
  let jane: Harness['kubectl'];
  // The service-account signing key is an RSA key of the test's own, so it can also forge tokens (expired ones).
  const saKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const saKeyPem = saKey.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

  beforeAll(async () => {
    h = await startHarness({ serviceAccountKeyPem: saKeyPem }, ['garbage-collector', 'namespace', 'serviceaccount']);
    await h.kubectl(['create', 'namespace', 'x']);
    await h.kubectl(['create', 'namespace', 'y']);
    jane = kubectlAs(h, { cert: await issueUserCertificate(h, 'jane', 'dev') }, 'jane');
  });
  afterAll(async () => {
    await h?.close();
  });

  const raw = (path: string, headers: Record<string, string> = {}) =>
    new Promise<{ code: number; body: string }>((resolve, reject) => {
      const u = new URL(path, h.server.url);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'GET', ca: h.ca.certPem, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end();
    });

  it('forbids a user without bindings with upstream 403 message, and kubectl auth can-i and whoami tell', async () => {
    const r = await jane(['get', 'pods', '-n', 'x'], { allowFail: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "x"',
    );
    const named = await jane(['get', 'deployment', 'web', '-n', 'x'], { allowFail: true });
    expect(named.stderr).toContain(
      'deployments.apps "web" is forbidden: User "jane" cannot get resource "deployments" in API group "apps" in the namespace "x"',
    );
    const can = await jane(['auth', 'can-i', 'list', 'pods', '-n', 'x'], { allowFail: true });
    expect(can.stdout.trim()).toBe('no');
    expect(can.code).toBe(1);
    const who = JSON.parse((await jane(['auth', 'whoami', '-o', 'json'])).stdout);
    expect(who).toMatchObject({ kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', status: { userInfo: { username: 'jane' } } });
    expect(who.status.userInfo.groups).toEqual(['dev', 'system:authenticated']);
    // Discovery and version are system:discovery's and system:public-info-viewer's (bound to every authenticated user).
    expect(JSON.parse((await jane(['get', '--raw', '/version'])).stdout).gitVersion).toBe('v1.33.2');
    expect((await jane(['api-resources', '--api-group=apps'])).stdout).toMatch(/^deployments\s/m);
    const metrics = await jane(['get', '--raw', '/metrics'], { allowFail: true });
    expect(metrics.stderr).toContain('forbidden: User "jane" cannot get path "/metrics"');
  });

  it('grants view through a RoleBinding in its namespace only, and edit lets her create deployments', async () => {
    await h.kubectl(['create', 'rolebinding', 'jane-view', '--clusterrole=view', '--user=jane', '-n', 'x']);
    const listed = await eventually(
      () => jane(['get', 'pods', '-n', 'x'], { allowFail: true }),
      (r) => r.code === 0,
    );
    expect(listed.code).toBe(0);
    expect((await jane(['auth', 'can-i', 'list', 'pods', '-n', 'x'])).stdout.trim()).toBe('yes');
    expect((await jane(['get', 'pods', '-n', 'y'], { allowFail: true })).stderr).toContain(
      'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "y"',
    );
    expect((await jane(['get', 'pods', '-A'], { allowFail: true })).stderr).toContain(
      'pods is forbidden: User "jane" cannot list resource "pods" in API group "" at the cluster scope',
    );
    expect((await jane(['create', 'configmap', 'c', '-n', 'x'], { allowFail: true })).stderr).toContain(
      'configmaps is forbidden: User "jane" cannot create resource "configmaps" in API group "" in the namespace "x"',
    );
    expect((await jane(['auth', 'can-i', 'get', 'secrets', '-n', 'x'], { allowFail: true })).stdout.trim()).toBe('no');

    await h.kubectl(['create', 'rolebinding', 'jane-edit', '--clusterrole=edit', '--user=jane', '-n', 'x']);
    const created = await eventually(
      () => jane(['create', 'deployment', 'web', '--image=nginx', '-n', 'x'], { allowFail: true }),
      (r) => r.code === 0,
    );
    expect(created.stdout).toContain('deployment.apps/web created');
    await jane(['scale', 'deployment', 'web', '--replicas=3', '-n', 'x']);
    expect((await jane(['create', 'deployment', 'web', '--image=nginx', '-n', 'y'], { allowFail: true })).stderr).toContain(
      'deployments.apps is forbidden: User "jane" cannot create resource "deployments" in API group "apps" in the namespace "y"',
    );
    // edit does not include RBAC objects (admin does).
    expect((await jane(['auth', 'can-i', 'create', 'rolebindings', '-n', 'x'], { allowFail: true })).stdout.trim()).toBe('no');
  });

  it('aggregates a new ClusterRole labelled aggregate-to-view into view, edit and admin', async () => {
    const can = () => jane(['auth', 'can-i', 'list', 'roles.rbac.authorization.k8s.io', '-n', 'x'], { allowFail: true });
    expect((await can()).stdout.trim()).toBe('no');
    await h.kubectl(['create', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'roles-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
        rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['get', 'list', 'watch'] }],
      }),
    });
    expect((await eventually(can, (r) => r.stdout.trim() === 'yes')).stdout.trim()).toBe('yes');
    const rule = { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['get', 'list', 'watch'] };
    for (const role of ['view', 'edit', 'admin']) {
      const obj = await eventually(
        async () => JSON.parse((await h.kubectl(['get', 'clusterrole', role, '-o', 'json'])).stdout),
        (o) => o.rules.some((r: object) => JSON.stringify(r) === JSON.stringify(rule)),
      );
      expect(obj.rules).toContainEqual(rule);
    }
    // A rule taken out of the source is taken out of the aggregate.
    await h.kubectl(['delete', 'clusterrole', 'roles-view']);
    expect((await eventually(can, (r) => r.stdout.trim() === 'no')).stdout.trim()).toBe('no');
  });

  it('lists her rules with kubectl auth can-i --list (SelfSubjectRulesReview)', async () => {
    const out = (await jane(['auth', 'can-i', '--list', '-n', 'x'])).stdout;
    expect(out).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/m);
    expect(out).toMatch(/^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
    expect(out).toMatch(/^deployments\.apps\s+\[\]\s+\[\]\s+\[.*create.*\]$/m);
    expect(out).toMatch(/^\s+\[\/version\]\s+\[\]\s+\[get\]$/m);
    const elsewhere = (await jane(['auth', 'can-i', '--list', '-n', 'y'])).stdout;
    expect(elsewhere).not.toMatch(/^deployments\.apps/m);
  });

  it('answers SubjectAccessReview for a cluster-admin and refuses it to jane; LocalSubjectAccessReview checks its namespace', async () => {
    const sar = (kind: string, ns?: string, attrs: object = { verb: 'list', resource: 'pods', namespace: 'x' }) =>
      JSON.stringify({
        apiVersion: 'authorization.k8s.io/v1',
        kind,
        ...(ns ? { metadata: { namespace: ns } } : {}),
        spec: { user: 'jane', groups: ['dev'], resourceAttributes: attrs },
      });
    const review = JSON.parse((await h.kubectl(['create', '--validate=false', '-f', '-', '-o', 'json'], { input: sar('SubjectAccessReview') })).stdout);
    expect(review.status).toEqual({ allowed: true, reason: 'RBAC: allowed by RoleBinding "jane-view/x" of ClusterRole "view" to User "jane"' });
    const denied = JSON.parse(
      (
        await h.kubectl(['create', '--validate=false', '-f', '-', '-o', 'json'], {
          input: sar('SubjectAccessReview', undefined, { verb: 'list', resource: 'pods', namespace: 'y' }),
        })
      ).stdout,
    );
    expect(denied.status).toEqual({ allowed: false });
    expect((await jane(['create', '--validate=false', '-f', '-', '-o', 'json'], { input: sar('SubjectAccessReview'), allowFail: true })).stderr).toContain(
      'subjectaccessreviews.authorization.k8s.io is forbidden: User "jane" cannot create resource "subjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope',
    );
    const local = JSON.parse(
      (
        await h.kubectl(['create', '--validate=false', '-f', '-', '-o', 'json'], {
          input: sar('LocalSubjectAccessReview', 'x', { verb: 'get', resource: 'pods' }),
        })
      ).stdout,
    );
    expect(local.status.allowed).toBe(true);
    expect(local.spec.resourceAttributes.namespace).toBe('x');
    const mismatch = await h.kubectl(['create', '--validate=false', '-f', '-'], {
      input: sar('LocalSubjectAccessReview', 'x', { verb: 'get', resource: 'pods', namespace: 'y' }),
      allowFail: true,
    });
    expect(mismatch.stderr).toContain('spec.resourceAttributes.namespace must match namespace: x');
    const neither = await h.kubectl(['create', '--validate=false', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { resourceAttributes: { verb: 'get', resource: 'pods' } },
      }),
      allowFail: true,
    });
    expect(neither.stderr).toContain('at least one of user or group must be specified');
  });

  it('prevents escalation: roles and bindings may only grant what the writer holds, unless she may escalate or bind', async () => {
    await h.kubectl(['create', 'rolebinding', 'jane-admin', '--clusterrole=admin', '--user=jane', '-n', 'x']);
    const ok = await eventually(
      () => jane(['create', 'rolebinding', 'bob-view', '--clusterrole=view', '--user=bob', '-n', 'x'], { allowFail: true }),
      (r) => r.code === 0,
    );
    expect(ok.stdout).toContain('rolebinding.rbac.authorization.k8s.io/bob-view created');
    const up = await jane(['create', 'rolebinding', 'bob-root', '--clusterrole=cluster-admin', '--user=bob', '-n', 'x'], { allowFail: true });
    expect(up.stderr).toContain(
      'rolebindings.rbac.authorization.k8s.io "bob-root" is forbidden: user "jane" (groups=["dev" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:',
    );
    expect(up.stderr).toContain('{APIGroups:["*"], Resources:["*"], Verbs:["*"]}');
    expect((await jane(['create', 'role', 'secrets-reader', '--verb=get', '--resource=secrets', '-n', 'x'])).code).toBe(0);
    const nodes = await jane(['create', 'role', 'nodes-reader', '--verb=get', '--verb=list', '--resource=nodes', '-n', 'x'], { allowFail: true });
    expect(nodes.stderr).toContain('roles.rbac.authorization.k8s.io "nodes-reader" is forbidden');
    expect(nodes.stderr).toContain('{APIGroups:[""], Resources:["nodes"], Verbs:["get" "list"]}');
    // Nor may she widen a role she can edit through a patch.
    const patch = await jane(
      [
        'patch',
        'role',
        'secrets-reader',
        '-n',
        'x',
        '--type=json',
        '-p',
        '[{"op":"add","path":"/rules/-","value":{"apiGroups":[""],"resources":["nodes"],"verbs":["get"]}}]',
      ],
      { allowFail: true },
    );
    expect(patch.stderr).toContain('is attempting to grant RBAC permissions not currently held');
    // With `bind` on cluster-admin she may bind it (in her namespace) without holding it.
    await h.kubectl(['create', 'clusterrole', 'bind-root', '--verb=bind', '--resource=clusterroles', '--resource-name=cluster-admin']);
    await h.kubectl(['create', 'rolebinding', 'jane-bind-root', '--clusterrole=bind-root', '--user=jane', '-n', 'x']);
    const bound = await eventually(
      () => jane(['create', 'rolebinding', 'bob-root', '--clusterrole=cluster-admin', '--user=bob', '-n', 'x'], { allowFail: true }),
      (r) => r.code === 0,
    );
    expect(bound.code).toBe(0);
  });

  it('lets anonymous requests reach only the health probes, and answers 401 elsewhere', async () => {
    expect((await raw('/readyz')).code).toBe(200);
    expect((await raw('/livez')).code).toBe(200);
    expect((await raw('/version')).code).toBe(401);
    const api = await raw('/api');
    expect(api.code).toBe(401);
    expect(JSON.parse(api.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await raw('/openid/v1/jwks')).code).toBe(401);
  });

  describe('service-account tokens', () => {
    let token: string;
    let bot: Harness['kubectl'];

    beforeAll(async () => {
      await h.kubectl(['create', 'serviceaccount', 'bot']);
      token = (await h.kubectl(['create', 'token', 'bot'])).stdout.trim();
      bot = kubectlAs(h, { token }, 'bot');
    });

    it('issues an RS256 JWT with upstream claims that authenticates as the service account', async () => {
      const c = claimsOf(token);
      const sa = JSON.parse((await h.kubectl(['get', 'serviceaccount', 'bot', '-o', 'json'])).stdout);
      expect(c).toMatchObject({
        iss: 'https://kubernetes.default.svc.cluster.local',
        sub: 'system:serviceaccount:default:bot',
        aud: ['https://kubernetes.default.svc.cluster.local'],
        'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'bot', uid: sa.metadata.uid } },
      });
      expect(c.exp - c.iat).toBe(3600);
      expect(c.nbf).toBe(c.iat);
      expect(headerOf(token).alg).toBe('RS256');
      const who = JSON.parse((await bot(['auth', 'whoami', '-o', 'json'])).stdout).status.userInfo;
      expect(who).toMatchObject({
        username: 'system:serviceaccount:default:bot',
        uid: sa.metadata.uid,
        groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
      });
      expect(who.extra['authentication.kubernetes.io/credential-id']).toEqual([`JTI=${c.jti}`]);
    });

    it('is forbidden until bound, then allowed', async () => {
      expect((await bot(['get', 'pods'], { allowFail: true })).stderr).toContain(
        'pods is forbidden: User "system:serviceaccount:default:bot" cannot list resource "pods" in API group "" in the namespace "default"',
      );
      await h.kubectl(['create', 'rolebinding', 'bot-view', '--clusterrole=view', '--serviceaccount=default:bot']);
      expect(
        (
          await eventually(
            () => bot(['get', 'pods'], { allowFail: true }),
            (r) => r.code === 0,
          )
        ).code,
      ).toBe(0);
    });

    it('serves issuer discovery to service accounts, with the key that signed the token', async () => {
      const cfg = JSON.parse((await bot(['get', '--raw', '/.well-known/openid-configuration'])).stdout);
      expect(cfg).toMatchObject({
        issuer: 'https://kubernetes.default.svc.cluster.local',
        jwks_uri: 'https://kubernetes.default.svc.cluster.local/openid/v1/jwks',
      });
      expect(cfg.id_token_signing_alg_values_supported).toEqual(['RS256']);
      const jwks = JSON.parse((await bot(['get', '--raw', '/openid/v1/jwks'])).stdout);
      expect(jwks.keys).toHaveLength(1);
      expect(jwks.keys[0]).toMatchObject({ use: 'sig', kty: 'RSA', alg: 'RS256', kid: headerOf(token).kid });
      expect((await jane(['get', '--raw', '/openid/v1/jwks'], { allowFail: true })).stderr).toContain(
        'forbidden: User "jane" cannot get path "/openid/v1/jwks"',
      );
    });

    it('honours expirationSeconds (upstream minimum 10 minutes) and audiences', async () => {
      const short = (await h.kubectl(['create', 'token', 'bot', '--duration=10m'])).stdout.trim();
      expect(claimsOf(short).exp - claimsOf(short).iat).toBe(600);
      const tooShort = await h.kubectl(['create', 'token', 'bot', '--duration=5m'], { allowFail: true });
      expect(tooShort.stderr).toContain('may not specify a duration less than 10 minutes');
      expect((await h.kubectl(['create', 'token', 'nobody'], { allowFail: true })).stderr).toContain('serviceaccounts "nobody" not found');
      const other = (await h.kubectl(['create', 'token', 'bot', '--audience=vault'])).stdout.trim();
      expect(claimsOf(other).aud).toEqual(['vault']);
      const r = await kubectlAs(h, { token: other }, 'bot-vault')(['get', 'pods'], { allowFail: true });
      expect(r.stderr).toContain('You must be logged in to the server');
      // A TokenReview for that audience accepts it.
      const review = JSON.parse(
        (
          await h.kubectl(['create', '--validate=false', '-f', '-', '-o', 'json'], {
            input: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: other, audiences: ['vault'] } }),
          })
        ).stdout,
      );
      expect(review.status).toMatchObject({ authenticated: true, audiences: ['vault'], user: { username: 'system:serviceaccount:default:bot' } });
    });

    it('answers 401 for a tampered or expired token, and accepts the same forgery while unexpired', async () => {
      const [head, body, sig] = token.split('.');
      const claims = claimsOf(token);
      const tampered = `${head}.${Buffer.from(JSON.stringify({ ...claims, sub: 'system:serviceaccount:kube-system:default' })).toString('base64url')}.${sig}`;
      expect((await kubectlAs(h, { token: tampered }, 'tampered')(['get', 'pods'], { allowFail: true })).stderr).toContain(
        'You must be logged in to the server',
      );
      expect((await kubectlAs(h, { token: `${head}.${body}.${sig.slice(0, -4)}AAAA` }, 'badsig')(['get', 'pods'], { allowFail: true })).stderr).toContain(
        'You must be logged in to the server',
      );
      const forge = (exp: number) => {
        const payload = Buffer.from(JSON.stringify({ ...claims, exp, iat: exp - 3600, nbf: exp - 3600 })).toString('base64url');
        return `${head}.${payload}.${sign('sha256', Buffer.from(`${head}.${payload}`), saKey.privateKey).toString('base64url')}`;
      };
      const now = Math.floor(Date.now() / 1000);
      expect((await kubectlAs(h, { token: forge(now + 600) }, 'forged')(['get', 'pods'], { allowFail: true })).code).toBe(0);
      expect((await kubectlAs(h, { token: forge(now - 5) }, 'expired')(['get', 'pods'], { allowFail: true })).stderr).toContain(
        'You must be logged in to the server',
      );
    });

    it('binds a token to a pod, which dies with the pod', async () => {
      await h.kubectl(['create', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p' },
          spec: { serviceAccountName: 'bot', containers: [{ name: 'c', image: 'nginx' }] },
        }),
      });
      const bound = (await h.kubectl(['create', 'token', 'bot', '--bound-object-kind=Pod', '--bound-object-name=p'])).stdout.trim();
      const pod = JSON.parse((await h.kubectl(['get', 'pod', 'p', '-o', 'json'])).stdout);
      expect(claimsOf(bound)['kubernetes.io'].pod).toEqual({ name: 'p', uid: pod.metadata.uid });
      const asPod = kubectlAs(h, { token: bound }, 'bound');
      const who = JSON.parse((await asPod(['auth', 'whoami', '-o', 'json'])).stdout).status.userInfo;
      expect(who.extra['authentication.kubernetes.io/pod-name']).toEqual(['p']);
      expect((await h.kubectl(['create', 'token', 'default', '--bound-object-kind=Pod', '--bound-object-name=p'], { allowFail: true })).stderr).toContain(
        'cannot bind token for serviceaccount "default" to pod running with different serviceaccount name.',
      );
      await h.kubectl(['delete', 'pod', 'p', '--grace-period=0', '--force']);
      await eventually(
        () => h.kubectl(['get', 'pod', 'p'], { allowFail: true }),
        (r) => r.code !== 0,
      );
      expect((await asPod(['auth', 'whoami'], { allowFail: true })).stderr).toContain('You must be logged in to the server');
    });

    it('revokes tokens of a service account deleted and made again', async () => {
      expect((await bot(['auth', 'whoami'])).code).toBe(0);
      await h.kubectl(['delete', 'serviceaccount', 'bot']);
      await h.kubectl(['create', 'serviceaccount', 'bot']);
      expect((await bot(['auth', 'whoami'], { allowFail: true })).stderr).toContain('You must be logged in to the server');
      const fresh = (await h.kubectl(['create', 'token', 'bot'])).stdout.trim();
      expect((await kubectlAs(h, { token: fresh }, 'bot-again')(['get', 'pods'])).code).toBe(0);
    });
  });

  it("lets a node read only the Secrets, ConfigMaps and service-account tokens of pods bound to it (the Node authorizer's graph)", async () => {
    const n1 = kubectlAs(h, { cert: await issueUserCertificate(h, 'system:node:n1', 'system:nodes') }, 'n1');
    const n2 = kubectlAs(h, { cert: await issueUserCertificate(h, 'system:node:n2', 'system:nodes') }, 'n2');
    for (const name of ['env-secret', 'vol-secret', 'pull', 'other']) await h.kubectl(['create', 'secret', 'generic', name, '-n', 'x', '--from-literal=k=v']);
    await h.kubectl(['create', 'configmap', 'settings', '-n', 'x', '--from-literal=k=v']);
    await h.kubectl(['create', 'serviceaccount', 'runner', '-n', 'x']);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'bound', namespace: 'x' },
      spec: {
        nodeName: 'n1',
        serviceAccountName: 'runner',
        imagePullSecrets: [{ name: 'pull' }],
        containers: [
          {
            name: 'c',
            image: 'busybox:1.36',
            env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'k' } } }],
            envFrom: [{ configMapRef: { name: 'settings' } }],
          },
        ],
        volumes: [{ name: 'v', secret: { secretName: 'vol-secret' } }],
      },
    };
    // Read right after the pod is created: memory may not have it yet, storage then answers.
    await h.kubectl(['create', '-f', '-'], { input: JSON.stringify(pod) });
    for (const secret of ['env-secret', 'vol-secret', 'pull'])
      expect((await n1(['get', 'secret', secret, '-n', 'x', '-o', 'name'])).stdout.trim()).toBe(`secret/${secret}`);
    expect((await n1(['get', 'configmap', 'settings', '-n', 'x', '-o', 'name'])).stdout.trim()).toBe('configmap/settings');
    // The automounted token volume references the namespace's root CA ConfigMap (published by a controller this
    // harness does not run).
    await h.kubectl(['create', 'configmap', 'kube-root-ca.crt', '-n', 'x', '--from-literal=ca.crt=pem'], { allowFail: true });
    expect((await n1(['get', 'configmap', 'kube-root-ca.crt', '-n', 'x', '-o', 'name'])).code).toBe(0);
    expect((await n1(['create', 'token', 'runner', '-n', 'x'])).code).toBe(0);
    const other = await n1(['get', 'secret', 'other', '-n', 'x'], { allowFail: true });
    expect(other.stderr).toContain(
      `secrets "other" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "x": no relationship found between node 'n1' and this object`,
    );
    expect((await n1(['create', 'token', 'default', '-n', 'x'], { allowFail: true })).stderr).toContain(
      `no relationship found between node 'n1' and this object`,
    );
    expect((await n2(['get', 'secret', 'vol-secret', '-n', 'x'], { allowFail: true })).stderr).toContain(
      `no relationship found between node 'n2' and this object`,
    );
    // No listing: a node reads its pods' objects by name only.
    expect((await n1(['get', 'secrets', '-n', 'x'], { allowFail: true })).stderr).toContain('cannot list resource "secrets"');
    // Once the pod is gone, so is the relationship.
    await h.kubectl(['delete', 'pod', 'bound', '-n', 'x', '--grace-period=0', '--force']);
    await waitForForbidden(() => n1(['get', 'secret', 'vol-secret', '-n', 'x'], { allowFail: true }));
  });

  it('reconciles the bootstrap policy when an API server starts, leaving autoupdate=false objects alone', async () => {
    // An administrator's changes: one role pinned, one trimmed without pinning, one binding removed.
    await h.kubectl(['annotate', 'clusterrole', 'system:discovery', 'rbac.authorization.kubernetes.io/autoupdate=false', '--overwrite']);
    await h.kubectl(['patch', 'clusterrole', 'system:discovery', '--type=json', '-p', '[{"op":"replace","path":"/rules","value":[]}]']);
    await h.kubectl(['patch', 'clusterrole', 'system:public-info-viewer', '--type=json', '-p', '[{"op":"replace","path":"/rules","value":[]}]']);
    await h.kubectl(['delete', 'clusterrolebinding', 'system:basic-user']);
    const serving = await issueCertificate(h.ca, { commonName: 'kube-apiserver', ipAddresses: ['127.0.0.1'], usage: 'server', validDays: 1 });
    const second = await startKubeApiServer(
      {
        etcdEndpoints: [h.etcdEndpoint],
        etcdPrefix: '/registry',
        bindAddress: '127.0.0.1',
        securePort: 0,
        tlsCertPem: serving.certPem,
        tlsKeyPem: serving.keyPem,
        clientCaPem: h.ca.certPem,
        version: '1.33.2',
        clusterName: 'it',
        serviceCidr: '10.0.0.0/16',
        dnsServiceIp: '10.0.0.10',
        bookmarkIntervalMs: 1000,
        logLevel: 'warn',
        etcdWaitMs: 5_000,
      },
      pino({ level: 'warn' }),
    );
    try {
      const get = async (kind: string, name: string) => JSON.parse((await h.kubectl(['get', kind, name, '-o', 'json'])).stdout);
      expect((await get('clusterrole', 'system:discovery')).rules).toEqual([]);
      expect((await get('clusterrole', 'system:public-info-viewer')).rules).toEqual([
        { nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] },
      ]);
      expect((await get('clusterrolebinding', 'system:basic-user')).subjects).toEqual([
        { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:authenticated' },
      ]);
    } finally {
      await second.close();
    }
  });
});

/** Polls a kubectl call until it is refused with a 403 (a watch-fed memory forgets within moments), at most 10 s. */
async function waitForForbidden(call: () => Promise<{ code: number; stderr: string }>): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await call();
    if (r.code !== 0 && r.stderr.includes('Forbidden')) return;
    if (Date.now() > deadline) throw new Error(`still allowed after 10 s: ${r.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
