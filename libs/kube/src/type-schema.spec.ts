import { typeOfKind, unknownFields } from './type-schema';

describe('unknownFields with drop', () => {
  it('drops what it names, at any depth, and nothing else', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', labels: { 'free-form': 'kept' }, bogus: 1 },
      spec: {
        containers: [{ name: 'c', image: 'busybox', imagePullPolcy: 'Always', env: [{ name: 'A', value: '1', valu: '2' }] }],
        nodeSelector: { any: 'key' },
        restartPolicy: 'Never',
      },
      extra: true,
    };
    const type = typeOfKind('', 'v1', 'Pod');
    const named = ['metadata.bogus', 'spec.containers[0].imagePullPolcy', 'spec.containers[0].env[0].valu', 'extra'];
    const untouched = structuredClone(pod);
    expect(unknownFields(type, pod)).toEqual(named);
    expect(pod).toEqual(untouched);
    expect(unknownFields(type, pod, { drop: true })).toEqual(named);
    expect(pod).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', labels: { 'free-form': 'kept' } },
      spec: { containers: [{ name: 'c', image: 'busybox', env: [{ name: 'A', value: '1' }] }], nodeSelector: { any: 'key' }, restartPolicy: 'Never' },
    });
  });

  it("keeps everything under an untyped part (a ControllerRevision's data)", () => {
    const revision = { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'r' }, revision: 1, data: { spec: { anything: { goes: [1] } } } };
    const copy = structuredClone(revision);
    expect(unknownFields(typeOfKind('apps', 'v1', 'ControllerRevision'), revision, { drop: true })).toEqual([]);
    expect(revision).toEqual(copy);
  });
});
