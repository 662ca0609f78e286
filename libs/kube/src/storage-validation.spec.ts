import type { KubeObject } from './object';
import { objectUsage } from './quota';
import { accessModesText, validateClaimSpec, validateClaimUpdate, validateVolumeSpec } from './storage-validation';
import { toTable } from './tables';

const claim = (spec: Record<string, unknown>, status: Record<string, unknown> = {}, annotations?: Record<string, string>): KubeObject => ({
  metadata: { name: 'c', namespace: 'ns', ...(annotations ? { annotations } : {}) },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem', ...spec },
  status,
});

describe('storage validation', () => {
  it('names a claim spec’s faults at upstream’s paths', () => {
    expect(validateClaimSpec({ accessModes: ['ReadWriteOncePod', 'ReadWriteOnce'], resources: { requests: { storage: '-1Gi' } }, volumeMode: 'Raw' })).toEqual([
      { reason: 'FieldValueForbidden', message: 'Forbidden: may not use ReadWriteOncePod with other access modes', field: 'spec.accessModes' },
      { reason: 'FieldValueInvalid', message: 'Invalid value: "-1Gi": must be greater than zero', field: 'spec.resources[storage]' },
      { reason: 'FieldValueNotSupported', message: 'Unsupported value: "Raw": supported values: "Block", "Filesystem"', field: 'spec.volumeMode' },
    ]);
  });

  it('counts a volume’s sources: the second is forbidden where upstream names it', () => {
    const causes = validateVolumeSpec({
      accessModes: ['ReadWriteOnce'],
      capacity: { storage: '1Gi', cpu: '1' },
      nfs: { server: 'x', path: 'relative' },
      cephfs: { monitors: ['m'] },
    });
    expect(causes.map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.capacity: Unsupported value: map[cpu:1 storage:1Gi]: supported values: "storage"',
      'spec.nfs.path: Invalid value: "relative": must be an absolute path',
      'spec.cephFS: Forbidden: may not specify more than 1 volume type',
    ]);
  });

  it('lets binding set volumeName once and a bound claim change its request, nothing else', () => {
    const old = claim({});
    expect(validateClaimUpdate(claim({ volumeName: 'pv-1' }), old)).toEqual([]);
    expect(validateClaimUpdate(claim({ volumeName: 'pv-2' }), claim({ volumeName: 'pv-1' }))[0].message).toMatch(
      /^Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n- volumeName: "pv-1"\n\+ volumeName: "pv-2"$/,
    );
    const bigger = { resources: { requests: { storage: '2Gi' } } };
    expect(validateClaimUpdate(claim(bigger, { phase: 'Bound' }), claim({}, { phase: 'Bound' }))).toEqual([]);
    expect(validateClaimUpdate(claim(bigger), old).map((c) => c.field)).toEqual(['spec']);
    // A claim created with no class may be given one (the controller's late default class).
    expect(validateClaimUpdate(claim({ storageClassName: 'late' }), old)).toEqual([]);
    expect(validateClaimUpdate(claim({ storageClassName: 'other' }), claim({ storageClassName: 'late' })).map((c) => c.field)).toEqual(['spec']);
  });

  it('abbreviates access modes in upstream’s order', () => {
    expect(accessModesText(['ReadWriteOncePod', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOnce'])).toBe('RWO,RWX,RWOP');
  });

  it('charges a claim’s storage in whole bytes, to its class too', () => {
    const usage = objectUsage('', 'persistentvolumeclaims', claim({ storageClassName: 'gold', resources: { requests: { storage: '1500m' } } }));
    expect(Object.fromEntries([...usage].map(([k, u]) => [k, u.milli]))).toEqual({
      'count/persistentvolumeclaims': 1000,
      persistentvolumeclaims: 1000,
      'gold.storageclass.storage.k8s.io/persistentvolumeclaims': 1000,
      'requests.storage': 2000,
      'gold.storageclass.storage.k8s.io/requests.storage': 2000,
    });
  });

  it('prints a storage class as default by either annotation, with upstream’s fallbacks', () => {
    const now = Date.parse('2026-01-01T00:01:00Z');
    const sc = (name: string, annotations: Record<string, string>) => ({
      metadata: { name, creationTimestamp: '2026-01-01T00:00:00Z', annotations },
      provisioner: 'x.example.com',
    });
    const t = toTable('StorageClass', [sc('a', { 'storageclass.beta.kubernetes.io/is-default-class': 'true' }), sc('b', {})], { include: 'None', now });
    expect(t.rows.map((r) => r.cells)).toEqual([
      ['a (default)', 'x.example.com', 'Delete', 'Immediate', false, '60s'],
      ['b', 'x.example.com', 'Delete', 'Immediate', false, '60s'],
    ]);
  });
});
