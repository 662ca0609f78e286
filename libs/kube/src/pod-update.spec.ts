import type { KubeObject } from './object';
import { validateObjectUpdate } from './validation';

const pod = (spec: Record<string, unknown>, labels: Record<string, string> = {}): KubeObject => ({
  metadata: { name: 'p', labels },
  spec: {
    containers: [{ name: 'main', image: 'busybox:1.35', command: ['sleep', '3600'] }],
    tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
    ...spec,
  },
});
const fields = (a: KubeObject, b: KubeObject) => validateObjectUpdate('Pod', a, b).map((c) => `${c.field}: ${c.message}`);

describe('pod updates (ValidatePodUpdate)', () => {
  it('lets images, labels, added tolerations and a shorter deadline change', () => {
    const old = pod({ activeDeadlineSeconds: 60 });
    const next = pod(
      {
        containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'] }],
        activeDeadlineSeconds: 30,
        tolerations: [...(old.spec as { tolerations: unknown[] }).tolerations, { key: 'extra', operator: 'Exists' }],
      },
      { team: 'a' },
    );
    expect(fields(next, old)).toEqual([]);
  });

  it('refuses any other change of the spec, as upstream words it', () => {
    const next = pod({ containers: [{ name: 'main', image: 'busybox:1.35', command: ['sleep', '10'] }] });
    expect(fields(next, pod({}))).toEqual([
      'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    ]);
    expect(fields(pod({ containers: [] }), pod({}))).toEqual(['spec.containers: Forbidden: pod updates may not add or remove containers']);
  });

  it('holds the deadline and the tolerations to their rules', () => {
    expect(fields(pod({ activeDeadlineSeconds: 90 }), pod({ activeDeadlineSeconds: 60 }))).toEqual([
      'spec.activeDeadlineSeconds: Invalid value: 90: must be less than or equal to previous value',
    ]);
    expect(fields(pod({}), pod({ activeDeadlineSeconds: 60 }))).toEqual([
      'spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value',
    ]);
    expect(fields(pod({ tolerations: [] }), pod({}))).toEqual([
      'spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds',
    ]);
  });
});
