import type { KubeObject } from '@cerulean/kube';

const NOT_READY_NO_SCHEDULE = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };

/**
 * Upstream's TaintNodesByCondition admission: a Node is created with the `node.kubernetes.io/not-ready:NoSchedule`
 * taint, so no pod is scheduled to it before the node lifecycle controller has seen it Ready and taken the taint off.
 */
export function admitNodeTaint(node: KubeObject): void {
  const spec = (node.spec ??= {}) as { taints?: { key?: string; effect?: string }[] };
  if (spec.taints !== undefined && spec.taints !== null && !Array.isArray(spec.taints)) return; // validation says what is wrong
  const taints = spec.taints ?? [];
  if (taints.some((t) => t?.key === NOT_READY_NO_SCHEDULE.key && t?.effect === NOT_READY_NO_SCHEDULE.effect)) return;
  spec.taints = [...taints, { ...NOT_READY_NO_SCHEDULE }];
}
