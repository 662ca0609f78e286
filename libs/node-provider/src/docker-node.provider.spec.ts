import { buildContainerCreateOptions, filesArchive, labelFilter, networkName } from './docker-node.provider';
import { ProviderError } from './provider-error';
import { NODE_AGENT_PORT, NodeLabels, type NodeSpec } from './node-provider';

const spec = (overrides: Partial<NodeSpec> = {}): NodeSpec => ({
  name: 'aks-nodepool1-12345678-vmss000000',
  clusterId: '11111111-2222-3333-4444-555555555555',
  image: 'cerulean/node:202611.01.0',
  labels: { [NodeLabels.cluster]: 'c1', [NodeLabels.pool]: 'nodepool1' },
  env: { CERULEAN_POOL: 'nodepool1', CERULEAN_ZONE: 'westeurope-2' },
  nanoCpus: 500_000_000,
  memoryBytes: 256 * 2 ** 20,
  zone: 'westeurope-1',
  ...overrides,
});

const dockerError = (statusCode: number, message: string): Error =>
  Object.assign(new Error(`(HTTP code ${statusCode}) ${message}`), { statusCode, json: { message } });

describe('buildContainerCreateOptions', () => {
  it('defines the node container as the provider contract says', () => {
    const sut = buildContainerCreateOptions(spec(), '127.0.0.1');
    const network = 'cerulean-11111111-2222-3333-4444-555555555555';
    expect(sut).toMatchObject({
      name: 'aks-nodepool1-12345678-vmss000000',
      Hostname: 'aks-nodepool1-12345678-vmss000000',
      Image: 'cerulean/node:202611.01.0',
      Labels: { [NodeLabels.cluster]: 'c1', [NodeLabels.pool]: 'nodepool1', [NodeLabels.managed]: 'true' },
      HostConfig: {
        NanoCpus: 500_000_000,
        Memory: 256 * 2 ** 20,
        PortBindings: { [`${NODE_AGENT_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
        RestartPolicy: { Name: 'unless-stopped' },
        Init: true,
        NetworkMode: network,
        // External names are unreachable from an isolated network: lookups must fail fast, not in 10 s.
        DnsOptions: ['timeout:1', 'attempts:1'],
      },
      NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: ['aks-nodepool1-12345678-vmss000000'] } } },
    });
  });

  it('publishes fixed ports on the publish host and adds aliases, keeping the agent port (control plane)', () => {
    const sut = buildContainerCreateOptions(spec({ fixedPorts: [{ containerPort: 6443, hostPort: 20123 }], aliases: ['cerulean-control-plane'] }), '127.0.0.1');
    expect(sut.ExposedPorts).toEqual({ [`${NODE_AGENT_PORT}/tcp`]: {}, '6443/tcp': {} });
    expect(sut.HostConfig?.PortBindings).toEqual({
      [`${NODE_AGENT_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }],
      '6443/tcp': [{ HostIp: '127.0.0.1', HostPort: '20123' }],
    });
    expect(Object.values(sut.NetworkingConfig?.EndpointsConfig ?? {})[0]?.Aliases).toEqual(['aks-nodepool1-12345678-vmss000000', 'cerulean-control-plane']);
    expect(JSON.stringify(sut)).not.toContain('PRIVATE KEY');
  });

  it('gives a CPU weight only when the spec asks for one (the control plane), leaving the Docker default otherwise', () => {
    expect(buildContainerCreateOptions(spec({ cpuShares: 4096 }), '127.0.0.1').HostConfig?.CpuShares).toBe(4096);
    expect(buildContainerCreateOptions(spec(), '127.0.0.1').HostConfig).not.toHaveProperty('CpuShares');
  });

  it('leaves a node without fixed ports or aliases exactly as before', () => {
    expect(buildContainerCreateOptions(spec(), '127.0.0.1').ExposedPorts).toEqual({ [`${NODE_AGENT_PORT}/tcp`]: {} });
  });

  it('fills identity env gaps but lets the given env win', () => {
    const env = buildContainerCreateOptions(spec(), '127.0.0.1').Env ?? [];
    expect(env).toEqual(
      expect.arrayContaining([
        'CERULEAN_NODE_NAME=aks-nodepool1-12345678-vmss000000',
        'CERULEAN_CLUSTER_ID=11111111-2222-3333-4444-555555555555',
        'CERULEAN_ZONE=westeurope-2',
        'CERULEAN_POOL=nodepool1',
      ]),
    );
    expect(env.filter((e) => e.startsWith('CERULEAN_ZONE='))).toHaveLength(1);
  });
});

describe('ProviderError.fromDocker', () => {
  it.each([
    [dockerError(500, 'driver failed'), 'EngineError', true],
    [dockerError(503, 'busy'), 'EngineError', true],
    [dockerError(404, 'No such image: cerulean/node:x'), 'ImageNotFound', false],
    [dockerError(404, 'network cerulean-x not found'), 'NetworkNotFound', false],
    [dockerError(404, 'No such container: n1'), 'NotFound', false],
    [dockerError(409, 'Conflict. The container name is already in use'), 'Conflict', false],
    [dockerError(400, 'invalid reference format'), 'InvalidSpec', false],
    [Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' }), 'EngineUnavailable', true],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'EngineUnavailable', true],
    [new Error('weird'), 'Unknown', false],
  ])('maps %s to %s (transient=%s), keeping the cause', (err, code, transient) => {
    const sut = ProviderError.fromDocker(err, 'create node n1');
    expect(sut).toBeInstanceOf(ProviderError);
    expect(sut.code).toBe(code);
    expect(sut.transient).toBe(transient);
    expect(sut.cause).toBe(err);
    expect(sut.message).toMatch(/^create node n1: /);
  });

  it('passes a ProviderError through unchanged', () => {
    const original = new ProviderError('x', { code: 'Conflict', transient: true });
    expect(ProviderError.fromDocker(original, 'y')).toBe(original);
  });
});

describe('naming and filters', () => {
  it('names the cluster network after the cluster id', () => {
    expect(networkName('abc')).toBe('cerulean-abc');
  });

  it('builds one key=value label filter per label', () => {
    expect(labelFilter({ a: '1', 'cerulean.cluster': 'c1' })).toEqual(['a=1', 'cerulean.cluster=c1']);
  });
});

describe('filesArchive', () => {
  it('lists parent folders first, then the files with their modes', () => {
    const sut = filesArchive([
      { path: '/etc/cerulean/pki/ca.crt', content: 'CA', mode: 0o644 },
      { path: '/etc/cerulean/pki/apiserver.key', content: 'KEY', mode: 0o600 },
    ]);
    expect(sut.map((e) => `${e.type} ${e.path}`)).toEqual([
      'dir /etc',
      'dir /etc/cerulean',
      'dir /etc/cerulean/pki',
      'file /etc/cerulean/pki/ca.crt',
      'file /etc/cerulean/pki/apiserver.key',
    ]);
    expect(sut[4]).toMatchObject({ mode: 0o600 });
  });
});
