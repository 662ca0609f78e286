import type { KubeObject } from '@cerulean/kube';
import { graphTarget, podReferences, references, volumeClaim } from './node-graph';

const pod = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec });

describe('podReferences', () => {
  it('is undefined for a pod bound to no node', () => {
    expect(podReferences(pod({ containers: [] }))).toBeUndefined();
  });

  it('collects what upstream’s graph populator does, from every kind of container and volume', () => {
    const refs = podReferences(
      pod({
        nodeName: 'n1',
        imagePullSecrets: [{ name: 'pull' }],
        initContainers: [{ name: 'i', envFrom: [{ secretRef: { name: 'init-env' } }] }],
        containers: [
          {
            name: 'c',
            env: [
              { name: 'A', valueFrom: { configMapKeyRef: { name: 'cm-key', key: 'k' } } },
              { name: 'B', valueFrom: { secretKeyRef: { name: 's-key', key: 'k' } } },
              { name: 'C', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'D', value: 'plain' },
            ],
            envFrom: [{ configMapRef: { name: 'cm-all' } }],
          },
        ],
        ephemeralContainers: [{ name: 'e', envFrom: [{ secretRef: { name: 'debug' } }] }],
        volumes: [
          { name: 'a', configMap: { name: 'cm-vol' } },
          { name: 'b', secret: { secretName: 's-vol' } },
          {
            name: 'c',
            projected: { sources: [{ configMap: { name: 'kube-root-ca.crt' } }, { secret: { name: 's-proj' } }, { serviceAccountToken: { path: 't' } }] },
          },
          { name: 'd', csi: { driver: 'x', nodePublishSecretRef: { name: 's-csi' } } },
          { name: 'e', azureFile: { secretName: 's-azure', shareName: 'x' } },
          { name: 'f', rbd: { secretRef: { name: 's-rbd' } } },
          { name: 'g', persistentVolumeClaim: { claimName: 'data' } },
          { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } },
          { name: 'h', emptyDir: {} },
        ],
      }),
    );
    expect(
      refs && { ...refs, secrets: [...refs.secrets].sort(), configmaps: [...refs.configmaps].sort(), persistentvolumeclaims: [...refs.persistentvolumeclaims] },
    ).toEqual({
      namespace: 'ns',
      node: 'n1',
      serviceAccount: 'default',
      secrets: ['debug', 'init-env', 'pull', 's-azure', 's-csi', 's-key', 's-proj', 's-rbd', 's-vol'],
      configmaps: ['cm-all', 'cm-key', 'cm-vol', 'kube-root-ca.crt'],
      persistentvolumeclaims: ['data', 'p-scratch'],
    });
  });

  it('relates the node to its service account by name, and to nothing else of that name', () => {
    const refs = podReferences(pod({ nodeName: 'n1', serviceAccountName: 'runner', containers: [] }))!;
    expect(references(refs, 'serviceaccounts', 'runner')).toBe(true);
    expect(references(refs, 'serviceaccounts', 'default')).toBe(false);
    expect(references(refs, 'secrets', 'runner')).toBe(false);
  });
});

describe('graphTarget', () => {
  const req = (verb: string, resource: string, extra: { subresource?: string; name?: string; group?: string } = {}) =>
    ({ resourceRequest: true, verb, group: '', resource, namespace: 'ns', name: 'x', ...extra }) as const;

  it('covers named reads of Secrets, ConfigMaps and claims, and service-account token requests', () => {
    expect(graphTarget(req('get', 'secrets'))).toEqual({ resource: 'secrets', namespace: 'ns', name: 'x' });
    expect(graphTarget(req('get', 'configmaps'))).toEqual({ resource: 'configmaps', namespace: 'ns', name: 'x' });
    expect(graphTarget(req('get', 'persistentvolumeclaims'))).toEqual({ resource: 'persistentvolumeclaims', namespace: 'ns', name: 'x' });
    expect(graphTarget(req('create', 'serviceaccounts', { subresource: 'token' }))).toEqual({ resource: 'serviceaccounts', namespace: 'ns', name: 'x' });
  });

  it('covers named reads of volumes, which have no namespace', () => {
    const pv = { resourceRequest: true, verb: 'get', group: '', resource: 'persistentvolumes', name: 'pv-1' } as const;
    expect(graphTarget(pv)).toEqual({ resource: 'persistentvolumes', namespace: '', name: 'pv-1' });
    expect(graphTarget({ ...pv, verb: 'list', name: undefined })).toBeUndefined();
    expect(graphTarget({ ...pv, verb: 'update' })).toBeUndefined();
  });

  it('leaves everything else to the other rules (lists, writes, other kinds and groups)', () => {
    expect(graphTarget(req('list', 'secrets', { name: undefined }))).toBeUndefined();
    expect(graphTarget(req('update', 'secrets'))).toBeUndefined();
    expect(graphTarget(req('get', 'serviceaccounts'))).toBeUndefined();
    expect(graphTarget(req('get', 'pods'))).toBeUndefined();
    expect(graphTarget(req('get', 'secrets', { group: 'example.com' }))).toBeUndefined();
    expect(graphTarget({ resourceRequest: false, verb: 'get', path: '/healthz' })).toBeUndefined();
  });
});

describe('volumeClaim', () => {
  it('is the claim a volume’s claimRef names, and none without one', () => {
    const pv = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv' }, spec });
    expect(volumeClaim(pv({ claimRef: { namespace: 'ns', name: 'data', uid: 'u' } }))).toEqual({ namespace: 'ns', name: 'data' });
    expect(volumeClaim(pv({}))).toBeUndefined();
  });
});
