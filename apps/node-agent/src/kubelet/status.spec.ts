import type { CriContainerStatus } from './cri';
import type { Pod } from './pod-types';
import { computePodStatus, containerStatus, podPhase, statusChanged, type ContainerView, type PodView } from './status';

const NS = 1_000_000_000n;
const at = (s: number) => String(BigInt(Date.UTC(2026, 11, 2, 18, 0, s) / 1000) * NS);

function cri(name: string, attempt: number, state: CriContainerStatus['state'], extra: Partial<CriContainerStatus> = {}): CriContainerStatus {
  return {
    id: `${name}${attempt}`.padEnd(64, '0'),
    metadata: { name, attempt },
    state,
    created_at: at(0),
    started_at: state === 'CONTAINER_CREATED' ? '0' : at(1),
    finished_at: state === 'CONTAINER_EXITED' ? at(5) : '0',
    exit_code: 0,
    image: { image: 'docker.io/library/busybox:1.36' },
    image_ref: 'docker.io/library/busybox@sha256:abc',
    reason: '',
    message: '',
    labels: {},
    annotations: {},
    log_path: `/var/log/pods/x/${name}/${attempt}.log`,
    ...extra,
  };
}

function pod(spec: Partial<Pod['spec']> = {}, status?: Pod['status']): Pod {
  return {
    metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: { nodeName: 'n1', containers: [{ name: 'a', image: 'busybox:1.36' }], ...spec },
    ...(status ? { status } : {}),
  };
}

function view(containers: Record<string, ContainerView>, init: Record<string, ContainerView> = {}): PodView {
  return {
    sandbox: { ready: true, ips: ['10.244.0.5'] },
    init: new Map(Object.entries(init)),
    containers: new Map(Object.entries(containers)),
    hostIPs: ['172.18.0.3'],
  };
}

const now = new Date('2026-12-02T18:01:00.123Z');

describe('containerStatus', () => {
  it('reports a running container as started and ready, with its ids and image', () => {
    expect(containerStatus({ name: 'a', image: 'busybox:1.36' }, { latest: cri('a', 0, 'CONTAINER_RUNNING') }, 'ContainerCreating')).toEqual({
      name: 'a',
      state: { running: { startedAt: '2026-12-02T18:00:01Z' } },
      lastState: {},
      ready: true,
      started: true,
      restartCount: 0,
      image: 'docker.io/library/busybox:1.36',
      imageID: 'docker.io/library/busybox@sha256:abc',
      containerID: `containerd://${'a0'.padEnd(64, '0')}`,
    });
  });

  it('shows a crash-looping container as waiting, with the last run as lastState and the attempt as restartCount', () => {
    const s = containerStatus(
      { name: 'a', image: 'busybox:1.36' },
      {
        latest: cri('a', 3, 'CONTAINER_EXITED', { exit_code: 2 }),
        previous: cri('a', 2, 'CONTAINER_EXITED'),
        waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' },
      },
      'ContainerCreating',
    );
    expect(s.state).toEqual({ waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } });
    expect(s.lastState.terminated).toMatchObject({ exitCode: 2, reason: 'Error', startedAt: '2026-12-02T18:00:01Z', finishedAt: '2026-12-02T18:00:05Z' });
    expect([s.restartCount, s.ready, s.started]).toEqual([3, false, false]);
  });

  it('keeps the runtime reason (OOMKilled) and shows the previous run of a restarted container as lastState', () => {
    const oom = containerStatus({ name: 'a' }, { latest: cri('a', 0, 'CONTAINER_EXITED', { exit_code: 137, reason: 'OOMKilled' }) }, 'x');
    expect(oom.state.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    const restarted = containerStatus(
      { name: 'a' },
      { latest: cri('a', 1, 'CONTAINER_RUNNING'), previous: cri('a', 0, 'CONTAINER_EXITED', { exit_code: 1 }) },
      'x',
    );
    expect(restarted.state.running).toBeDefined();
    expect(restarted.lastState.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
  });

  it('waits with the given reason before the container exists; an unready probe keeps it unready', () => {
    expect(containerStatus({ name: 'a', image: 'img:1' }, undefined, 'PodInitializing')).toMatchObject({
      state: { waiting: { reason: 'PodInitializing' } },
      image: 'img:1',
      imageID: '',
      ready: false,
    });
    expect(containerStatus({ name: 'a' }, { latest: cri('a', 0, 'CONTAINER_RUNNING'), ready: false }, 'x')).toMatchObject({ ready: false, started: true });
  });
});

describe('podPhase', () => {
  const s = (state: object, lastState: object = {}) => ({ name: 'x', state, lastState, ready: false, restartCount: 0, image: '', imageID: '' });
  const running = s({ running: {} });
  const ok = s({ terminated: { exitCode: 0 } });
  const failed = s({ terminated: { exitCode: 1 } });
  const waiting = s({ waiting: { reason: 'ContainerCreating' } });
  const looping = s({ waiting: { reason: 'CrashLoopBackOff' } }, { terminated: { exitCode: 1 } });

  it('follows upstream getPhase for each restart policy', () => {
    expect(podPhase(pod(), [], [waiting])).toBe('Pending');
    expect(podPhase(pod(), [], [running, waiting])).toBe('Pending');
    expect(podPhase(pod(), [], [running, ok])).toBe('Running');
    expect(podPhase(pod(), [], [looping])).toBe('Running');
    expect(podPhase(pod(), [], [ok])).toBe('Running');
    expect(podPhase(pod({ restartPolicy: 'OnFailure' }), [], [ok, ok])).toBe('Succeeded');
    expect(podPhase(pod({ restartPolicy: 'OnFailure' }), [], [ok, failed])).toBe('Running');
    expect(podPhase(pod({ restartPolicy: 'Never' }), [], [ok, failed])).toBe('Failed');
    expect(podPhase(pod({ restartPolicy: 'Never' }), [], [ok, running])).toBe('Running');
  });

  it('is Pending while init containers run or retry, Failed when one fails under Never', () => {
    expect(podPhase(pod(), [ok, running], [waiting])).toBe('Pending');
    expect(podPhase(pod(), [looping], [waiting])).toBe('Pending');
    expect(podPhase(pod({ restartPolicy: 'Never' }), [failed], [waiting])).toBe('Failed');
    expect(podPhase(pod(), [ok, ok], [running])).toBe('Running');
  });

  it('is terminal for a pod being deleted once its containers stopped, whatever the restart policy (upstream since 1.27)', () => {
    const deleting = (spec: Partial<Pod['spec']> = {}): Pod => {
      const p = pod(spec);
      return { ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-12-03T12:00:00Z' } };
    };
    expect(podPhase(deleting(), [], [failed])).toBe('Failed');
    expect(podPhase(deleting(), [], [ok, looping])).toBe('Failed');
    expect(podPhase(deleting(), [], [ok, ok])).toBe('Succeeded');
    expect(podPhase(deleting({ restartPolicy: 'OnFailure' }), [], [ok, failed])).toBe('Failed');
    // Still stopping: Running until the last container is gone.
    expect(podPhase(deleting(), [], [ok, running])).toBe('Running');
  });
});

describe('computePodStatus', () => {
  it('reports a running pod: phase, conditions, addresses, start time, statuses', () => {
    const p = pod(
      { initContainers: [{ name: 'init' }] },
      { phase: 'Pending', qosClass: 'BestEffort', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-12-02T17:59:00Z' }] },
    );
    const st = computePodStatus(p, view({ a: { latest: cri('a', 0, 'CONTAINER_RUNNING') } }, { init: { latest: cri('init', 0, 'CONTAINER_EXITED') } }), now);
    expect(st).toMatchObject({
      phase: 'Running',
      hostIP: '172.18.0.3',
      hostIPs: [{ ip: '172.18.0.3' }],
      podIP: '10.244.0.5',
      podIPs: [{ ip: '10.244.0.5' }],
      startTime: '2026-12-02T18:01:00Z',
      qosClass: 'BestEffort',
    });
    expect(st.conditions?.map((c) => [c.type, c.status, c.lastTransitionTime])).toEqual([
      ['PodReadyToStartContainers', 'True', '2026-12-02T18:01:00Z'],
      ['Initialized', 'True', '2026-12-02T18:01:00Z'],
      ['Ready', 'True', '2026-12-02T18:01:00Z'],
      ['ContainersReady', 'True', '2026-12-02T18:01:00Z'],
      ['PodScheduled', 'True', '2026-12-02T17:59:00Z'],
    ]);
    expect(st.initContainerStatuses?.[0].state.terminated?.reason).toBe('Completed');
  });

  it('names the containers not ready or not initialized, and keeps transition times of unchanged conditions', () => {
    const p = pod(
      { initContainers: [{ name: 'init' }], containers: [{ name: 'a' }, { name: 'b' }] },
      { conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: '2026-12-02T17:00:00Z' }] },
    );
    const st = computePodStatus(p, view({}, { init: { latest: cri('init', 0, 'CONTAINER_RUNNING') } }), now);
    expect(st.phase).toBe('Pending');
    expect(st.conditions?.find((c) => c.type === 'Initialized')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with incomplete status: [init]',
    });
    expect(st.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [a b]',
      lastTransitionTime: '2026-12-02T17:00:00Z',
    });
    expect(st.containerStatuses?.map((s) => s.state.waiting?.reason)).toEqual(['PodInitializing', 'PodInitializing']);
  });

  it('marks a finished pod PodCompleted and never leaves Succeeded or Failed', () => {
    const done = computePodStatus(pod({ restartPolicy: 'Never' }), view({ a: { latest: cri('a', 0, 'CONTAINER_EXITED') } }), now);
    expect(done.phase).toBe('Succeeded');
    expect(done.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    const again = computePodStatus(pod({ restartPolicy: 'Never' }, { phase: 'Failed' }), view({ a: { latest: cri('a', 0, 'CONTAINER_RUNNING') } }), now);
    expect(again.phase).toBe('Failed');
  });

  it('uses the node addresses for a hostNetwork pod', () => {
    expect(computePodStatus(pod({ hostNetwork: true }), view({}), now).podIPs).toEqual([{ ip: '172.18.0.3' }]);
  });
});

describe('statusChanged', () => {
  it('ignores key order and nulls, sees real differences', () => {
    const st = computePodStatus(pod(), view({ a: { latest: cri('a', 0, 'CONTAINER_RUNNING') } }), now);
    const roundTripped = JSON.parse(
      JSON.stringify(st, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v)),
    ) as typeof st;
    expect(statusChanged(roundTripped, st)).toBe(false);
    expect(statusChanged(undefined, st)).toBe(true);
    expect(statusChanged({ ...roundTripped, podIP: '10.244.0.6' }, st)).toBe(true);
  });
});

describe('ephemeral containers', () => {
  it('reports them in ephemeralContainerStatuses, never ready, and leaves the pod Ready as its containers are', () => {
    const p = pod({
      ephemeralContainers: [
        { name: 'debugger', image: 'busybox:1.36' },
        { name: 'later', image: 'busybox:1.36' },
      ],
    });
    const v = view({ a: { latest: cri('a', 0, 'CONTAINER_RUNNING') } });
    v.ephemeral = new Map([['debugger', { latest: cri('debugger', 0, 'CONTAINER_RUNNING') }]]);
    const s = computePodStatus(p, v, now);
    expect(s.ephemeralContainerStatuses?.map((c) => [c.name, Object.keys(c.state)[0], c.ready])).toEqual([
      ['debugger', 'running', false],
      ['later', 'waiting', false],
    ]);
    expect(s.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(statusChanged({ ...s, ephemeralContainerStatuses: [] }, s)).toBe(true);
  });
});
