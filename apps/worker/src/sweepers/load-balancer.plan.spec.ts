import { LoadBalancerLabels, loadBalancerContainerName, loadBalancerPortsHash, type LoadBalancerHandle } from '@cerulean/node-provider';
import {
  controlPlaneStarting,
  desiredLoadBalancers,
  forwardedPorts,
  hasStaleIngress,
  planLoadBalancers,
  renderIngress,
  sameIngress,
  type ServiceObject,
} from './load-balancer.plan';

const svc = (name: string, spec: ServiceObject['spec'], status?: ServiceObject['status']): ServiceObject => ({
  metadata: { name, namespace: 'default', uid: `uid-${name}` },
  spec,
  status,
});
const web = (nodePort = 31000) => svc('web', { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort }] });
const container = (name: string, hash: string, running = true, hostPorts: Record<string, number> = {}): LoadBalancerHandle => ({
  name,
  id: `id-${name}`,
  running,
  labels: { [LoadBalancerLabels.portsHash]: hash },
  hostPorts,
});

describe('load balancer plan', () => {
  it('wants a load balancer only for LoadBalancer Services without a class, forwarding their TCP ports with node ports', () => {
    const desired = desiredLoadBalancers([
      web(),
      svc('plain', { type: 'ClusterIP', ports: [{ port: 80 }] }),
      svc('np', { type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }] }),
      svc('classed', { type: 'LoadBalancer', loadBalancerClass: 'example.com/lb', ports: [{ port: 80, nodePort: 30002 }] }),
      svc('sctp-only', { type: 'LoadBalancer', ports: [{ port: 53, protocol: 'SCTP', nodePort: 30003 }] }),
      svc('no-node-ports', { type: 'LoadBalancer', ports: [{ port: 80 }] }),
    ]);
    expect(desired.map((d) => d.name)).toEqual(['web']);
    expect(desired[0].ports).toEqual([{ name: 'http', protocol: 'TCP', port: 80, nodePort: 31000 }]);
    expect(desired[0].containerName).toBe(`cerulean-lb-uid-web-${desired[0].portsHash}`);
  });

  it('keeps the order of spec.ports, forwards TCP and UDP, skips SCTP', () => {
    const s = svc('mixed', {
      type: 'LoadBalancer',
      ports: [
        { name: 'b', port: 8443, nodePort: 30010 },
        { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30011 },
        { name: 'sctp', port: 9, protocol: 'SCTP', nodePort: 30013 },
        { name: 'a', port: 80, protocol: 'TCP', nodePort: 30012 },
      ],
    });
    expect(forwardedPorts(s).map((p) => `${p.name}/${p.protocol}`)).toEqual(['b/TCP', 'dns/UDP', 'a/TCP']);
    const [d] = desiredLoadBalancers([s]);
    // The same port number over TCP and UDP are two container ports, each with its own host port.
    expect(renderIngress(d.ports, { '8443/tcp': 40001, '53/udp': 40002, '80/tcp': 40003 })?.[0].ports).toEqual([
      { port: 40001, protocol: 'TCP' },
      { port: 40002, protocol: 'UDP' },
      { port: 40003, protocol: 'TCP' },
    ]);
    expect(renderIngress(d.ports, { '8443/tcp': 40001, '53/tcp': 40002, '80/tcp': 40003 })).toBeUndefined();
  });

  it('names containers by Service uid and a hash that changes with the ports', () => {
    const a = loadBalancerPortsHash([{ name: '', protocol: 'TCP', port: 80, nodePort: 31000 }]);
    expect(loadBalancerPortsHash([{ name: '', protocol: 'TCP', port: 80, nodePort: 31000 }])).toBe(a);
    expect(loadBalancerPortsHash([{ name: '', protocol: 'TCP', port: 81, nodePort: 31000 }])).not.toBe(a);
    expect(loadBalancerPortsHash([{ name: '', protocol: 'TCP', port: 80, nodePort: 31001 }])).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{12}$/);
    expect(loadBalancerContainerName('u1', a)).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/);
  });

  it('creates what is missing, keeps what matches, removes the rest (deleted Service, changed ports)', () => {
    const [d] = desiredLoadBalancers([web()]);
    expect(planLoadBalancers([d], [])).toEqual({ create: [d], keep: [], remove: [] });
    const same = container(d.containerName, d.portsHash);
    expect(planLoadBalancers([d], [same])).toEqual({ create: [], keep: [{ desired: d, container: same }], remove: [] });
    const old = container(`cerulean-lb-uid-web-000000000000`, '000000000000');
    expect(planLoadBalancers([d], [old])).toEqual({ create: [d], keep: [], remove: [old] });
    const [changed] = desiredLoadBalancers([web(31001)]);
    expect(planLoadBalancers([changed], [same])).toEqual({ create: [changed], keep: [], remove: [same] });
    expect(planLoadBalancers([], [same])).toEqual({ create: [], keep: [], remove: [same] });
  });

  it('renders the ingress with the host port of each Service port, none while a port has no host port', () => {
    const [d] = desiredLoadBalancers([web()]);
    expect(renderIngress(d.ports, { '80/tcp': 49153 })).toEqual([{ ip: '127.0.0.1', ipMode: 'VIP', ports: [{ port: 49153, protocol: 'TCP' }] }]);
    expect(renderIngress(d.ports, {})).toBeUndefined();
  });

  it('sees an unchanged ingress as the same (no write after a restart) and a changed host port as different', () => {
    const ingress = [{ ip: '127.0.0.1', ipMode: 'VIP', ports: [{ port: 49153, protocol: 'TCP' }] }];
    expect(sameIngress(svc('s', {}, { loadBalancer: { ingress } }), ingress)).toBe(true);
    expect(sameIngress(svc('s', {}, { loadBalancer: {} }), ingress)).toBe(false);
    expect(sameIngress(svc('s', {}, { loadBalancer: { ingress: [{ ...ingress[0], ports: [{ port: 49154, protocol: 'TCP' }] }] } }), ingress)).toBe(false);
  });

  it('clears only the ingress it wrote', () => {
    expect(hasStaleIngress(svc('s', { type: 'ClusterIP' }, { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } }))).toBe(true);
    expect(hasStaleIngress(svc('s', { type: 'ClusterIP' }, { loadBalancer: {} }))).toBe(false);
    expect(hasStaleIngress(svc('s', { type: 'LoadBalancer', loadBalancerClass: 'x' }, { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } }))).toBe(false);
  });

  it('takes a dropped or refused connection for a control plane still starting only while an operation runs', () => {
    const err = (code?: string) => Object.assign(new Error(code ?? 'timed out'), code ? { code } : {});
    for (const state of ['Creating', 'Starting', 'Upgrading', 'Updating']) {
      expect(controlPlaneStarting(state, err('ECONNRESET'))).toBe(true);
      expect(controlPlaneStarting(state, err('ECONNREFUSED'))).toBe(true);
      expect(controlPlaneStarting(state, err())).toBe(false);
      expect(controlPlaneStarting(state, err('CERT_HAS_EXPIRED'))).toBe(false);
    }
    for (const state of ['Succeeded', 'Failed', 'Canceled']) expect(controlPlaneStarting(state, err('ECONNRESET'))).toBe(false);
    expect(controlPlaneStarting('Creating', 'not an error')).toBe(false);
  });
});
