import {
  chainName,
  existingChains,
  JUMP_RULES,
  jumpsSurelyMissing,
  readyEndpoints,
  renderRules,
  withJumps,
  type ProxyEndpointSlice,
  type ProxyService,
} from './rules';

const svc = (name: string, spec: ProxyService['spec']): ProxyService => ({ metadata: { name, namespace: 'default' }, spec });
const slice = (
  service: string,
  endpoints: ProxyEndpointSlice['endpoints'],
  ports: ProxyEndpointSlice['ports'] = [{ name: 'http', protocol: 'TCP', port: 8080 }],
): ProxyEndpointSlice => ({
  metadata: { name: `${service}-abcde`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  endpoints,
  ports,
});
const opts = { clusterCidr: '10.244.0.0/16' };

describe('chainName', () => {
  it('is the prefix and 16 base32 characters of the key hash, stable', () => {
    expect(chainName('KUBE-SVC', 'default/web:http/TCP')).toMatch(/^KUBE-SVC-[A-Z2-7]{16}$/);
    expect(chainName('KUBE-SVC', 'default/web:http/TCP')).toBe(chainName('KUBE-SVC', 'default/web:http/TCP'));
    expect(chainName('KUBE-SVC', 'default/web:http/TCP')).not.toBe(chainName('KUBE-SVC', 'default/web:http/UDP'));
  });
});

describe('readyEndpoints', () => {
  it('takes ready endpoints of the named port from every slice of the Service, unique and sorted', () => {
    const web = svc('web', { clusterIP: '10.0.0.20', ports: [{ name: 'http', port: 80 }] });
    const slices = [
      slice('web', [
        { addresses: ['10.244.1.5'], conditions: { ready: true } },
        { addresses: ['10.244.0.7'] },
        { addresses: ['10.244.2.9'], conditions: { ready: false } },
      ]),
      slice('web', [{ addresses: ['10.244.0.7'], conditions: { ready: true } }]),
      slice('other', [{ addresses: ['10.244.3.3'] }]),
      slice('web', [{ addresses: ['10.244.4.4'] }], [{ name: 'metrics', protocol: 'TCP', port: 9090 }]),
    ];
    expect(readyEndpoints(web, 'http', 'TCP', slices)).toEqual([
      { ip: '10.244.0.7', port: 8080 },
      { ip: '10.244.1.5', port: 8080 },
    ]);
  });
});

describe('renderRules', () => {
  const web = svc('web', { type: 'NodePort', clusterIP: '10.0.0.20', ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 }] });
  const twoReady = slice('web', [{ addresses: ['10.244.0.7'] }, { addresses: ['10.244.1.5'] }]);

  it('sends the cluster IP and the node port to the endpoints, with equal odds', () => {
    const { restore, chains } = renderRules([web], [twoReady], opts);
    const svcChain = chainName('KUBE-SVC', 'default/web:http/TCP');
    expect(restore).toContain(`-A KUBE-SERVICES -d 10.0.0.20/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j ${svcChain}`);
    expect(restore).toContain(`-A ${svcChain} ! -s 10.244.0.0/16 -d 10.0.0.20/32 -p tcp`);
    const toSeps = restore.split('\n').filter((l) => l.startsWith(`-A ${svcChain} -m comment`));
    expect(toSeps).toHaveLength(2);
    expect(toSeps[0]).toContain('-m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-');
    expect(toSeps[1]).not.toContain('statistic');
    expect(restore).toMatch(/-A KUBE-SEP-[A-Z2-7]{16} -p tcp .* -j DNAT --to-destination 10\.244\.0\.7:8080/);
    expect(restore).toMatch(/-A KUBE-SEP-[A-Z2-7]{16} -s 10\.244\.1\.5\/32 .* -j KUBE-MARK-MASQ/);
    expect(restore).toContain(
      `-A KUBE-NODEPORTS -p tcp -m comment --comment "default/web:http" -m tcp --dport 30080 -j ${chainName('KUBE-EXT', 'default/web:http/TCP')}`,
    );
    expect(chains.size).toBe(4); // SVC, EXT and two SEPs
    // Every chain a rule jumps to is declared in the same table.
    const nat = restore.slice(restore.indexOf('*nat'));
    for (const target of nat.matchAll(/-j (KUBE-[A-Z-]+[A-Z2-7]*)/g)) expect(nat).toContain(`:${target[1]} - [0:0]`);
  });

  it('rejects traffic to a Service port without ready endpoints instead of black-holing it', () => {
    const { restore, chains } = renderRules([web], [slice('web', [{ addresses: ['10.244.0.7'], conditions: { ready: false } }])], opts);
    expect(chains.size).toBe(0);
    const filter = restore.slice(0, restore.indexOf('*nat'));
    expect(filter).toContain('-A KUBE-SERVICES -d 10.0.0.20/32 -p tcp -m comment --comment "default/web:http has no endpoints" -m tcp --dport 80 -j REJECT');
    expect(filter).toContain('--dport 30080 -j REJECT');
  });

  it('skips headless and ExternalName Services', () => {
    const headless = svc('db', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] });
    const ext = svc('ext', { type: 'ExternalName', ports: [{ port: 80 }] });
    const { restore } = renderRules([headless, ext], [slice('db', [{ addresses: ['10.244.0.9'] }])], opts);
    expect(restore).not.toContain('default/db');
    expect(restore).not.toContain('default/ext');
  });

  it('declares and deletes the chains of Services that are gone', () => {
    const old = chainName('KUBE-SVC', 'default/gone:http/TCP');
    const save = `*nat\n:PREROUTING ACCEPT [0:0]\n:${old} - [0:0]\n:KUBE-SERVICES - [0:0]\nCOMMIT\n`;
    const stale = existingChains(save);
    expect([...stale]).toEqual([old]);
    const { restore } = renderRules([web], [twoReady], opts, stale);
    expect(restore).toContain(`:${old} - [0:0]`);
    expect(restore).toContain(`-X ${old}`);
    expect(restore.indexOf(`-X ${old}`)).toBeGreaterThan(restore.indexOf('-A KUBE-SERVICES'));
  });

  it('renders the same text for the same state, whatever the order it was listed in', () => {
    const b = svc('b', { clusterIP: '10.0.0.30', ports: [{ name: 'http', port: 80 }] });
    const s2 = slice('b', [{ addresses: ['10.244.2.2'] }]);
    expect(renderRules([web, b], [twoReady, s2], opts).restore).toBe(renderRules([b, web], [s2, twoReady], opts).restore);
  });
});

describe('jump rules', () => {
  // `iptables-save` of a node as Docker leaves it: its embedded DNS rules in nat, no filter table yet.
  const NEW_NODE = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':DOCKER_OUTPUT - [0:0]',
    '-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT',
    'COMMIT',
    '',
  ].join('\n');

  it('are surely missing from a table without their target chain, or without the table', () => {
    expect(jumpsSurelyMissing(NEW_NODE)).toEqual(JUMP_RULES);
    const natDone = NEW_NODE.replace(':DOCKER_OUTPUT', ':KUBE-SERVICES - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:DOCKER_OUTPUT');
    expect(jumpsSurelyMissing(natDone)).toEqual(JUMP_RULES.filter((j) => j.table === 'filter'));
    const filterToo = `*filter\n:INPUT ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-EXTERNAL-SERVICES - [0:0]\nCOMMIT\n${natDone}`;
    expect(jumpsSurelyMissing(filterToo)).toEqual([]);
  });

  it('go first into their chains, in their own table, quoted as iptables-restore reads them', () => {
    const { restore } = renderRules([], [], { clusterCidr: '10.244.0.0/16' });
    const out = withJumps(restore, JUMP_RULES).split('\n');
    const nat = out.slice(out.indexOf('*nat'));
    const filter = out.slice(out.indexOf('*filter'), out.indexOf('*nat'));
    expect(nat.filter((l) => l.startsWith('-I '))).toEqual([
      '-I PREROUTING 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-I OUTPUT 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-I POSTROUTING 1 -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    ]);
    expect(filter.filter((l) => l.startsWith('-I '))).toHaveLength(3);
    // Each before its table's COMMIT, after the chains it jumps to are declared.
    expect(nat.findIndex((l) => l.startsWith('-I '))).toBeGreaterThan(nat.indexOf(':KUBE-POSTROUTING - [0:0]'));
    expect(nat.indexOf('COMMIT')).toBe(nat.indexOf('-I POSTROUTING 1 -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING') + 1);
    expect(withJumps(restore, [])).toBe(restore);
  });
});
