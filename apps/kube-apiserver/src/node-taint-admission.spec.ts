import type { KubeObject } from '@cerulean/kube';
import { admitNodeTaint } from './node-taint-admission';

const node = (spec?: unknown): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, ...(spec === undefined ? {} : { spec }) }) as KubeObject;
const notReady = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };

describe('TaintNodesByCondition admission', () => {
  it('creates a Node with not-ready:NoSchedule beside its own taints, once', () => {
    const bare = node();
    admitNodeTaint(bare);
    expect(bare.spec).toEqual({ taints: [notReady] });
    const pooled = node({ taints: [{ key: 'sku', value: 'gpu', effect: 'NoSchedule' }] });
    admitNodeTaint(pooled);
    expect(pooled.spec).toEqual({ taints: [{ key: 'sku', value: 'gpu', effect: 'NoSchedule' }, notReady] });
    admitNodeTaint(pooled);
    expect((pooled.spec as { taints: unknown[] }).taints).toHaveLength(2);
    // A not-ready taint of another effect is not the one.
    const noExecute = node({ taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] });
    admitNodeTaint(noExecute);
    expect((noExecute.spec as { taints: unknown[] }).taints).toEqual([{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }, notReady]);
  });

  it('leaves taints that are not a list for validation to refuse', () => {
    const wrong = node({ taints: 'dedicated' });
    admitNodeTaint(wrong);
    expect(wrong.spec).toEqual({ taints: 'dedicated' });
  });
});
