import { jsonPatch, mergePatch, strategicMergePatch } from './patch';
import { typeOfKind, unknownFields } from './type-schema';

const deploy = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' }, finalizers: ['a'] },
  spec: {
    replicas: 2,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } },
    template: {
      spec: {
        containers: [
          { name: 'web', image: 'nginx:1', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] },
          { name: 'log', image: 'busybox' },
        ],
        tolerations: [{ key: 'x', operator: 'Exists' }],
      },
    },
  },
});
const T = typeOfKind('apps', 'v1', 'Deployment');

describe('strategic merge patch', () => {
  it('merges containers by name, env by name and ports by containerPort', () => {
    const out = strategicMergePatch(
      deploy(),
      { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:2', env: [{ name: 'B', value: '2' }], ports: [{ containerPort: 443 }] }] } } } },
      T,
    ) as ReturnType<typeof deploy>;
    const web = out.spec.template.spec.containers[0];
    expect(out.spec.template.spec.containers.map((c) => c.name)).toEqual(['web', 'log']);
    expect(web.image).toBe('nginx:2');
    expect(web.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
    expect(web.ports?.map((p) => p.containerPort)).toEqual([80, 443]);
  });

  it('replaces lists without a merge key (tolerations) and unions set-like lists (finalizers)', () => {
    const out = strategicMergePatch(
      deploy(),
      { metadata: { finalizers: ['b'] }, spec: { template: { spec: { tolerations: [{ key: 'y', operator: 'Exists' }] } } } },
      T,
    ) as ReturnType<typeof deploy>;
    expect(out.spec.template.spec.tolerations).toEqual([{ key: 'y', operator: 'Exists' }]);
    expect(out.metadata.finalizers).toEqual(['a', 'b']);
  });

  it('honours $patch delete and replace, $retainKeys, $deleteFromPrimitiveList and $setElementOrder', () => {
    const out = strategicMergePatch(
      deploy(),
      {
        metadata: { $deleteFromPrimitiveList: undefined, '$deleteFromPrimitiveList/finalizers': ['a'] },
        spec: {
          strategy: { $retainKeys: ['type'], type: 'Recreate' },
          template: { spec: { containers: [{ name: 'log', $patch: 'delete' }], $setElementOrder: undefined } },
        },
      },
      T,
    ) as ReturnType<typeof deploy>;
    expect(out.spec.template.spec.containers.map((c) => c.name)).toEqual(['web']);
    expect(out.spec.strategy).toEqual({ type: 'Recreate' });
    expect(out.metadata.finalizers).toEqual([]);
    const replaced = strategicMergePatch(
      deploy(),
      { spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } } } },
      T,
    ) as ReturnType<typeof deploy>;
    expect(replaced.spec.template.spec.containers).toEqual([{ name: 'only', image: 'x' }]);
    const ordered = strategicMergePatch(
      deploy(),
      { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'log' }, { name: 'web' }] } } } },
      T,
    ) as ReturnType<typeof deploy>;
    expect(ordered.spec.template.spec.containers.map((c) => c.name)).toEqual(['log', 'web']);
  });

  it('deletes fields set to null', () => {
    const out = strategicMergePatch(deploy(), { metadata: { labels: { app: null } } }, T) as ReturnType<typeof deploy>;
    expect(out.metadata.labels).toEqual({});
  });
});

describe('merge and JSON patches', () => {
  it('merge patch replaces lists whole and deletes nulls (RFC 7386)', () => {
    expect(mergePatch({ a: [1, 2], b: { c: 1, d: 2 } }, { a: [3], b: { c: null } })).toEqual({ a: [3], b: { d: 2 } });
  });
  it('JSON patch applies operations and fails a failing test with 422', () => {
    expect(jsonPatch({ a: 1 }, [{ op: 'replace', path: '/a', value: 2 }])).toEqual({ a: 2 });
    expect(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 3 }])).toThrow(expect.objectContaining({ code: 422 }));
  });
});

describe('unknown fields', () => {
  it('names each unknown field by its path, lists included', () => {
    const d = deploy() as Record<string, unknown>;
    (d.spec as Record<string, unknown>).replica = 1;
    ((d.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[1] as Record<string, unknown>).imagee = 'x';
    expect(unknownFields(T, d)).toEqual(['spec.template.spec.containers[1].imagee', 'spec.replica']);
  });
  it('accepts anything under free-form maps (labels, annotations, configmap data)', () => {
    expect(unknownFields(typeOfKind('', 'v1', 'ConfigMap'), { metadata: { labels: { any: 'x' } }, data: { whatever: 'y' } })).toEqual([]);
  });
});
