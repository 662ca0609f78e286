import type { Pod } from './pod-types';
import { pinnedElsewhere, volumeDir, volumeMounts } from './volumes';

const pod: Pod = {
  metadata: { name: 'p', namespace: 'default', uid: 'u1' },
  spec: {
    containers: [
      {
        name: 'c',
        volumeMounts: [
          { name: 'scratch', mountPath: '/scratch' },
          { name: 'cfg', mountPath: '/etc/app/app.conf', subPath: 'app.conf' },
          { name: 'sec', mountPath: '/sec', readOnly: false },
          { name: 'host', mountPath: '/host' },
          { name: 'nfs', mountPath: '/nfs' },
          { name: 'data', mountPath: '/data' },
          { name: 'logs', mountPath: '/logs' },
        ],
      },
    ],
    volumes: [
      { name: 'scratch', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'app' } },
      { name: 'sec', secret: { secretName: 's' } },
      { name: 'host', hostPath: { path: '/var/data' } },
      { name: 'nfs', nfs: { server: 'x', path: '/' } },
      { name: 'data', persistentVolumeClaim: { claimName: 'data-0' } },
      { name: 'logs', persistentVolumeClaim: { claimName: 'logs-0', readOnly: true } },
    ],
  },
};

describe('volumes', () => {
  it('places volumes under the pod dir by plugin and binds them; configMap and secret read-only unless told', () => {
    expect(volumeDir(pod, { name: 'x', projected: { sources: [] } })).toBe('/var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/x');
    expect(volumeMounts(pod, pod.spec.containers[0])).toEqual([
      { container_path: '/scratch', host_path: '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/scratch', readonly: false },
      { container_path: '/etc/app/app.conf', host_path: '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~configmap/cfg/app.conf', readonly: true },
      { container_path: '/sec', host_path: '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~secret/sec', readonly: false },
      { container_path: '/host', host_path: '/var/data', readonly: false },
      // A claim's volume through the link the set-up makes; read-only when the pod's volume says so.
      { container_path: '/data', host_path: '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~local-volume/data', readonly: false },
      { container_path: '/logs', host_path: '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~local-volume/logs', readonly: true },
    ]);
  });

  it('refuses a volume pinned to other hosts by name, and leaves other affinities to the scheduler', () => {
    const pinned = (...terms: { key: string; operator: string; values?: string[] }[][]) => ({
      spec: { local: { path: '/v' }, nodeAffinity: { required: { nodeSelectorTerms: terms.map((matchExpressions) => ({ matchExpressions })) } } },
    });
    const host = (...values: string[]) => [{ key: 'kubernetes.io/hostname', operator: 'In', values }];
    expect(pinnedElsewhere(pinned(host('n1')), 'n1')).toBe(false);
    expect(pinnedElsewhere(pinned(host('n1')), 'n2')).toBe(true);
    expect(pinnedElsewhere(pinned(host('n1'), host('n2')), 'n2')).toBe(false);
    expect(pinnedElsewhere(pinned(host('n1'), [{ key: 'zone', operator: 'In', values: ['1'] }]), 'n2')).toBe(false);
    expect(pinnedElsewhere({ spec: { hostPath: { path: '/v' } } }, 'n2')).toBe(false);
  });
});
