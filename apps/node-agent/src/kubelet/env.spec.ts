import { envReferences, expand, resolveEnv, resourceValue, serviceEnv, type EnvSources, type ServiceLinkSource } from './env';
import type { Container, Pod } from './pod-types';

const pod: Pod = {
  metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1', labels: { app: 'web' }, annotations: { team: 'blue' } },
  spec: { nodeName: 'node-a', serviceAccountName: 'builder', containers: [{ name: 'app' }] },
};

const sources = (over: Partial<EnvSources> = {}): EnvSources => ({
  configMaps: new Map([['settings', { MODE: 'fast', 'bad key': 'x', URL: 'http://db' }]]),
  secrets: new Map([['creds', { PASSWORD: 's3cret' }]]),
  hostIPs: ['172.18.0.4'],
  podIPs: ['10.244.1.7'],
  nodeAllocatable: { cpu: 2, memory: 4 * 2 ** 30 },
  ...over,
});

describe('resolveEnv', () => {
  it('applies envFrom (with prefix, skipping invalid names), then env in order, expanding $(VAR) from earlier values', () => {
    const c: Container = {
      name: 'app',
      envFrom: [{ configMapRef: { name: 'settings' } }, { prefix: 'DB_', secretRef: { name: 'creds' } }],
      env: [
        { name: 'MODE', value: 'slow' },
        { name: 'GREETING', value: 'mode=$(MODE) url=$(URL) $(UNKNOWN) $$(MODE)' },
        { name: 'PW', valueFrom: { secretKeyRef: { name: 'creds', key: 'PASSWORD' } } },
        { name: 'M', valueFrom: { configMapKeyRef: { name: 'settings', key: 'MODE' } } },
      ],
    };
    expect(resolveEnv(pod, c, sources())).toEqual({
      env: [
        { key: 'MODE', value: 'slow' },
        { key: 'URL', value: 'http://db' },
        { key: 'DB_PASSWORD', value: 's3cret' },
        { key: 'GREETING', value: 'mode=slow url=http://db $(UNKNOWN) $(MODE)' },
        { key: 'PW', value: 's3cret' },
        { key: 'M', value: 'fast' },
      ],
    });
  });

  it('resolves the downward API fields', () => {
    const fields = [
      'metadata.name',
      'metadata.namespace',
      'metadata.uid',
      "metadata.labels['app']",
      "metadata.annotations['team']",
      'spec.nodeName',
      'spec.serviceAccountName',
      'status.hostIP',
      'status.podIP',
      'status.podIPs',
    ];
    const c: Container = { name: 'app', env: fields.map((fieldPath, i) => ({ name: `F${i}`, valueFrom: { fieldRef: { fieldPath } } })) };
    const r = resolveEnv(pod, c, sources({ podIPs: ['10.244.1.7', 'fd00::7'] }));
    expect('env' in r && r.env.map((e) => e.value)).toEqual([
      'web-1',
      'shop',
      'u-1',
      'web',
      'blue',
      'node-a',
      'builder',
      '172.18.0.4',
      '10.244.1.7',
      '10.244.1.7,fd00::7',
    ]);
  });

  it('fails on a missing object or key unless optional', () => {
    const missingMap: Container = { name: 'app', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] };
    expect(resolveEnv(pod, missingMap, sources())).toEqual({ error: 'configmap "nope" not found' });
    const missingKey: Container = { name: 'app', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'USER' } } }] };
    expect(resolveEnv(pod, missingKey, sources())).toEqual({ error: "couldn't find key USER in secret shop/creds" });
    const optional: Container = {
      name: 'app',
      envFrom: [{ secretRef: { name: 'absent', optional: true } }],
      env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'USER', optional: true } } }],
    };
    expect(
      resolveEnv(
        pod,
        optional,
        sources({
          secrets: new Map([
            ['creds', {}],
            ['absent', null],
          ]),
        }),
      ),
    ).toEqual({ env: [] });
    expect(resolveEnv(pod, { name: 'app', envFrom: [{ configMapRef: { name: 'gone' } }] }, sources({ configMaps: new Map([['gone', null]]) }))).toEqual({
      error: 'configmap "gone" not found',
    });
  });

  it('lists the objects a container refers to', () => {
    const c: Container = {
      name: 'app',
      envFrom: [{ configMapRef: { name: 'a' } }, { secretRef: { name: 's1' } }],
      env: [
        { name: 'X', valueFrom: { configMapKeyRef: { name: 'b', key: 'k' } } },
        { name: 'Y', valueFrom: { secretKeyRef: { name: 's1', key: 'k' } } },
      ],
    };
    expect(envReferences(c)).toEqual({ configMaps: new Set(['a', 'b']), secrets: new Set(['s1']) });
  });
});

describe('resourceValue', () => {
  const node = { cpu: 2, memory: 4 * 2 ** 30 };
  const c: Container = { name: 'app', resources: { limits: { cpu: '1500m', memory: '128Mi' }, requests: { cpu: '250m' } } };
  it('divides by the divisor and rounds up; unset limits are the node allocatable, unset requests the limit', () => {
    expect(resourceValue(c, 'limits.cpu', undefined, node)).toBe('2');
    expect(resourceValue(c, 'limits.cpu', '1m', node)).toBe('1500');
    expect(resourceValue(c, 'requests.cpu', '1m', node)).toBe('250');
    expect(resourceValue(c, 'limits.memory', '1Mi', node)).toBe('128');
    expect(resourceValue(c, 'requests.memory', '1Mi', node)).toBe('128');
    expect(resourceValue({ name: 'x' }, 'limits.memory', undefined, node)).toBe(String(4 * 2 ** 30));
    expect(resourceValue({ name: 'x' }, 'requests.cpu', undefined, node)).toBe('0');
    expect(resourceValue(c, 'limits.gpu', undefined, node)).toBeUndefined();
  });
});

describe('expand', () => {
  it('expands known references, keeps unknown and unterminated ones, and unescapes $$', () => {
    const vars = new Map([['A', 'x']]);
    expect(expand('$(A)-$(B)-$$(A)-$A-$(A', vars)).toBe('x-$(B)-$(A)-$A-$(A');
  });
});

describe('serviceEnv', () => {
  const svc = (namespace: string, name: string, clusterIP: string, ports: { name?: string; protocol?: string; port: number }[]): ServiceLinkSource => ({
    metadata: { name, namespace },
    spec: { clusterIP, ports },
  });
  const services = [
    svc('default', 'kubernetes', '10.0.0.1', [{ name: 'https', protocol: 'TCP', port: 443 }]),
    svc('shop', 'web-front', '10.0.12.7', [
      { name: 'http', protocol: 'TCP', port: 80 },
      { name: 'dns', protocol: 'UDP', port: 53 },
    ]),
    svc('shop', 'headless', 'None', [{ port: 80 }]),
    svc('other', 'db', '10.0.3.3', [{ port: 5432 }]),
  ];

  it("gives the kubernetes Service and the pod namespace's Services the variables upstream kubelet does", () => {
    expect(Object.fromEntries(serviceEnv('shop', true, services))).toEqual({
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_PORT_HTTPS: '443',
      KUBERNETES_PORT: 'tcp://10.0.0.1:443',
      KUBERNETES_PORT_443_TCP: 'tcp://10.0.0.1:443',
      KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
      KUBERNETES_PORT_443_TCP_PORT: '443',
      KUBERNETES_PORT_443_TCP_ADDR: '10.0.0.1',
      WEB_FRONT_SERVICE_HOST: '10.0.12.7',
      WEB_FRONT_SERVICE_PORT: '80',
      WEB_FRONT_SERVICE_PORT_HTTP: '80',
      WEB_FRONT_SERVICE_PORT_DNS: '53',
      WEB_FRONT_PORT: 'tcp://10.0.12.7:80',
      WEB_FRONT_PORT_80_TCP: 'tcp://10.0.12.7:80',
      WEB_FRONT_PORT_80_TCP_PROTO: 'tcp',
      WEB_FRONT_PORT_80_TCP_PORT: '80',
      WEB_FRONT_PORT_80_TCP_ADDR: '10.0.12.7',
      WEB_FRONT_PORT_53_UDP: 'udp://10.0.12.7:53',
      WEB_FRONT_PORT_53_UDP_PROTO: 'udp',
      WEB_FRONT_PORT_53_UDP_PORT: '53',
      WEB_FRONT_PORT_53_UDP_ADDR: '10.0.12.7',
    });
  });

  it('with enableServiceLinks false keeps only the kubernetes Service; a namespace Service named kubernetes wins over it', () => {
    expect([...serviceEnv('shop', false, services).keys()].every((k) => k.startsWith('KUBERNETES_'))).toBe(true);
    const own = serviceEnv('shop', true, [...services, svc('shop', 'kubernetes', '10.0.9.9', [{ port: 8080 }])]);
    expect(own.get('KUBERNETES_SERVICE_HOST')).toBe('10.0.9.9');
  });

  it("comes after the container's own variables, which win, and is known to their $(VAR) expansion", () => {
    const c: Container = {
      name: 'app',
      env: [
        { name: 'KUBERNETES_SERVICE_HOST', value: 'mine' },
        { name: 'API', value: 'https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)' },
      ],
    };
    const result = resolveEnv(pod, c, sources({ serviceEnv: serviceEnv('shop', true, services.slice(0, 1)) }));
    expect('env' in result && result.env.slice(0, 3)).toEqual([
      { key: 'KUBERNETES_SERVICE_HOST', value: 'mine' },
      { key: 'API', value: 'https://mine:443' },
      { key: 'KUBERNETES_SERVICE_PORT', value: '443' },
    ]);
    expect('env' in result && result.env.filter((e) => e.key === 'KUBERNETES_SERVICE_HOST')).toHaveLength(1);
  });
});
