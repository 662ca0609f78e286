import { applyDefaults } from './defaults';
import type { KubeObject } from './object';

const pod = (tolerations?: unknown[]): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...(tolerations ? { tolerations } : {}) },
  }) as KubeObject;
const tolerationsOf = (o: KubeObject) => (o.spec as { tolerations: { key?: string; tolerationSeconds?: number }[] }).tolerations;

describe('DefaultTolerationSeconds', () => {
  it('gives a pod 300 s tolerations of the not-ready and unreachable NoExecute taints', () => {
    const o = pod();
    applyDefaults('Pod', o);
    expect(tolerationsOf(o)).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
  });

  it("keeps the pod's own toleration of a taint and adds only the missing one, after the pod's own", () => {
    const own = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 };
    const other = { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' };
    const o = pod([other, own]);
    applyDefaults('Pod', o);
    expect(tolerationsOf(o)).toEqual([other, own, { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]);
  });

  it('adds nothing to a pod that tolerates every taint', () => {
    const o = pod([{ operator: 'Exists' }]);
    applyDefaults('Pod', o);
    expect(tolerationsOf(o)).toEqual([{ operator: 'Exists' }]);
  });
});
