import { containerMissing, noPrevious, podMissing, type ContainerLogRef, type LocatedLog, type LogNotFound } from '../kubelet-server/locator';
import type { ExecContainer, ExecRefused } from '../kubelet-server/exec';
import type { PortForwardRefused, PortForwardTarget } from '../kubelet-server/port-forward';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { LogLine } from '../server';
import { Backoff, DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_MAX_MS, formatDelay } from './backoff';
import {
  containerConfig,
  containerHash,
  CONTAINER_HASH_ANNOTATION,
  CONTAINER_NAME_LABEL,
  KUBELET_MANAGED_LABEL,
  KUBELET_PODS_ROOT,
  podLogDirectory,
  POD_LOGS_ROOT,
  POD_UID_LABEL,
  sandboxConfig,
  type DnsSettings,
} from './config';
import { criMillis, CriError, type AuthConfig, type CriClient, type CriContainer, type CriContainerStatus, type PodSandboxConfig } from './cri';
import { envReferences, resolveEnv, serviceEnv, type DataByName, type EnvResult, type ServiceLinkSource } from './env';
import { expectOk, type KubeApi, type WatchEvent } from '../kube-api';
import type { Container, Pod, PodStatus, Probe } from './pod-types';
import { computePodStatus, statusChanged, type ContainerView, type PodView } from './status';
import { containerFieldPath, KubeletEvents } from './events';
import { ProbeResult, runLifecycleHook, runProbe, type ProbeKind } from './probes';
import { MountVolumeError, prepareVolumes, volumeMounts } from './volumes';
import { keyringFromSecrets, type PullSecret } from './pull-secrets';

/** How often every pod is synced again even without events (upstream: 1 min; a short one heals missed events sooner). */
const DEFAULT_RESYNC_MS = 10_000;
/** Upstream's PLEG relists containers every second: how soon an exit is noticed. */
const DEFAULT_RELIST_MS = 1_000;
/** A watch the server has not ended by then is renewed (upstream's reflector asks for 5–10 min). */
const WATCH_TIMEOUT_S = 300;
const DEFAULT_GRACE_S = 30;
/** How long a container's start waits for the node's first list of Services before it fails (and is retried). */
const SERVICES_SYNC_WAIT_MS = 10_000;
/** What a container gets to stop after its preStop hook used up the grace period (upstream's minimum extension). */
const MIN_GRACE_AFTER_HOOK_S = 2;

export interface KubeletOptions {
  nodeName: string;
  api: KubeApi;
  cri: CriClient;
  log: LogLine;
  /** The node's addresses (status.hostIPs). */
  hostIPs: () => string[];
  /** The node's allocatable CPU (cores) and memory (bytes). */
  allocatable: () => { cpu: number; memory: number };
  /** The runtime's socket file: when it does not exist, nothing can be running here. */
  criSocketPath?: string;
  dns?: DnsSettings;
  /**
   * The cluster's Services, for the containers' `*_SERVICE_HOST`/`*_PORT` variables; undefined until first listed
   * (containers wait then, as upstream's do). Without the option, containers get none.
   */
  services?: () => ServiceLinkSource[] | undefined;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  resyncMs?: number;
  relistMs?: number;
  now?: () => Date;
}

interface PodState {
  /** The runtime's containers of this pod, by container name, newest attempt first (from the last sync). */
  containers: Map<string, CriContainerStatus[]>;
  /** Why the kubelet holds a container back, by container name. */
  waiting: Map<string, { reason: string; message?: string }>;
  /** Each container's last failed image pull: when (its pull back-off counts from then) and why (for ImagePullBackOff). */
  pullFailures: Map<string, { at: number; message: string }>;
  retryTimer?: NodeJS.Timeout;
  /** The probes of running containers, by container name. */
  probes: Map<string, ProbeWorker>;
  /** Its volumes could not be filled last time: they are filled before a sandbox is made again, not beside it. */
  volumesFailed?: boolean;
}

/** A running container's probes: one timer each, results kept until the container is replaced. */
interface ProbeWorker {
  containerId: string;
  results: Partial<Record<ProbeKind, ProbeResult>>;
  timers: Map<ProbeKind, NodeJS.Timeout>;
  stopped: boolean;
}

/**
 * The kubelet: runs the pods bound to this node through the container runtime's CRI (containerd), reports their
 * status to the API, restarts containers by the pod's restartPolicy with upstream's crash-loop back-off, and stops and
 * removes deleted pods within their grace period. Pods come from a list+watch on spec.nodeName; every pod is synced
 * again periodically and whenever the runtime's containers change state (a 1 s relist, as upstream's PLEG).
 * Each pod is synced by one worker at a time.
 */
export class Kubelet {
  private readonly pods = new Map<string, Pod>();
  private readonly states = new Map<string, PodState>();
  private readonly workers = new Map<string, { again: boolean; done: Promise<void> }>();
  private readonly containerBackoff: Backoff;
  private readonly imageBackoff: Backoff;
  private readonly abort = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  private listed = false;
  private stopped = false;
  /** Container id → state at the last relist. */
  private lastRelist = new Map<string, string>();
  private readonly events: KubeletEvents;

  constructor(private readonly o: KubeletOptions) {
    this.events = new KubeletEvents({ api: o.api, nodeName: o.nodeName, log: o.log, now: o.now });
    this.containerBackoff = new Backoff(o.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS, o.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS);
    this.imageBackoff = new Backoff(o.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS, o.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS);
  }

  start(): void {
    void this.watchLoop();
    const resync = setInterval(() => {
      for (const uid of this.pods.keys()) this.schedule(uid);
      void this.removeOrphans().catch((err: unknown) => this.o.log({ msg: 'kubelet: orphan sweep failed', error: errorText(err) }));
    }, this.o.resyncMs ?? DEFAULT_RESYNC_MS);
    const relist = setInterval(() => void this.relist().catch(() => undefined), this.o.relistMs ?? DEFAULT_RELIST_MS);
    resync.unref();
    relist.unref();
    this.timers.push(resync, relist);
  }

  /** Stops watching and syncing; running containers keep running (a restarted agent picks them up). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    for (const t of this.timers) clearInterval(t);
    for (const s of this.states.values()) {
      clearTimeout(s.retryTimer);
      for (const w of s.probes.values()) stopProbes(w);
    }
    await Promise.all([...this.workers.values()].map((w) => w.done));
  }

  /** The pods the kubelet knows (for the agent's own views). */
  knownPods(): Pod[] {
    return [...this.pods.values()];
  }

  /**
   * Where a container's log file is, for `kubectl logs` (the kubelet's containerLogs endpoint): the current attempt's
   * file, or with `previous` the one before it; `running` tells whether the container may still write to it.
   */
  locateContainerLog({ namespace, pod: podName, container, previous }: ContainerLogRef): Promise<LocatedLog | LogNotFound> {
    const pod = [...this.pods.values()].find((p) => p.metadata.namespace === namespace && p.metadata.name === podName);
    if (!pod) return Promise.resolve(podMissing(podName));
    const known = [...(pod.spec.initContainers ?? []), ...pod.spec.containers, ...(pod.spec.ephemeralContainers ?? [])].some((c) => c.name === container);
    if (!known) return Promise.resolve(containerMissing(container, podName));
    const attempts = this.states.get(pod.metadata.uid)?.containers.get(container) ?? [];
    const chosen = previous ? attempts[1] : attempts[0];
    if (!chosen) {
      if (previous) return Promise.resolve(noPrevious(container, podName));
      const waiting = this.states.get(pod.metadata.uid)?.waiting.get(container)?.reason ?? 'ContainerCreating';
      return Promise.resolve({
        error: `container ${JSON.stringify(container)} in pod ${JSON.stringify(podName)} is waiting to start: ${waiting}`,
        status: 400,
      });
    }
    const path = chosen.log_path.startsWith('/') ? chosen.log_path : `${podLogDirectory(pod)}/${chosen.log_path}`;
    return Promise.resolve({ path, running: chosen.state === 'CONTAINER_RUNNING' });
  }

  /** The running container `kubectl exec` runs a command in, or why there is none (upstream kubelet's texts). */
  locateRunningContainer({ namespace, pod: podName, container }: { namespace: string; pod: string; container: string }): Promise<ExecContainer | ExecRefused> {
    const pod = [...this.pods.values()].find((p) => p.metadata.namespace === namespace && p.metadata.name === podName);
    if (!pod) return Promise.resolve({ error: 'pod does not exist', status: 404 });
    const current = this.states.get(pod.metadata.uid)?.containers.get(container)?.[0];
    if (!current) return Promise.resolve({ error: `container not found (${JSON.stringify(container)})`, status: 500 });
    if (current.state !== 'CONTAINER_RUNNING') return Promise.resolve({ error: `container ${JSON.stringify(container)} is not running`, status: 400 });
    return Promise.resolve({ containerId: current.id });
  }

  /** Where `kubectl port-forward` reaches the pod's ports: its ready sandbox's network namespace and IP (a pod without one has none yet). */
  async locatePortForward({ namespace, pod: podName }: { namespace: string; pod: string }): Promise<PortForwardTarget | PortForwardRefused> {
    const pod = [...this.pods.values()].find((p) => p.metadata.namespace === namespace && p.metadata.name === podName);
    if (!pod) return { error: `pod ${JSON.stringify(podName)} does not exist`, status: 404 };
    const ready = (await this.o.cri.listPodSandbox({ [POD_UID_LABEL]: pod.metadata.uid }))
      .filter((s) => s.state === 'SANDBOX_READY')
      .sort((a, b) => b.metadata.attempt - a.metadata.attempt)[0];
    const podIP = ready ? (await this.o.cri.podSandboxStatus(ready.id)).network?.ip : undefined;
    if (!ready || !podIP) return { error: `pod ${JSON.stringify(podName)} has no running sandbox with an IP`, status: 400 };
    const netns = await this.o.cri.podSandboxNetns(ready.id).catch(() => undefined);
    return { pod: `${namespace}/${podName}`, uid: pod.metadata.uid, podIP, netns };
  }

  // ---- pods from the API ----

  private podsPath(extra = ''): string {
    return `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${this.o.nodeName}`)}${extra}`;
  }

  private async watchLoop(): Promise<void> {
    let rv = '';
    let retryMs = 500;
    while (!this.stopped) {
      try {
        if (!rv) rv = await this.list();
        const status = await this.o.api.watch<Pod>(
          this.podsPath(`&watch=true&allowWatchBookmarks=true&timeoutSeconds=${WATCH_TIMEOUT_S}&resourceVersion=${encodeURIComponent(rv)}`),
          (e: WatchEvent<Pod>) => {
            if (e.type === 'ERROR') {
              rv = '';
              return;
            }
            if (e.object.metadata.resourceVersion) rv = e.object.metadata.resourceVersion;
            if (e.type === 'BOOKMARK') return;
            if (e.type === 'DELETED') this.forgetPod(e.object);
            else this.updatePod(e.object);
          },
          this.abort.signal,
        );
        if (status !== 200) rv = '';
        retryMs = 500;
      } catch (err) {
        if (this.stopped) return;
        this.o.log({ msg: 'kubelet: pod watch failed', error: errorText(err) });
        rv = '';
        await delay(retryMs);
        retryMs = Math.min(retryMs * 2, 10_000);
      }
    }
  }

  private async list(): Promise<string> {
    const r = await this.o.api.call('GET', this.podsPath());
    expectOk(r, 'list the pods bound to the node');
    const list = JSON.parse(r.body) as { metadata: { resourceVersion: string }; items: Pod[] };
    const seen = new Set<string>();
    for (const pod of list.items) {
      seen.add(pod.metadata.uid);
      this.updatePod(pod);
    }
    for (const [uid, pod] of this.pods) if (!seen.has(uid)) this.forgetPod(pod);
    if (!this.listed) {
      this.listed = true;
      void this.removeOrphans().catch((err: unknown) => this.o.log({ msg: 'kubelet: orphan sweep failed', error: errorText(err) }));
    }
    return list.metadata.resourceVersion;
  }

  private updatePod(pod: Pod): void {
    const before = this.pods.get(pod.metadata.uid);
    this.pods.set(pod.metadata.uid, pod);
    // As upstream's config source: an update of the status alone (ours, mostly) needs no sync.
    if (before && sameDesiredState(before, pod)) return;
    this.schedule(pod.metadata.uid);
  }

  /** The pod is gone from the API (force-deleted, or removed by us): whatever still runs of it is torn down. */
  private forgetPod(pod: Pod): void {
    this.pods.delete(pod.metadata.uid);
    this.schedule(pod.metadata.uid);
  }

  /** Runs a sync of the pod now, or right after the one in progress. */
  private schedule(uid: string): void {
    if (this.stopped) return;
    const w = this.workers.get(uid);
    if (w) {
      w.again = true;
      return;
    }
    const worker = { again: false, done: Promise.resolve() };
    this.workers.set(uid, worker);
    worker.done = (async () => {
      do {
        worker.again = false;
        try {
          await this.syncPod(uid);
        } catch (err) {
          this.o.log({ msg: 'kubelet: pod sync failed', pod: this.describe(uid), error: errorText(err) });
        }
      } while (worker.again && !this.stopped);
      this.workers.delete(uid);
    })();
  }

  private describe(uid: string): string {
    const p = this.pods.get(uid);
    return p ? `${p.metadata.namespace}/${p.metadata.name}` : uid;
  }

  private retryIn(uid: string, ms: number): void {
    const state = this.states.get(uid);
    if (!state) return;
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(() => this.schedule(uid), Math.max(ms, 50));
    state.retryTimer.unref();
  }

  // ---- one pod ----

  private async syncPod(uid: string): Promise<void> {
    const pod = this.pods.get(uid);
    if (!pod) {
      await this.killPod(uid, 0);
      this.dropState(uid);
      return;
    }
    if (pod.metadata.deletionTimestamp) {
      await this.terminate(pod);
      return;
    }
    // No runtime (yet): nothing can run; deletions above still complete.
    if (!this.criUp()) return;
    let state = this.states.get(uid);
    if (!state) {
      state = { containers: new Map(), waiting: new Map(), pullFailures: new Map(), probes: new Map() };
      this.states.set(uid, state);
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
      // Finished for good: nothing restarts; the sandbox goes, the containers stay for their logs.
      await this.stopSandboxes(uid);
      return;
    }
    let sandbox: Awaited<ReturnType<Kubelet['ensureSandbox']>>;
    try {
      sandbox = await this.ensureSandbox(pod, state);
    } catch (err) {
      // Volumes or the sandbox failed: the pod shows its containers as ContainerCreating meanwhile, as upstream's does.
      await this.reportStatus(pod, state, { ready: false, ips: [] }).catch(() => undefined);
      throw err;
    }
    const { sandboxId, sandboxConfig: sbConfig, ips } = sandbox;
    await this.refreshContainers(uid, state);
    // Read the containers again only when some were (re)started: a resync of a settled pod costs no more CRI calls.
    if (await this.startContainers(pod, state, sandboxId, sbConfig, ips)) await this.refreshContainers(uid, state);
    this.updateProbes(pod, state, ips[0] ?? '');
    const status = await this.reportStatus(pod, state, { ready: true, ips });
    if (status.phase === 'Succeeded' || status.phase === 'Failed') await this.stopSandboxes(uid);
  }

  /** The pod's ready sandbox, or a new one (the previous attempt's, if any, is removed first: its network is gone). */
  private async ensureSandbox(pod: Pod, state: PodState): Promise<{ sandboxId: string; sandboxConfig: PodSandboxConfig; ips: string[] }> {
    const uid = pod.metadata.uid;
    const sandboxes = (await this.o.cri.listPodSandbox({ [POD_UID_LABEL]: uid })).sort((a, b) => b.metadata.attempt - a.metadata.attempt);
    const ready = sandboxes.find((s) => s.state === 'SANDBOX_READY');
    const attempt = ready ? ready.metadata.attempt : sandboxes.length ? sandboxes[0].metadata.attempt + 1 : 0;
    const config = sandboxConfig(pod, attempt, { dns: this.o.dns });
    let id = ready?.id;
    if (!id) {
      for (const s of sandboxes) await this.removeSandbox(s.id);
      // The volumes (API reads, a service account token) are filled while the runtime makes the sandbox: both must be
      // done before a container starts, neither needs the other. Volumes that cannot be filled take the new sandbox
      // away again, so the pod shows what upstream's does then: ContainerCreating, no sandbox, a FailedMount event;
      // its next tries fill the volumes first, so a pod waiting for a ConfigMap does not make sandboxes meanwhile.
      const t0 = Date.now();
      const filling = prepareVolumes(pod, this.o.api, this.o.log);
      const making = state.volumesFailed ? filling.then(() => this.o.cri.runPodSandbox(config)) : this.o.cri.runPodSandbox(config);
      const [filled, sandbox] = await Promise.allSettled([filling, making]);
      state.volumesFailed = filled.status === 'rejected';
      if (filled.status === 'rejected') {
        if (sandbox.status === 'fulfilled') await this.removeSandbox(sandbox.value).catch(() => undefined);
        if (filled.reason instanceof MountVolumeError) this.events.record(pod, 'Warning', 'FailedMount', filled.reason.message);
        throw filled.reason;
      }
      if (sandbox.status === 'rejected') throw sandbox.reason;
      id = sandbox.value;
      this.o.log({ msg: 'kubelet: sandbox started', pod: `${pod.metadata.namespace}/${pod.metadata.name}`, sandbox: id.slice(0, 12), ms: Date.now() - t0 });
    }
    const status = await this.o.cri.podSandboxStatus(id);
    const ips = status.network?.ip ? [status.network.ip, ...status.network.additional_ips.map((a) => a.ip)] : [];
    return { sandboxId: id, sandboxConfig: config, ips };
  }

  /** Every runtime container of the pod (all its sandboxes), grouped by name, newest attempt first. */
  private async refreshContainers(uid: string, state: PodState): Promise<void> {
    const listed = await this.o.cri.listContainers({ labels: { [POD_UID_LABEL]: uid } });
    const statuses = await Promise.all(listed.map((c) => this.o.cri.containerStatus(c.id).catch(() => undefined)));
    const byName = new Map<string, CriContainerStatus[]>();
    for (const s of statuses) {
      if (!s) continue;
      const list = byName.get(s.metadata.name) ?? [];
      list.push(s);
      byName.set(s.metadata.name, list);
    }
    for (const [name, list] of byName) {
      list.sort((a, b) => b.metadata.attempt - a.metadata.attempt || criMillis(b.created_at) - criMillis(a.created_at));
      // Upstream keeps one dead container per container (for `logs --previous`): older attempts are removed.
      const old = list.splice(2).filter((c) => c.state === 'CONTAINER_EXITED');
      await Promise.all(old.map((c) => this.o.cri.removeContainer(c.id).catch(() => undefined)));
      byName.set(name, list);
    }
    state.containers = byName;
  }

  /**
   * Init containers one at a time, in order, each to success; then every regular container. A container that exited
   * is started again when the restart policy says so, after its back-off. Says whether it tried to start any.
   */
  private async startContainers(pod: Pod, state: PodState, sandboxId: string, sbConfig: PodSandboxConfig, ips: string[]): Promise<boolean> {
    const policy = pod.spec.restartPolicy ?? 'Always';
    let tried = false;
    for (const c of pod.spec.initContainers ?? []) {
      const latest = state.containers.get(c.name)?.[0];
      if (latest?.state === 'CONTAINER_EXITED' && latest.exit_code === 0) continue;
      if (latest?.state === 'CONTAINER_RUNNING' || latest?.state === 'CONTAINER_CREATED') {
        state.waiting.delete(c.name);
        return false;
      }
      if (latest?.state === 'CONTAINER_EXITED' && policy === 'Never') return false;
      await this.maybeStart(pod, state, c, latest, sandboxId, sbConfig, ips);
      return true;
    }
    await Promise.all(
      pod.spec.containers.map(async (c) => {
        const latest = state.containers.get(c.name)?.[0];
        if (latest?.state === 'CONTAINER_RUNNING' || latest?.state === 'CONTAINER_CREATED') {
          const hash = latest.annotations?.[CONTAINER_HASH_ANNOTATION];
          if (!hash || hash === containerHash(c)) {
            state.waiting.delete(c.name);
            return;
          }
          // Its spec changed (a new image): stopped and started again whatever the restart policy, as upstream's.
          await this.killForChange(pod, c, latest.id);
        }
        if (latest?.state === 'CONTAINER_EXITED' && (policy === 'Never' || (policy === 'OnFailure' && latest.exit_code === 0))) {
          state.waiting.delete(c.name);
          return;
        }
        tried = true;
        await this.maybeStart(pod, state, c, latest, sandboxId, sbConfig, ips);
      }),
    );
    // Ephemeral containers (kubectl debug): each started once beside the others, never restarted.
    for (const c of pod.spec.ephemeralContainers ?? []) {
      if (state.containers.get(c.name)?.length) {
        state.waiting.delete(c.name);
        continue;
      }
      const target = c.targetContainerName ? state.containers.get(c.targetContainerName)?.[0] : undefined;
      tried = true;
      await this.maybeStart(pod, state, c, undefined, sandboxId, sbConfig, ips, target?.state === 'CONTAINER_RUNNING' ? target.id : undefined);
    }
    return tried;
  }

  private async maybeStart(
    pod: Pod,
    state: PodState,
    c: Container,
    latest: CriContainerStatus | undefined,
    sandboxId: string,
    sbConfig: PodSandboxConfig,
    ips: string[],
    targetId?: string,
  ): Promise<void> {
    const key = `${pod.metadata.uid}/${c.name}`;
    const now = this.now().getTime();
    if (latest) {
      const finished = criMillis(latest.finished_at) || now;
      const wait = this.containerBackoff.inBackoff(key, finished, now);
      if (wait) {
        this.events.record(
          pod,
          'Warning',
          'BackOff',
          `Back-off restarting failed container ${c.name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
          containerFieldPath(pod, c.name),
        );
        state.waiting.set(c.name, {
          reason: 'CrashLoopBackOff',
          message: `back-off ${formatDelay(wait.delayMs)} restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
        });
        this.retryIn(pod.metadata.uid, wait.remainingMs);
        return;
      }
      this.containerBackoff.next(key, finished, now);
    }
    const imageRef = await this.ensureImage(pod, state, c, sbConfig, ips);
    if (!imageRef) return;
    const env = await this.containerEnv(pod, c, ips);
    const field = containerFieldPath(pod, c.name);
    if ('error' in env) {
      this.events.record(pod, 'Warning', 'Failed', `Error: ${env.error}`, field);
      state.waiting.set(c.name, { reason: 'CreateContainerConfigError', message: env.error });
      this.retryIn(pod.metadata.uid, this.containerBackoff.baseMs);
      return;
    }
    const attempt = latest ? latest.metadata.attempt + 1 : 0;
    const config = containerConfig(pod, { container: c, attempt, imageRef, env: env.env, mounts: volumeMounts(pod, c), targetId }, this.o.allocatable().memory);
    let id: string;
    const t0 = Date.now();
    try {
      id = await this.o.cri.createContainer(sandboxId, config, sbConfig);
    } catch (err) {
      this.events.record(pod, 'Warning', 'Failed', `Error: ${errorText(err)}`, field);
      state.waiting.set(c.name, { reason: 'CreateContainerError', message: errorText(err) });
      this.retryIn(pod.metadata.uid, this.containerBackoff.baseMs);
      return;
    }
    this.events.record(pod, 'Normal', 'Created', `Created container: ${c.name}`, field);
    try {
      await this.o.cri.startContainer(id);
      this.events.record(pod, 'Normal', 'Started', `Started container ${c.name}`, field);
      state.waiting.delete(c.name);
      this.o.log({ msg: 'kubelet: container started', pod: `${pod.metadata.namespace}/${pod.metadata.name}`, container: c.name, attempt, ms: Date.now() - t0 });
    } catch (err) {
      // The container exists and shows as exited: its status carries the error (RunContainerError upstream).
      this.events.record(pod, 'Warning', 'Failed', `Error: ${errorText(err)}`, field);
      state.waiting.set(c.name, { reason: 'RunContainerError', message: errorText(err) });
      this.retryIn(pod.metadata.uid, this.containerBackoff.baseMs);
    }
  }

  /**
   * The image for the container per its pull policy (Always, IfNotPresent, Never; default Always for `:latest` or no
   * tag). A pull uses the credentials of the pod's imagePullSecrets that match the image's registry, each in turn until
   * one works, as upstream's kubelet does. A failed pull shows as ErrImagePull, then ImagePullBackOff (with the failed
   * pull's error) while its back-off lasts.
   */
  private async ensureImage(pod: Pod, state: PodState, c: Container, sbConfig: PodSandboxConfig, ips: string[]): Promise<string | undefined> {
    const image = c.image ?? '';
    const policy = c.imagePullPolicy ?? defaultPullPolicy(image);
    const field = containerFieldPath(pod, c.name);
    const present = await this.o.cri.imageStatus(image);
    if (present && policy !== 'Always') {
      this.events.record(pod, 'Normal', 'Pulled', `Container image "${image}" already present on machine`, field);
      return present.id;
    }
    if (policy === 'Never') {
      const message = `Container image "${image}" is not present with pull policy of Never`;
      this.events.record(pod, 'Warning', 'ErrImageNeverPull', message, field);
      this.events.record(pod, 'Warning', 'Failed', 'Error: ErrImageNeverPull', field);
      state.waiting.set(c.name, { reason: 'ErrImageNeverPull', message });
      return undefined;
    }
    const key = `${pod.metadata.uid}/${c.name}@${image}`;
    const now = this.now().getTime();
    const failed = state.pullFailures.get(c.name);
    const wait = failed === undefined ? undefined : this.imageBackoff.inBackoff(key, failed.at, now);
    if (wait) {
      this.events.record(pod, 'Normal', 'BackOff', `Back-off pulling image "${image}"`, field);
      this.events.record(pod, 'Warning', 'Failed', 'Error: ImagePullBackOff', field);
      state.waiting.set(c.name, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ErrImagePull: ${failed?.message}` });
      this.retryIn(pod.metadata.uid, wait.remainingMs);
      return undefined;
    }
    // A pull may take long: the pod shows ContainerCreating meanwhile, not nothing.
    if (!state.waiting.has(c.name)) state.waiting.set(c.name, { reason: 'ContainerCreating' });
    await this.reportStatus(pod, state, { ready: true, ips }).catch(() => undefined);
    const credentials = await this.pullCredentials(pod, image);
    this.events.record(pod, 'Normal', 'Pulling', `Pulling image "${image}"`, field);
    const pullStart = Date.now();
    try {
      await this.pullWith(image, sbConfig, credentials);
      const pulled = await this.o.cri.imageStatus(image);
      const took = goDuration(Date.now() - pullStart);
      this.events.record(
        pod,
        'Normal',
        'Pulled',
        `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${pulled?.size ?? 0} bytes.`,
        field,
      );
      state.pullFailures.delete(c.name);
      this.imageBackoff.reset(key);
      return pulled?.id ?? image;
    } catch (err) {
      const message = pullErrorText(err);
      this.events.record(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${message}`, field);
      this.events.record(pod, 'Warning', 'Failed', 'Error: ErrImagePull', field);
      // The back-off counts from the failure, not from the pull's start, as upstream's: a pull slower than the
      // back-off would otherwise retry at once, forever, and never show ImagePullBackOff.
      const failedAt = this.now().getTime();
      const delayMs = this.imageBackoff.next(key, failedAt, failedAt);
      state.pullFailures.set(c.name, { at: failedAt, message });
      state.waiting.set(c.name, { reason: 'ErrImagePull', message });
      this.retryIn(pod.metadata.uid, delayMs);
      return undefined;
    }
  }

  /** The Services for containers' variables; a node that just started waits briefly for its first list. */
  private async serviceLinks(): Promise<ServiceLinkSource[] | undefined> {
    if (!this.o.services) return [];
    for (let waited = 0; waited < SERVICES_SYNC_WAIT_MS; waited += 100) {
      const services = this.o.services();
      if (services) return services;
      await new Promise((r) => setTimeout(r, 100));
    }
    return this.o.services();
  }

  /** Without credentials one plain pull; else each in turn, and when all fail, all their errors (upstream's aggregate). */
  private async pullWith(image: string, sbConfig: PodSandboxConfig, credentials: AuthConfig[]): Promise<void> {
    const errors: unknown[] = [];
    // No credentials is one anonymous attempt.
    for (const auth of credentials.length ? credentials : [undefined]) {
      try {
        await this.o.cri.pullImage(image, sbConfig, auth);
        return;
      } catch (err) {
        errors.push(err);
      }
    }
    const texts = [...new Set(errors.map(pullErrorText))];
    throw new Error(texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`);
  }

  /**
   * The credentials of the pod's imagePullSecrets for an image. A secret that cannot be read is reported with upstream's
   * FailedToRetrieveImagePullSecret event and the pull goes on without it.
   */
  private async pullCredentials(pod: Pod, image: string): Promise<AuthConfig[]> {
    const names = (pod.spec.imagePullSecrets ?? []).map((r) => r.name ?? '').filter((n) => n);
    if (!names.length) return [];
    const secrets: PullSecret[] = [];
    const failed: string[] = [];
    for (const name of names) {
      try {
        const secret = await this.o.api.readObject<PullSecret>('secrets', pod.metadata.namespace, name);
        if (!secret) throw new Error(`secret "${name}" not found`);
        secrets.push(secret);
      } catch (err) {
        this.o.log({
          msg: 'kubelet: unable to retrieve pull secret, the image pull may not succeed',
          pod: pod.metadata.name,
          secret: name,
          error: errorText(err),
        });
        failed.push(name);
      }
    }
    if (failed.length) {
      this.events.record(
        pod,
        'Warning',
        'FailedToRetrieveImagePullSecret',
        `Unable to retrieve some image pull secrets (${failed.join(', ')}); attempting to pull the image may not succeed.`,
      );
    }
    const { keyring, problems } = keyringFromSecrets(secrets);
    for (const problem of problems) this.o.log({ msg: 'kubelet: unreadable image pull secret skipped', pod: pod.metadata.name, problem });
    return keyring.lookup(image).map(({ username, password }) => ({ username, password }));
  }

  private async containerEnv(pod: Pod, c: Container, podIPs: string[]): Promise<EnvResult> {
    const refs = envReferences(c);
    const fetch = async (kind: 'configmaps' | 'secrets', names: Set<string>): Promise<DataByName> => {
      const out: DataByName = new Map();
      for (const name of names) {
        const obj = await this.o.api.readObject<{ data?: Record<string, string> }>(kind, pod.metadata.namespace, name);
        const data = obj?.data ?? {};
        out.set(
          name,
          !obj ? null : kind === 'secrets' ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) : data,
        );
      }
      return out;
    };
    const services = await this.serviceLinks();
    if (!services) return { error: 'services have not yet been read at least once, cannot construct envvars' };
    try {
      const [configMaps, secrets] = await Promise.all([fetch('configmaps', refs.configMaps), fetch('secrets', refs.secrets)]);
      return resolveEnv(pod, c, {
        configMaps,
        secrets,
        hostIPs: this.o.hostIPs(),
        podIPs,
        nodeAllocatable: this.o.allocatable(),
        serviceEnv: serviceEnv(pod.metadata.namespace, pod.spec.enableServiceLinks, services),
      });
    } catch (err) {
      return { error: errorText(err) };
    }
  }

  private view(pod: Pod, state: PodState, sandbox: PodView['sandbox']): PodView {
    const toView = (c: Container): ContainerView => {
      const attempts = state.containers.get(c.name) ?? [];
      const probes = state.probes.get(c.name);
      const current = probes && attempts[0]?.id === probes.containerId ? probes.results : {};
      return {
        latest: attempts[0],
        previous: attempts[1],
        waiting: state.waiting.get(c.name),
        ready: current.readiness?.ok,
        started: current.startup?.ok,
      };
    };
    return {
      sandbox,
      init: new Map((pod.spec.initContainers ?? []).map((c) => [c.name, toView(c)])),
      containers: new Map(pod.spec.containers.map((c) => [c.name, toView(c)])),
      ephemeral: new Map((pod.spec.ephemeralContainers ?? []).map((c) => [c.name, toView(c)])),
      hostIPs: this.o.hostIPs(),
    };
  }

  private async reportStatus(pod: Pod, state: PodState, sandbox: PodView['sandbox']): Promise<PodStatus> {
    const status = computePodStatus(pod, this.view(pod, state, sandbox), this.now());
    if (!statusChanged(pod.status, status)) return status;
    const path = `/api/v1/namespaces/${encodeURIComponent(pod.metadata.namespace)}/pods/${encodeURIComponent(pod.metadata.name)}/status`;
    const r = await this.o.api.call('PATCH', path, { metadata: { uid: pod.metadata.uid }, status });
    if (r.status === 404 || r.status === 409) return status;
    expectOk(r, `update the status of ${pod.metadata.namespace}/${pod.metadata.name}`);
    const updated = JSON.parse(r.body) as Pod;
    // Keep our copy current, so the next sync compares against what we wrote (a watch event follows anyway).
    if (this.pods.get(pod.metadata.uid) === pod && updated.metadata.uid === pod.metadata.uid) this.pods.set(pod.metadata.uid, updated);
    if (status.phase !== pod.status?.phase)
      this.o.log({ msg: 'kubelet: pod phase', pod: `${pod.metadata.namespace}/${pod.metadata.name}`, phase: status.phase });
    return status;
  }

  // ---- probes ----

  /** Starts the probes of containers that just started and stops those of containers that are gone or exited. */
  private updateProbes(pod: Pod, state: PodState, podIP: string): void {
    for (const c of pod.spec.containers) {
      const latest = state.containers.get(c.name)?.[0];
      const current = state.probes.get(c.name);
      const running = latest?.state === 'CONTAINER_RUNNING';
      if (current && (!running || current.containerId !== latest.id)) {
        stopProbes(current);
        state.probes.delete(c.name);
      }
      if (!running || state.probes.has(c.name) || !(c.livenessProbe || c.readinessProbe || c.startupProbe)) continue;
      const worker: ProbeWorker = { containerId: latest.id, results: {}, timers: new Map(), stopped: false };
      state.probes.set(c.name, worker);
      const kinds: [ProbeKind, Container['livenessProbe']][] = [
        ['startup', c.startupProbe],
        ['liveness', c.livenessProbe],
        ['readiness', c.readinessProbe],
      ];
      for (const [kind, probe] of kinds) {
        if (!probe) continue;
        const result = new ProbeResult(kind, probe);
        worker.results[kind] = result;
        const tick = async () => {
          if (worker.stopped) return;
          const startup = worker.results.startup;
          // Liveness and readiness wait for the startup probe; the startup probe stops once it passed.
          const due = kind === 'startup' ? !startup?.ok : !startup || startup.ok;
          if (due) {
            const ok = await runProbe(probe, {
              container: c,
              podIP,
              exec: async (cmd, timeout) => (await this.o.cri.execSync(worker.containerId, cmd, timeout)).exit_code,
            });
            if (worker.stopped) return;
            if (!ok) {
              const kindName = `${kind[0].toUpperCase()}${kind.slice(1)}`;
              this.events.record(pod, 'Warning', 'Unhealthy', `${kindName} probe failed: ${describeProbe(probe)}`, containerFieldPath(pod, c.name));
            }
            if (result.record(ok)) {
              if (!result.ok && kind !== 'readiness') await this.killForProbe(pod, c, worker, kind, probe?.terminationGracePeriodSeconds);
              this.schedule(pod.metadata.uid);
            }
          }
          if (!worker.stopped) worker.timers.set(kind, setTimeout(() => void tick(), (probe.periodSeconds ?? 10) * 1000).unref());
        };
        worker.timers.set(kind, setTimeout(() => void tick(), (probe.initialDelaySeconds ?? 0) * 1000).unref());
      }
    }
  }

  /** A container whose spec changed: stopped within the pod's grace period, then started again with the new spec. */
  private async killForChange(pod: Pod, c: Container, containerId: string): Promise<void> {
    this.events.record(pod, 'Normal', 'Killing', `Container ${c.name} definition changed, will be restarted`, containerFieldPath(pod, c.name));
    await this.o.cri
      .stopContainer(containerId, pod.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_S)
      .catch((err: unknown) => this.o.log({ msg: 'kubelet: cannot stop the container', container: c.name, error: errorText(err) }));
  }

  /** A failed liveness or startup probe: the container is stopped (its grace period), and the restart policy decides. */
  private async killForProbe(pod: Pod, c: Container, worker: ProbeWorker, kind: ProbeKind, graceSeconds: number | undefined): Promise<void> {
    stopProbes(worker);
    this.events.record(pod, 'Normal', 'Killing', `Container ${c.name} failed ${kind} probe, will be restarted`, containerFieldPath(pod, c.name));
    this.o.log({ msg: `kubelet: container failed its ${kind} probe: restarting`, pod: `${pod.metadata.namespace}/${pod.metadata.name}`, container: c.name });
    await this.o.cri
      .stopContainer(worker.containerId, graceSeconds ?? pod.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_S)
      .catch((err: unknown) => this.o.log({ msg: 'kubelet: cannot stop the container', container: c.name, error: errorText(err) }));
  }

  // ---- stopping ----

  /**
   * A pod marked for deletion: its containers get their grace period (the deletion's, else the pod's) to stop, the
   * sandbox goes, the final status is posted, and the pod is removed for good (zero grace, uid precondition, so a new
   * pod of the same name is spared).
   */
  private async terminate(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid;
    const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_S;
    await this.killPod(uid, grace, pod);
    const state = this.states.get(uid);
    if (state && this.criUp()) {
      await this.refreshContainers(uid, state).catch(() => undefined);
      await this.reportStatus(pod, state, { ready: false, ips: [] }).catch(() => undefined);
    }
    const path = `/api/v1/namespaces/${encodeURIComponent(pod.metadata.namespace)}/pods/${encodeURIComponent(pod.metadata.name)}`;
    const r = await this.o.api.call('DELETE', path, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid } });
    if (r.status !== 404 && r.status !== 409) expectOk(r, `remove the deleted pod ${pod.metadata.namespace}/${pod.metadata.name}`);
    this.o.log({ msg: 'kubelet: pod removed', pod: `${pod.metadata.namespace}/${pod.metadata.name}`, graceSeconds: grace });
    await this.removeSandboxes(uid);
    this.dropState(uid);
    // Upstream's garbage collection removes a removed pod's logs too.
    await rm(podLogDirectory(pod), { recursive: true, force: true }).catch(() => undefined);
  }

  /**
   * Stops the pod's running containers (in parallel, each with the grace period) and its sandboxes. With the pod's
   * spec at hand, a container's preStop hook runs first, inside the grace period, as upstream runs it: the stop then
   * gets what is left of the grace period, at least upstream's 2 s.
   */
  private async killPod(uid: string, graceSeconds: number, pod?: Pod): Promise<void> {
    if (!this.criUp()) return;
    const containers: CriContainer[] = await this.o.cri.listContainers({ labels: { [POD_UID_LABEL]: uid } });
    const started = Date.now();
    const podIP = pod?.status?.podIP ?? '';
    const stopOne = async (c: CriContainer): Promise<void> => {
      const spec = pod?.spec.containers.find((x) => x.name === c.labels[CONTAINER_NAME_LABEL]);
      let grace = graceSeconds;
      if (spec && pod) this.events.record(pod, 'Normal', 'Killing', `Stopping container ${spec.name}`, containerFieldPath(pod, spec.name));
      if (spec?.lifecycle?.preStop && c.state === 'CONTAINER_RUNNING' && graceSeconds > 0) {
        const outcome = await runLifecycleHook(spec.lifecycle.preStop, graceSeconds, {
          container: spec,
          podIP,
          exec: async (cmd, timeout) => (await this.o.cri.execSync(c.id, cmd, timeout)).exit_code,
        });
        if (!outcome.ok) {
          this.o.log({ msg: 'kubelet: preStop hook failed', pod: uid, container: spec.name, error: outcome.error });
          if (pod) this.events.record(pod, 'Warning', 'FailedPreStopHook', `PreStopHook failed: ${outcome.error ?? ''}`, containerFieldPath(pod, spec.name));
        }
        grace = Math.max(MIN_GRACE_AFTER_HOOK_S, graceSeconds - Math.ceil((Date.now() - started) / 1000));
      }
      await this.o.cri.stopContainer(c.id, grace).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    };
    await Promise.all(containers.filter((c) => c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_CREATED').map(stopOne));
    await this.stopSandboxes(uid);
  }

  private async stopSandboxes(uid: string): Promise<void> {
    if (!this.criUp()) return;
    for (const s of await this.o.cri.listPodSandbox({ [POD_UID_LABEL]: uid })) {
      if (s.state === 'SANDBOX_READY') await this.o.cri.stopPodSandbox(s.id).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    }
  }

  private async removeSandboxes(uid: string): Promise<void> {
    if (!this.criUp()) return;
    for (const s of await this.o.cri.listPodSandbox({ [POD_UID_LABEL]: uid })) await this.removeSandbox(s.id);
  }

  private async removeSandbox(id: string): Promise<void> {
    await this.o.cri.stopPodSandbox(id).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    await this.o.cri.removePodSandbox(id).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
  }

  private dropState(uid: string): void {
    const state = this.states.get(uid);
    clearTimeout(state?.retryTimer);
    for (const w of state?.probes.values() ?? []) stopProbes(w);
    this.states.delete(uid);
    this.events.forget(uid);
    this.containerBackoff.forget(`${uid}/`);
    this.imageBackoff.forget(`${uid}/`);
    void rm(`${KUBELET_PODS_ROOT}/${uid}`, { recursive: true, force: true }).catch(() => undefined);
  }

  /** Sandboxes this kubelet made for pods the API no longer binds here are stopped and removed. */
  private async removeOrphans(): Promise<void> {
    if (!this.listed || !this.criUp()) return;
    const sandboxes = await this.o.cri.listPodSandbox({ [KUBELET_MANAGED_LABEL]: 'true' });
    const orphans = new Map(
      sandboxes.filter((s) => !this.pods.has(s.metadata.uid) && !this.workers.has(s.metadata.uid)).map((s) => [s.metadata.uid, s.metadata]),
    );
    for (const [uid, meta] of orphans) {
      this.o.log({ msg: 'kubelet: removing the sandboxes of a pod no longer bound here', uid });
      await this.killPod(uid, 0);
      await this.removeSandboxes(uid);
      this.dropState(uid);
      await rm(`${POD_LOGS_ROOT}/${meta.namespace}_${meta.name}_${uid}`, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Upstream's PLEG in small: a pod whose containers changed state since the last relist is synced now. */
  private async relist(): Promise<void> {
    if (!this.listed || !this.criUp()) return;
    const containers = await this.o.cri.listContainers({ labels: { [KUBELET_MANAGED_LABEL]: 'true' } });
    const next = new Map<string, string>();
    const changed = new Set<string>();
    for (const c of containers) {
      next.set(c.id, c.state);
      if (this.lastRelist.get(c.id) !== c.state) changed.add(c.labels[POD_UID_LABEL]);
    }
    this.lastRelist = next;
    for (const uid of changed) if (uid && this.pods.has(uid)) this.schedule(uid);
  }

  private criUp(): boolean {
    return !this.o.criSocketPath || existsSync(this.o.criSocketPath);
  }

  private now(): Date {
    return this.o.now?.() ?? new Date();
  }
}

/** What a failed probe tried, for its Unhealthy event (the probe's own output is not kept). */
function describeProbe(p: Probe): string {
  if (p.exec) return `command ${JSON.stringify(p.exec.command)} did not exit 0`;
  if (p.httpGet) return `HTTP GET ${p.httpGet.path || '/'} on port ${p.httpGet.port} did not answer 200-399 within ${p.timeoutSeconds ?? 1}s`;
  if (p.tcpSocket) return `no TCP connection to port ${p.tcpSocket.port} within ${p.timeoutSeconds ?? 1}s`;
  return 'no handler';
}

/** Upstream's default: Always when the image has no tag or `:latest` (and no digest), IfNotPresent otherwise. */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function sameDesiredState(a: Pod, b: Pod): boolean {
  const desired = (p: Pod) =>
    JSON.stringify([p.spec, p.metadata.deletionTimestamp, p.metadata.deletionGracePeriodSeconds, p.metadata.labels, p.metadata.annotations]);
  return desired(a) === desired(b);
}

function stopProbes(w: ProbeWorker): void {
  w.stopped = true;
  for (const t of w.timers.values()) clearTimeout(t);
  w.timers.clear();
}

function isNotFound(err: unknown): boolean {
  return err instanceof CriError && err.notFound;
}

/** A failed pull as upstream's kubelet shows it: the runtime's gRPC error as Go prints it. */
function pullErrorText(err: unknown): string {
  return err instanceof CriError ? err.grpcText : errorText(err);
}

/** Go's time.Duration.String() of a duration truncated to milliseconds (`523ms`, `1.234s`, `2m3.5s`). */
export function goDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const rest = total % 60_000;
  const secs = `${Math.floor(rest / 1000)}${
    rest % 1000
      ? `.${String(rest % 1000)
          .padStart(3, '0')
          .replace(/0+$/, '')}`
      : ''
  }s`;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${secs}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
