import { parseQuantity } from '@cerulean/kube';
import type { Container, Node, Pod, ResourceList } from './objects';

/** The resources the scheduler accounts for: cpu in millicores, memory and ephemeral-storage in bytes, pods as a count. */
export interface Resources {
  milliCpu: number;
  memory: number;
  ephemeralStorage: number;
  pods: number;
}

export const ZERO: Resources = { milliCpu: 0, memory: 0, ephemeralStorage: 0, pods: 0 };

/**
 * A container without a request still takes something: for scoring (never for fit), upstream counts it as
 * 100m cpu and 200 MiB, so that many request-less pods do not all pile onto one node.
 */
const NON_ZERO_MILLI_CPU = 100;
const NON_ZERO_MEMORY = 200 * 1024 * 1024;

function quantity(list: ResourceList | undefined, name: string): number {
  const text = list?.[name];
  return text === undefined ? 0 : (parseQuantity(text) ?? 0);
}

function fromList(list: ResourceList | undefined): Resources {
  return {
    milliCpu: Math.round(quantity(list, 'cpu') * 1000),
    memory: quantity(list, 'memory'),
    ephemeralStorage: quantity(list, 'ephemeral-storage'),
    pods: 0,
  };
}

/** A container's requests; a limit without a request stands for the request, as API defaulting makes it. */
function containerRequests(c: Container): Resources {
  const requests = fromList(c.resources?.requests);
  const limits = fromList(c.resources?.limits);
  return {
    milliCpu: c.resources?.requests?.cpu !== undefined ? requests.milliCpu : limits.milliCpu,
    memory: c.resources?.requests?.memory !== undefined ? requests.memory : limits.memory,
    ephemeralStorage: c.resources?.requests?.['ephemeral-storage'] !== undefined ? requests.ephemeralStorage : limits.ephemeralStorage,
    pods: 0,
  };
}

export function add(a: Resources, b: Resources): Resources {
  return { milliCpu: a.milliCpu + b.milliCpu, memory: a.memory + b.memory, ephemeralStorage: a.ephemeralStorage + b.ephemeralStorage, pods: a.pods + b.pods };
}

function max(a: Resources, b: Resources): Resources {
  return {
    milliCpu: Math.max(a.milliCpu, b.milliCpu),
    memory: Math.max(a.memory, b.memory),
    ephemeralStorage: Math.max(a.ephemeralStorage, b.ephemeralStorage),
    pods: Math.max(a.pods, b.pods),
  };
}

/**
 * What a pod asks of its node: the sum of its containers (sidecar init containers, restartPolicy Always, run
 * beside them), or the largest plain init container if that is more, plus the pod overhead; and one pod slot.
 */
export function podRequests(pod: Pod, options: { nonZero?: boolean } = {}): Resources {
  const of = (c: Container): Resources => {
    const r = containerRequests(c);
    if (!options.nonZero) return r;
    return {
      ...r,
      milliCpu: c.resources?.requests?.cpu === undefined && c.resources?.limits?.cpu === undefined ? NON_ZERO_MILLI_CPU : r.milliCpu,
      memory: c.resources?.requests?.memory === undefined && c.resources?.limits?.memory === undefined ? NON_ZERO_MEMORY : r.memory,
    };
  };
  let sidecars = ZERO;
  let initPeak = ZERO;
  for (const c of pod.spec.initContainers ?? []) {
    if (c.restartPolicy === 'Always') sidecars = add(sidecars, of(c));
    else initPeak = max(initPeak, add(sidecars, of(c)));
  }
  const running = pod.spec.containers.reduce((sum, c) => add(sum, of(c)), sidecars);
  return add(add(max(running, initPeak), fromList(pod.spec.overhead)), { ...ZERO, pods: 1 });
}

/** What a node offers to pods (allocatable, or capacity when a node reports no allocatable). */
export function allocatable(node: Node): Resources {
  const list = node.status?.allocatable ?? node.status?.capacity;
  return { ...fromList(list), pods: Math.floor(quantity(list, 'pods')) };
}
