import { canonicalJson } from './config';
import { criTime, type CriContainerStatus } from './cri';
import type { Container, ContainerState, ContainerStateTerminated, ContainerStatus, Pod, PodCondition, PodStatus } from './pod-types';

/** What the kubelet knows of one container of the pod: its latest and previous runtime attempts and why it waits. */
export interface ContainerView {
  latest?: CriContainerStatus;
  previous?: CriContainerStatus;
  /** The kubelet holds the container back (image pull failed, crash-loop back-off, config error): shown as waiting. */
  waiting?: { reason: string; message?: string };
  /** The readiness probe's verdict while running; undefined: no probe (ready once running). */
  ready?: boolean;
  /** The startup probe's verdict; undefined: no probe (started once running). */
  started?: boolean;
}

export interface PodView {
  sandbox?: { ready: boolean; ips: string[] };
  init: Map<string, ContainerView>;
  containers: Map<string, ContainerView>;
  /** Ephemeral containers (kubectl debug), when the pod has any. */
  ephemeral?: Map<string, ContainerView>;
  hostIPs: string[];
  /** The pod has been given up on for good (not used yet by anything else than termination). */
  terminal?: 'Succeeded' | 'Failed';
}

const OWNED_CONDITIONS = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady'];

/** A CRI exited status as the API's terminated state: containerd says OOMKilled; otherwise Completed or Error. */
export function terminatedState(s: CriContainerStatus): ContainerStateTerminated {
  return {
    exitCode: s.exit_code,
    reason: s.reason || (s.exit_code === 0 ? 'Completed' : 'Error'),
    ...(s.message ? { message: s.message } : {}),
    startedAt: criTime(s.started_at),
    finishedAt: criTime(s.finished_at),
    containerID: `containerd://${s.id}`,
  };
}

function stateOf(s: CriContainerStatus): ContainerState {
  switch (s.state) {
    case 'CONTAINER_RUNNING':
      return { running: { startedAt: criTime(s.started_at) } };
    case 'CONTAINER_EXITED':
      return { terminated: terminatedState(s) };
    default:
      return { waiting: { reason: 'ContainerCreating' } };
  }
}

/** The image the status shows: the runtime's name for it unless that is a bare id, else what the pod asked for. */
function imageName(spec: Container, s: CriContainerStatus | undefined): string {
  const fromRuntime = s?.image?.image ?? '';
  return fromRuntime && !fromRuntime.startsWith('sha256:') ? fromRuntime : (spec.image ?? '');
}

/** One container's status, as upstream kubelet reports it. `defaultWaiting` is the reason before it ever ran. */
export function containerStatus(spec: Container, view: ContainerView | undefined, defaultWaiting: string): ContainerStatus {
  const latest = view?.latest;
  const running = latest?.state === 'CONTAINER_RUNNING';
  let state: ContainerState = latest ? stateOf(latest) : { waiting: { reason: defaultWaiting } };
  let lastState: ContainerState = {};
  if (view?.waiting) {
    state = { waiting: { reason: view.waiting.reason, ...(view.waiting.message ? { message: view.waiting.message } : {}) } };
    if (latest?.state === 'CONTAINER_EXITED') lastState = { terminated: terminatedState(latest) };
  } else if (view?.previous?.state === 'CONTAINER_EXITED') {
    lastState = { terminated: terminatedState(view.previous) };
  }
  const started = running && !view?.waiting && (view?.started ?? true);
  return {
    name: spec.name,
    state,
    lastState,
    ready: started && (view?.ready ?? true),
    restartCount: latest?.metadata.attempt ?? 0,
    image: imageName(spec, latest),
    imageID: latest?.image_ref ?? '',
    ...(latest ? { containerID: `containerd://${latest.id}` } : {}),
    started,
  };
}

/** Upstream's getPhase: from the containers' statuses and the restart policy. */
export function podPhase(pod: Pod, init: ContainerStatus[], containers: ContainerStatus[]): NonNullable<PodStatus['phase']> {
  const policy = pod.spec.restartPolicy ?? 'Always';
  let pendingInit = 0;
  let failedInit = 0;
  for (const s of init) {
    if (s.state.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.state.waiting && s.lastState.terminated && s.lastState.terminated.exitCode !== 0) {
      failedInit++;
    } else {
      pendingInit++;
    }
  }
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if (pendingInit > 0 || failedInit > 0) return 'Pending';
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of containers) {
    if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    // A pod being deleted is terminal once its containers stopped, whatever its restart policy (upstream's kubelet
    // since 1.27): Succeeded when they all exited 0, Failed otherwise, so a Job's podFailurePolicy can judge it.
    if (pod.metadata.deletionTimestamp) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, reason?: string, message?: string): PodCondition {
  return { type, status: ok ? 'True' : 'False', ...(ok || !reason ? {} : { reason }), ...(ok || !message ? {} : { message }) };
}

/**
 * The pod's status as the kubelet posts it: phase, the four conditions it owns (others, such as PodScheduled, kept as
 * they are), addresses, start time, and the init and regular container statuses. A condition whose status did not
 * change keeps its lastTransitionTime. A pod that reached Succeeded or Failed stays there.
 */
export function computePodStatus(pod: Pod, view: PodView, now: Date): PodStatus {
  const nowIso = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const specInit = pod.spec.initContainers ?? [];
  const initStatuses = specInit.map((c) => containerStatus(c, view.init.get(c.name), 'PodInitializing'));
  const initialized = initStatuses.every((s) => s.state.terminated?.exitCode === 0);
  const statuses = pod.spec.containers.map((c) => containerStatus(c, view.containers.get(c.name), initialized ? 'ContainerCreating' : 'PodInitializing'));
  const previous = pod.status?.phase;
  const phase = previous === 'Succeeded' || previous === 'Failed' ? previous : (view.terminal ?? podPhase(pod, initStatuses, statuses));
  const completed = phase === 'Succeeded' || phase === 'Failed';
  const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
  const uninitialized = initStatuses.filter((s) => s.state.terminated?.exitCode !== 0).map((s) => s.name);
  const ready = unready.length === 0 && !completed;
  const owned = [
    condition('PodReadyToStartContainers', view.sandbox?.ready === true),
    condition('Initialized', initialized, 'ContainersNotInitialized', `containers with incomplete status: [${uninitialized.join(' ')}]`),
    condition(
      'Ready',
      ready,
      completed ? 'PodCompleted' : 'ContainersNotReady',
      completed ? undefined : `containers with unready status: [${unready.join(' ')}]`,
    ),
    condition(
      'ContainersReady',
      ready,
      completed ? 'PodCompleted' : 'ContainersNotReady',
      completed ? undefined : `containers with unready status: [${unready.join(' ')}]`,
    ),
  ];
  const existing = pod.status?.conditions ?? [];
  const conditions = [
    ...owned.map((c) => {
      const before = existing.find((e) => e.type === c.type);
      return {
        ...c,
        lastProbeTime: null,
        lastTransitionTime: before && before.status === c.status && before.lastTransitionTime ? before.lastTransitionTime : nowIso,
      };
    }),
    ...existing.filter((e) => !OWNED_CONDITIONS.includes(e.type)),
  ];
  // A pod bound by hand (spec.nodeName at creation) never met the scheduler; upstream's kubelet adds the condition.
  if (!conditions.some((c) => c.type === 'PodScheduled'))
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: nowIso });
  const podIPs = pod.spec.hostNetwork ? view.hostIPs : (view.sandbox?.ips ?? []);
  const status: PodStatus = {
    phase,
    conditions,
    ...(view.hostIPs.length ? { hostIP: view.hostIPs[0], hostIPs: view.hostIPs.map((ip) => ({ ip })) } : {}),
    ...(podIPs.length ? { podIP: podIPs[0], podIPs: podIPs.map((ip) => ({ ip })) } : {}),
    startTime: pod.status?.startTime ?? nowIso,
    ...(specInit.length ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
    // Never probed, never counted for readiness: upstream leaves them not ready.
    ...(pod.spec.ephemeralContainers?.length
      ? {
          ephemeralContainerStatuses: pod.spec.ephemeralContainers.map((c) => ({
            ...containerStatus(c, view.ephemeral?.get(c.name), 'ContainerCreating'),
            ready: false,
          })),
        }
      : {}),
  };
  if (pod.status?.qosClass) status.qosClass = pod.status.qosClass;
  return status;
}

/** Whether `next` differs from what the API holds (only the fields the kubelet writes; key order and nulls aside). */
export function statusChanged(current: PodStatus | undefined, next: PodStatus): boolean {
  const pick = (s: PodStatus | undefined) =>
    canonicalJson([
      s?.phase,
      s?.conditions ?? [],
      s?.hostIP,
      s?.hostIPs,
      s?.podIP,
      s?.podIPs,
      s?.startTime,
      s?.initContainerStatuses ?? [],
      s?.containerStatuses ?? [],
      s?.ephemeralContainerStatuses ?? [],
    ]);
  return pick(current) !== pick(next);
}
