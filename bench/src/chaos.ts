// `npm run chaos -- --faults=10 --operations=12 --minutes=10 --seed=1 --clusters=2` (issue 18).
// Brings up a private Cerulean (its own Postgres, Redis, API and worker on loopback, like the bench), drives a mix of
// cluster and pool operations on several clusters at once while injecting faults at random (seeded) moments, lets
// things settle, checks the invariants and prints a table. Only what this run started is ever disturbed: its own
// API and worker processes, its own Postgres and Redis, the node containers of its own clusters, and the socket its
// platform reaches Docker through (cut as a daemon crash looks to clients); never the machine's dockerd. Everything
// it started is stopped at the end, even on failure. Exit code 1 when an invariant fails.
import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import { NodeLabels } from '@cerulean/node-provider';
import { Client } from 'pg';
import { adminKubeClient, waitForDefaultServiceAccount } from './cluster-kube';
import { BenchPlatform } from './platform';

const AKS = 'api-version=2026-06-01';
const RES = 'api-version=2024-11-01';

const flag = (name: string, fallback: number): number => {
  const raw = process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number, got '${raw}'`);
  return value;
};
const FAULTS = flag('faults', 10);
const OPERATIONS = flag('operations', 12);
const MINUTES = flag('minutes', 15);
const SEED = flag('seed', 1);
const CLUSTERS = Math.max(1, flag('clusters', 2));

const log = (msg: string): void => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** mulberry32: a small seeded generator, so a run can be repeated fault for fault. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seeded(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];

/** The workload every cluster runs through the chaos (the node image carries its image). */
const WORKLOAD = 'chaos-web';
const WORKLOAD_REPLICAS = 2;
const WORKLOAD_IMAGE = 'docker.io/library/busybox:1.35';

const FAULT_KINDS = [
  'worker-sigkill',
  'worker-sigstop',
  'api-sigkill',
  'api-sigstop',
  'postgres-restart',
  'redis-restart',
  'docker-away',
  'node-kill',
] as const;
type FaultKind = (typeof FAULT_KINDS)[number];
interface FaultRecord {
  kind: FaultKind;
  at: number;
  /**
   * Fault → the API serving again (/healthz 200 and a read that succeeds); node-kill: → the node running again;
   * docker-away: → the platform's first request through the reopened Docker socket.
   */
  recoveryMs?: number;
  detail: string;
}
interface OperationRecord {
  cluster: string;
  what: string;
  status: string;
  statusUrl?: string;
  ms: number;
  /** What the API said, for a request it answered with an error. */
  message?: string;
}
interface Invariant {
  name: string;
  ok: boolean;
  detail: string;
}

async function main(): Promise<number> {
  const platform = new BenchPlatform(process.env.CERULEAN_CHAOS_DIR ?? '/tmp/cerulean-chaos');
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= platform.down());
  const onSignal = (sig: NodeJS.Signals): void => {
    log(`${sig}: stopping what the chaos run started`);
    void stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const hardStop = setTimeout(
    () => {
      log(`the run exceeded ${MINUTES + 10} minutes: stopping`);
      void stop().finally(() => process.exit(1));
    },
    (MINUTES + 10) * 60_000,
  );
  try {
    await platform.up(
      log,
      {
        CERULEAN_HEALTH_INTERVAL_MS: '2000',
        CERULEAN_NODE_UNHEALTHY_AFTER_MS: '5000',
        CERULEAN_SWEEP_INTERVAL_MS: '2000',
        CERULEAN_RETRY_AFTER_SECONDS: '1',
        CERULEAN_LOG_LEVEL: 'warn',
      },
      { relayDocker: true },
    );
    // The bench's own connection dies with every Postgres restart: an unhandled 'error' would end this process.
    platform.db?.on('error', () => undefined);
    const chaos = new ChaosRun(platform);
    await chaos.run();
    clearTimeout(hardStop);
    return chaos.report();
  } finally {
    clearTimeout(hardStop);
    await stop();
  }
}

class ChaosRun {
  readonly faults: FaultRecord[] = [];
  readonly operations: OperationRecord[] = [];
  readonly invariants: Invariant[] = [];
  private readonly rg = 'chaos-rg';
  private readonly clusters = Array.from({ length: CLUSTERS }, (_, i) => `chaos${i}`);
  private readonly deadline = Date.now() + MINUTES * 60_000;
  /** Clusters whose workload (a Deployment of WORKLOAD_REPLICAS) was created: it must be Ready again at the end. */
  private readonly workloads = new Set<string>();

  constructor(private readonly platform: BenchPlatform) {}

  private get http() {
    const http = this.platform.http;
    if (!http) throw new Error('the platform is not up');
    return http;
  }

  private clusterPath(name: string): string {
    return `/subscriptions/${this.platform.subscriptionId}/resourceGroups/${this.rg}/providers/Microsoft.ContainerService/managedClusters/${name}`;
  }

  /**
   * A call as a patient ARM client makes it: a refused connection (API restarting), 503 and 429 are retried after a
   * moment; anything else is the answer. Bounded by the run's deadline.
   */
  private async call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; headers: Record<string, unknown>; body: T }> {
    for (;;) {
      try {
        const r = await this.http.call<T>(method, path, body);
        if (r.status !== 503 && r.status !== 429) return r;
      } catch {
        // the API is down (killed, stopped): try again
      }
      if (Date.now() > this.deadline + 5 * 60_000) throw new Error(`${method} ${path}: no answer before the run's deadline`);
      await sleep(500);
    }
  }

  /** Polls an operation's status URL to a terminal status (the answer a client would see). */
  private async waitOperation(statusUrl: string, limitMs = 8 * 60_000): Promise<string> {
    const until = Date.now() + limitMs;
    while (Date.now() < until) {
      const r = await this.call<{ status: string }>('GET', statusUrl);
      if (r.status === 200 && ['Succeeded', 'Failed', 'Canceled'].includes(r.body.status)) return r.body.status;
      await sleep(500);
    }
    return 'Stuck';
  }

  /** Starts a long-running request (retrying 409 while the cluster is busy) and follows it to its end. */
  private async operate(cluster: string, what: string, method: string, path: string, body?: unknown): Promise<void> {
    const started = Date.now();
    for (let tries = 0; tries < 120; tries++) {
      const r = await this.call(method, path, body);
      // 409 is "busy" only while an operation runs on the cluster; once it is settled the 409 is the answer (a stop of
      // a cluster already Stopped: "its power state is already Stopped"), recorded as such.
      if (r.status === 409 && (await this.busy(cluster))) {
        await sleep(1000);
        continue;
      }
      if (r.status === 409) {
        const error = (r.body as { error?: { code?: string; message?: string } } | undefined)?.error;
        this.operations.push({ cluster, what, status: `HTTP 409 ${error?.code ?? ''}`.trim(), message: error?.message, ms: Date.now() - started });
        return;
      }
      const statusUrl = r.headers['azure-asyncoperation'] as string | undefined;
      if (!statusUrl) {
        const error = (r.body as { error?: { message?: string } } | undefined)?.error;
        this.operations.push({ cluster, what, status: `HTTP ${r.status}`, message: error?.message, ms: Date.now() - started });
        return;
      }
      const status = await this.waitOperation(statusUrl);
      this.operations.push({ cluster, what, status, statusUrl, ms: Date.now() - started });
      return;
    }
    this.operations.push({ cluster, what, status: 'NeverAccepted', ms: Date.now() - started });
  }

  /** Whether an operation runs on the cluster (its provisioning state is not a settled one). */
  private async busy(cluster: string): Promise<boolean> {
    const r = await this.call<{ properties?: { provisioningState?: string } }>('GET', `${this.clusterPath(cluster)}?${AKS}`);
    return !['Succeeded', 'Failed', 'Canceled'].includes(r.body.properties?.provisioningState ?? '');
  }

  private clusterBody(count: number) {
    return {
      location: 'eastus',
      properties: {
        dnsPrefix: 'chaos',
        agentPoolProfiles: [{ name: 'nodepool1', count, vmSize: 'Standard_DS2_v2', mode: 'System', osType: 'Linux' }],
      },
    };
  }

  async run(): Promise<void> {
    await this.http.expect([200, 201], 'PUT', `/subscriptions/${this.platform.subscriptionId}/resourcegroups/${this.rg}?${RES}`, { location: 'eastus' });
    log(`creating ${this.clusters.length} clusters`);
    await Promise.all(this.clusters.map((c) => this.operate(c, 'create', 'PUT', `${this.clusterPath(c)}?${AKS}`, this.clusterBody(1))));
    await Promise.all(this.clusters.map((c) => this.deployWorkload(c)));

    let faultsDone = false;
    // Handled at once (awaited below): a rejection while the operation lanes still run must not end the process
    // before `down` has removed what the run made.
    const faultLoop = this.faultLoop()
      .finally(() => (faultsDone = true))
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    // One lane per cluster: operations on a cluster run one after the other, clusters in parallel.
    let issued = 0;
    await Promise.all(
      this.clusters.map(async (c) => {
        while (issued < OPERATIONS && Date.now() < this.deadline) {
          issued += 1;
          await this.randomOperation(c);
        }
      }),
    );
    if (!faultsDone) log('operations done; waiting for the remaining faults');
    const faultError = await faultLoop;
    if (faultError) throw faultError;
    await this.settle();
    await this.check();
  }

  /** A Deployment in the cluster: whatever the faults and operations do, its replicas must be Ready again at the end. */
  private async deployWorkload(c: string): Promise<void> {
    try {
      const kube = await adminKubeClient(this.http, this.clusterPath(c), AKS.slice('api-version='.length));
      await waitForDefaultServiceAccount(kube);
      await kube.create('/apis/apps/v1/namespaces/default/deployments', {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: WORKLOAD },
        spec: {
          replicas: WORKLOAD_REPLICAS,
          selector: { matchLabels: { app: WORKLOAD } },
          template: {
            metadata: { labels: { app: WORKLOAD } },
            spec: {
              terminationGracePeriodSeconds: 1,
              containers: [{ name: 'sleep', image: WORKLOAD_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '86400'] }],
            },
          },
        },
      });
      this.workloads.add(c);
    } catch (err) {
      log(`${c}: could not deploy the workload: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** How long until the cluster's workload has all its replicas Ready (undefined: not within the limit). */
  private async workloadReadyMs(c: string, limitMs = 180_000): Promise<number | undefined> {
    const started = Date.now();
    while (Date.now() - started < limitMs) {
      try {
        const kube = await adminKubeClient(this.http, this.clusterPath(c), AKS.slice('api-version='.length));
        const d = await kube.get<{ status?: { readyReplicas?: number } }>(`/apis/apps/v1/namespaces/default/deployments/${WORKLOAD}`);
        if (d.status?.readyReplicas === WORKLOAD_REPLICAS) return Date.now() - started;
      } catch {
        // The API server may still be coming back: ask again.
      }
      await sleep(2000);
    }
    return undefined;
  }

  private async randomOperation(c: string): Promise<void> {
    const kind = pick(['scale', 'scale', 'rotate', 'stop-start'] as const);
    if (kind === 'scale') {
      const count = 1 + Math.floor(random() * 3);
      await this.operate(c, `scale to ${count}`, 'PUT', `${this.clusterPath(c)}/agentPools/nodepool1?${AKS}`, {
        properties: { count, vmSize: 'Standard_DS2_v2', mode: 'System', osType: 'Linux' },
      });
    } else if (kind === 'rotate') {
      await this.operate(c, 'rotate certificates', 'POST', `${this.clusterPath(c)}/rotateClusterCertificates?${AKS}`);
    } else {
      await this.operate(c, 'stop', 'POST', `${this.clusterPath(c)}/stop?${AKS}`);
      await this.operate(c, 'start', 'POST', `${this.clusterPath(c)}/start?${AKS}`);
    }
  }

  /**
   * FAULTS faults at random moments spread over the first two thirds of the run, one after the other (each waits for
   * the previous one's recovery). A run whose faults fall behind stops injecting at its deadline and reports those it
   * made, rather than running into the hard stop with nothing to show.
   */
  private async faultLoop(): Promise<void> {
    const window = ((this.deadline - Date.now()) * 2) / 3;
    const times = Array.from({ length: FAULTS }, () => random() * window).sort((a, b) => a - b);
    const start = Date.now();
    for (const t of times) {
      await sleep(Math.max(0, start + t - Date.now()));
      if (Date.now() > this.deadline) {
        log(`the deadline passed after ${this.faults.length} of ${FAULTS} faults: no more faults`);
        return;
      }
      await this.inject(pick(FAULT_KINDS));
    }
  }

  private async inject(kind: FaultKind): Promise<void> {
    const at = Date.now();
    let detail = '';
    let recovered: number | undefined | 'api' = 'api';
    const p = this.platform;
    switch (kind) {
      case 'worker-sigkill':
        p.worker?.proc.kill('SIGKILL');
        await sleep(1000);
        await p.restartWorker();
        detail = `worker ${p.worker?.pid} started again`;
        break;
      case 'worker-sigstop':
        p.worker?.proc.kill('SIGSTOP');
        await sleep(3000 + random() * 5000);
        p.worker?.proc.kill('SIGCONT');
        detail = 'worker frozen, then continued';
        break;
      case 'api-sigkill':
        p.api?.proc.kill('SIGKILL');
        await sleep(500);
        await p.restartApi();
        detail = `api ${p.api?.pid} started again`;
        break;
      case 'api-sigstop':
        p.api?.proc.kill('SIGSTOP');
        await sleep(3000);
        p.api?.proc.kill('SIGCONT');
        detail = 'api frozen 3 s, then continued';
        break;
      case 'postgres-restart':
        await p.restartPostgres(1000 + random() * 3000);
        detail = 'postgres stopped (immediate) and started';
        break;
      case 'redis-restart':
        await p.restartRedis(1000 + random() * 3000);
        detail = 'redis killed and started (empty)';
        break;
      case 'docker-away': {
        // The daemon crashes (every request in flight is cut) and is back 2–8 s later, with its containers running.
        const relay = p.dockerRelay!;
        await relay.cut();
        await sleep(2000 + random() * 6000);
        await relay.listen();
        const before = relay.connections;
        const limit = Date.now() + 120_000;
        while (relay.connections === before && Date.now() < limit) await sleep(50);
        recovered = relay.connections > before ? Date.now() - at : undefined;
        detail = 'docker socket cut, then back';
        break;
      }
      case 'node-kill': {
        const nodes = await p.docker.listContainers({ filters: { label: [`${NodeLabels.installation}=${p.installationId}`], status: ['running'] } });
        const candidates = nodes.filter((n) => n.Labels[NodeLabels.role] === undefined);
        if (candidates.length === 0) {
          detail = 'no running node to kill';
          break;
        }
        const victim = pick(candidates);
        await p.docker
          .getContainer(victim.Id)
          .kill()
          .catch(() => undefined);
        const name = victim.Names[0]?.replace(/^\//, '') ?? '';
        recovered = await this.nodeRunningAgain(name, victim.Id, at);
        detail = `killed ${name}`;
        break;
      }
    }
    const record: FaultRecord = { kind, at, detail };
    this.faults.push(record);
    record.recoveryMs = recovered === 'api' ? await this.servingAgain(at) : recovered;
    log(`fault ${this.faults.length}/${FAULTS} ${kind}: ${detail}; recovered after ${record.recoveryMs ?? 'never'} ms`);
  }

  /**
   * ms from `since` until a node of that name runs again: in another container (repaired, or remade by the operation
   * that was waiting for it) or in the same one started again (a cluster start); undefined after 120 s. A pool scaled
   * in meanwhile may not want it back: then gone counts.
   */
  private async nodeRunningAgain(name: string, oldId: string, since: number): Promise<number | undefined> {
    const until = Date.now() + 120_000;
    while (Date.now() < until) {
      const now = await this.platform.docker
        .getContainer(name)
        .inspect()
        .then(
          (c) => c,
          (err: { statusCode?: number }) => (err.statusCode === 404 ? null : undefined),
        );
      if (now === null) return Date.now() - since;
      if (now?.State.Running && (now.Id !== oldId || Date.parse(now.State.StartedAt) > since)) return Date.now() - since;
      await sleep(250);
    }
    return undefined;
  }

  /** ms from `since` until /healthz and a list read both succeed (undefined: not within 2 minutes). */
  private async servingAgain(since: number): Promise<number | undefined> {
    const until = Date.now() + 120_000;
    while (Date.now() < until) {
      const ok = await Promise.all([
        this.http.call('GET', '/healthz').then((r) => r.status === 200),
        this.http.call('GET', `/subscriptions/${this.platform.subscriptionId}/resourcegroups?${RES}`).then((r) => r.status === 200),
      ]).then(
        (both) => both.every(Boolean),
        () => false,
      );
      if (ok) return Date.now() - since;
      await sleep(100);
    }
    return undefined;
  }

  /** No operation in progress, and every cluster made whole again by a plain PUT (nothing left broken for good). */
  private async settle(): Promise<void> {
    log('settling: waiting for every operation to end');
    const until = Date.now() + 5 * 60_000;
    while (Date.now() < until) {
      const r = await this.query<{ n: string }>(`SELECT count(*) AS n FROM operations WHERE status = 'InProgress'`).catch(() => undefined);
      if (r && Number(r[0].n) === 0) break;
      await sleep(1000);
    }
    log('settling: one reconciling PUT per cluster (a broken cluster would fail it)');
    await Promise.all(
      this.clusters.map(async (c) => {
        const current = await this.call<{ properties: { agentPoolProfiles: { count: number }[]; powerState: { code: string } } }>(
          'GET',
          `${this.clusterPath(c)}?${AKS}`,
        );
        if (current.body.properties.powerState.code !== 'Running') await this.operate(c, 'start (settle)', 'POST', `${this.clusterPath(c)}/start?${AKS}`);
        await this.operate(
          c,
          'reconcile (settle)',
          'PUT',
          `${this.clusterPath(c)}?${AKS}`,
          this.clusterBody(current.body.properties.agentPoolProfiles[0].count),
        );
      }),
    );
    // Auto-repair of nodes killed last needs a few monitor passes.
    await sleep(15_000);
  }

  /** A query on a fresh connection (a Postgres restart cut any older one). */
  private async query<T extends object>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: this.platform.databaseUrl });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async check(): Promise<void> {
    const p = this.platform;
    const add = (name: string, ok: boolean, detail: string): void => void this.invariants.push({ name, ok, detail });

    const inProgress = await this.query<{ id: string }>(`SELECT id FROM operations WHERE status = 'InProgress'`);
    add('every operation terminal', inProgress.length === 0, `${inProgress.length} in progress`);
    let mismatched = 0;
    for (const op of this.operations.filter((o) => o.statusUrl)) {
      const id = /operations\/([0-9a-f-]{36})/.exec(op.statusUrl ?? '')?.[1];
      const row = await this.query<{ status: string }>('SELECT status FROM operations WHERE id = $1', [id]);
      if (row[0]?.status !== op.status) mismatched += 1;
    }
    add('status URL agrees with the database', mismatched === 0, `${mismatched} differ`);
    add('no operation stuck', !this.operations.some((o) => o.status === 'Stuck' || o.status === 'NeverAccepted'), '');
    const settleOk = this.operations.filter((o) => o.what.endsWith('(settle)')).every((o) => o.status === 'Succeeded');
    add('no cluster left broken (settling PUT Succeeded)', settleOk, '');

    const containers = await p.docker.listContainers({ all: true, filters: { label: [`${NodeLabels.installation}=${p.installationId}`] } });
    const pools = await this.query<{ cluster: string; cluster_id: string; count: number; state: string; power: string; cpower: string }>(
      `SELECT c.name AS cluster, c.id AS cluster_id, p.count, p.provisioning_state AS state, p.power_state AS power, c.power_state AS cpower
         FROM agent_pools p JOIN managed_clusters c ON c.id = p.cluster_id`,
    );
    const wrong: string[] = [];
    for (const pool of pools.filter((r) => r.state === 'Succeeded' && r.power === 'Running' && r.cpower === 'Running')) {
      const nodes = containers.filter((c) => c.Labels[NodeLabels.clusterId] === pool.cluster_id && c.Labels[NodeLabels.role] === undefined);
      const running = nodes.filter((n) => n.State === 'running').length;
      if (running !== pool.count || nodes.length !== pool.count) wrong.push(`${pool.cluster}: ${running} running of ${nodes.length}, count ${pool.count}`);
    }
    add('every Succeeded pool has exactly its count of running nodes', wrong.length === 0, wrong.join('; '));
    const planes = await this.query<{ name: string; id: string }>(`SELECT name, id FROM managed_clusters WHERE power_state = 'Running'`);
    const down = planes.filter(
      (c) => !containers.some((k) => k.Labels[NodeLabels.clusterId] === c.id && k.Labels[NodeLabels.role] !== undefined && k.State === 'running'),
    );
    add("every running cluster's control plane runs", down.length === 0, down.map((c) => c.name).join(', '));
    const names = containers.map((c) => c.Names[0]);
    add('no duplicate node names', new Set(names).size === names.length, '');

    const running = new Set(planes.map((c) => c.name));
    const waits = await Promise.all(
      this.clusters.map(async (c) => ({ c, ms: this.workloads.has(c) && running.has(c) ? await this.workloadReadyMs(c) : undefined })),
    );
    const missing = this.clusters.filter((c) => !this.workloads.has(c));
    const notReady = waits.filter((w) => this.workloads.has(w.c) && w.ms === undefined).map((w) => w.c);
    add(
      `every Deployment's replicas Ready again (${WORKLOAD_REPLICAS} per cluster)`,
      missing.length === 0 && notReady.length === 0,
      [
        ...waits.filter((w) => w.ms !== undefined).map((w) => `${w.c} after ${w.ms} ms`),
        ...notReady.map((c) => `${c} not within 180 s`),
        ...missing.map((c) => `${c} never deployed`),
      ].join(', '),
    );

    log('deleting the clusters');
    await Promise.all(this.clusters.map((c) => this.operate(c, 'delete', 'DELETE', `${this.clusterPath(c)}?${AKS}`)));
    // Containers of a cluster carry its id; the installation's registry (no cluster id) outlives every cluster.
    const left = await p.docker.listContainers({
      all: true,
      filters: { label: [`${NodeLabels.installation}=${p.installationId}`, NodeLabels.clusterId] },
    });
    const nets = await p.docker.listNetworks({ filters: { label: [`${NodeLabels.installation}=${p.installationId}`] } });
    add('no container or network of a deleted cluster', left.length === 0 && nets.length === 0, `${left.length} containers, ${nets.length} networks`);
    const health = await this.http.call('GET', '/healthz').catch(() => ({ status: 0 }));
    add('the API healthy', health.status === 200, `HTTP ${health.status}`);
  }

  report(): number {
    console.log(
      `\nchaos run: seed ${SEED}, ${this.faults.length} of ${FAULTS} faults injected, ${this.operations.length} operations ` +
        `(at most ${OPERATIONS}) on ${CLUSTERS} clusters, ${MINUTES} min budget\n`,
    );
    console.log(
      'faults by kind          count  recovery ms (mean / max): API serving again; node-kill: node running again; docker-away: platform talking to Docker again',
    );
    for (const kind of FAULT_KINDS) {
      const of = this.faults.filter((f) => f.kind === kind);
      if (of.length === 0) continue;
      const ms = of.map((f) => f.recoveryMs).filter((m): m is number => m !== undefined);
      const mean = ms.length > 0 ? Math.round(ms.reduce((a, b) => a + b, 0) / ms.length) : NaN;
      const never = of.length - ms.length;
      console.log(
        `  ${kind.padEnd(20)} ${String(of.length).padStart(5)}  ${String(mean).padStart(8)} / ${ms.length > 0 ? Math.max(...ms) : 'none'}` +
          (never > 0 ? `  (${never} not within 120 s)` : ''),
      );
    }
    console.log('\noperations by end state');
    const states = new Map<string, number>();
    for (const o of this.operations) states.set(o.status, (states.get(o.status) ?? 0) + 1);
    for (const [state, n] of states) console.log(`  ${state.padEnd(20)} ${String(n).padStart(5)}`);
    const failed = this.operations.filter((o) => o.status !== 'Succeeded');
    for (const o of failed) console.log(`    ${o.cluster} ${o.what}: ${o.status}${o.message ? ` (${o.message})` : ''}`);
    console.log('\ninvariants');
    for (const i of this.invariants) console.log(`  ${i.ok ? 'ok  ' : 'FAIL'} ${i.name}${i.detail ? ` (${i.detail})` : ''}`);
    return this.invariants.every((i) => i.ok) ? 0 : 1;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
