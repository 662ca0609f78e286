import { containerConfig, containerHash, CONTAINER_HASH_ANNOTATION, linuxResources, podCgroupParent, qosClass, sandboxConfig } from './config';
import type { Pod } from './pod-types';

const GiB = 2 ** 30;

function pod(resources: Record<string, Record<string, string>>[] = [{}], extra: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1', labels: { app: 'web' }, annotations: { a: 'b' } },
    spec: { nodeName: 'node-a', containers: resources.map((r, i) => ({ name: `c${i}`, image: 'busybox:1.36', resources: r })), ...extra },
  };
}

describe('QoS class and cgroup parent', () => {
  it('classifies as upstream does', () => {
    expect(qosClass(pod())).toBe('BestEffort');
    expect(qosClass(pod([{ limits: { cpu: '1', memory: '1Gi' } }]))).toBe('Guaranteed');
    expect(qosClass(pod([{ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1000m', memory: '1024Mi' } }]))).toBe('Guaranteed');
    expect(qosClass(pod([{ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } }]))).toBe('Burstable');
    expect(qosClass(pod([{ limits: { cpu: '1', memory: '1Gi' } }, {}]))).toBe('Burstable');
    expect([
      podCgroupParent(pod()),
      podCgroupParent(pod([{ limits: { cpu: '1', memory: '1Gi' } }])),
      podCgroupParent(pod([{ requests: { cpu: '1' } }])),
    ]).toEqual(['/kubepods/besteffort/podu-1', '/kubepods/podu-1', '/kubepods/burstable/podu-1']);
  });
});

describe('sandboxConfig', () => {
  it('names the sandbox, its log directory, labels, cgroup and namespaces', () => {
    const c = sandboxConfig(pod([{}], { hostname: 'h' }), 2, { dns: { servers: ['10.0.0.10'], clusterDomain: 'cluster.local' } });
    expect(c).toMatchObject({
      metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1', attempt: 2 },
      hostname: 'h',
      log_directory: '/var/log/pods/shop_web-1_u-1',
      dns_config: { servers: ['10.0.0.10'], searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] },
      labels: { app: 'web', 'io.kubernetes.pod.name': 'web-1', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'u-1' },
      annotations: { a: 'b' },
      linux: { cgroup_parent: '/kubepods/besteffort/podu-1', security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    });
    const host = sandboxConfig(pod([{}], { hostNetwork: true, hostPID: true }), 0, {
      dns: { servers: ['10.0.0.10'], clusterDomain: 'cluster.local' },
    });
    // No hostname: runc cannot set one without a private UTS namespace, and the node's is the pod's already.
    expect([host.hostname, host.dns_config, host.linux.security_context.namespace_options]).toEqual([
      '',
      undefined,
      { network: 'NODE', pid: 'NODE', ipc: 'POD' },
    ]);
  });
});

describe('linuxResources', () => {
  it('sets shares from the request, quota from the limit, the memory limit and an OOM score by QoS', () => {
    const p = pod([{ requests: { cpu: '250m', memory: '1Gi' }, limits: { cpu: '1500m', memory: '2Gi' } }]);
    expect(linuxResources(p, p.spec.containers[0], 4 * GiB)).toEqual({
      cpu_shares: 256,
      cpu_period: 100_000,
      cpu_quota: 150_000,
      memory_limit_in_bytes: 2 * GiB,
      oom_score_adj: 750,
    });
    const g = pod([{ limits: { cpu: '2', memory: '1Gi' } }]);
    expect(linuxResources(g, g.spec.containers[0], 4 * GiB)).toEqual({
      cpu_shares: 2048,
      cpu_period: 100_000,
      cpu_quota: 200_000,
      memory_limit_in_bytes: GiB,
      oom_score_adj: -997,
    });
    const b = pod();
    expect(linuxResources(b, b.spec.containers[0], 4 * GiB)).toEqual({ cpu_shares: 2, oom_score_adj: 1000 });
    const tiny = pod([{ limits: { cpu: '1m' }, requests: { cpu: '1m' } }]);
    expect(linuxResources(tiny, tiny.spec.containers[0], 4 * GiB)).toMatchObject({ cpu_shares: 2, cpu_quota: 1000 });
  });
});

describe('containerConfig', () => {
  it('builds one attempt: expanded command and args, env, log path, labels', () => {
    const p = pod();
    p.spec.containers[0] = { name: 'app', image: 'busybox:1.36', command: ['sh', '-c', 'echo $(GREETING)'], args: ['$(MISSING)'], workingDir: '/w' };
    const c = containerConfig(
      p,
      { container: p.spec.containers[0], attempt: 3, imageRef: 'sha256:abc', env: [{ key: 'GREETING', value: 'hi' }], mounts: [] },
      4 * GiB,
    );
    expect(c).toMatchObject({
      metadata: { name: 'app', attempt: 3 },
      image: { image: 'sha256:abc', user_specified_image: 'busybox:1.36' },
      command: ['sh', '-c', 'echo hi'],
      args: ['$(MISSING)'],
      working_dir: '/w',
      envs: [{ key: 'GREETING', value: 'hi' }],
      log_path: 'app/3.log',
      labels: { 'io.kubernetes.container.name': 'app', 'io.kubernetes.pod.uid': 'u-1' },
      annotations: { 'io.kubernetes.container.restartCount': '3' },
    });
  });

  it("joins an ephemeral container to its target's process namespace, unless the pod uses the node's", () => {
    const p = pod();
    const debug = { name: 'debugger', image: 'busybox:1.36', targetContainerName: 'app' };
    const run = { container: debug, attempt: 0, imageRef: 'sha256:abc', env: [], mounts: [], targetId: 'c0ffee' };
    expect(containerConfig(p, run, 4 * GiB).linux.security_context.namespace_options).toEqual({
      network: 'POD',
      pid: 'TARGET',
      ipc: 'POD',
      target_id: 'c0ffee',
    });
    expect(containerConfig(p, { ...run, targetId: undefined }, 4 * GiB).linux.security_context.namespace_options.pid).toBe('CONTAINER');
    p.spec.hostPID = true;
    expect(containerConfig(p, run, 4 * GiB).linux.security_context.namespace_options.pid).toBe('NODE');
  });

  it('stamps each container with a hash of its spec, which only a change of the spec moves', () => {
    const p = pod();
    const c = { name: 'app', image: 'busybox:1.35', command: ['sleep', '1'] };
    const config = containerConfig(p, { container: c, attempt: 0, imageRef: 'sha256:abc', env: [], mounts: [] }, 4 * GiB);
    expect(config.annotations[CONTAINER_HASH_ANNOTATION]).toBe(containerHash(c));
    expect(containerHash({ command: ['sleep', '1'], image: 'busybox:1.35', name: 'app' })).toBe(containerHash(c));
    expect(containerHash({ ...c, image: 'busybox:1.36' })).not.toBe(containerHash(c));
  });
});
