import { setTimeout as sleep } from 'node:timers/promises';
import { OperationKind } from '@cerulean/domain';
import autocannon from 'autocannon';
import { benchToken } from './https-client';
import { pacedPollers, pacedRequests } from './pollers';
import { BareFastify, BENCH_VM_SIZE, DirectDocker, DirectFleet, bullmqDispatch, pgRedisRoundTrips } from './floors';
import { containerMemory } from './container-memory';
import { BenchPlatform } from './platform';
import { ScenarioResult, settle, TargetResult } from './report';
import { ratio, summarize, Summary } from './stats';

const AKS_API = 'api-version=2026-06-01';
const RES_API = 'api-version=2024-11-01';
const RG = 'bench-rg';
const POOL = 'nodepool1';

export interface BenchPlan {
  provisioningSizes: number[];
  provisioningIterations: number;
  scaleIterations: number;
  scaleFrom: number;
  scaleTo: number;
  /** Seconds per autocannon run. */
  loadSeconds: number;
  readConcurrency: number[];
  readRate: number;
  pollers: number;
  tagWrites: number;
  poolWrites: number;
  floorSamples: number;
}

export const FULL_PLAN: BenchPlan = {
  provisioningSizes: [1, 3, 10],
  provisioningIterations: 3,
  scaleIterations: 2,
  scaleFrom: 3,
  scaleTo: 30,
  loadSeconds: 5,
  readConcurrency: [1, 50, 200],
  readRate: 200,
  pollers: 500,
  tagWrites: 30,
  poolWrites: 10,
  floorSamples: 100,
};

/** One iteration of every scenario: checks that the bench runs end to end, not how fast. */
export const SMOKE_PLAN: BenchPlan = {
  ...FULL_PLAN,
  provisioningIterations: 1,
  scaleIterations: 1,
  loadSeconds: 1,
  tagWrites: 1,
  poolWrites: 1,
  floorSamples: 1,
};

const clusterPath = (sub: string, name: string): string =>
  `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${name}`;

const clusterBody = (count: number, tags: Record<string, string> = {}) => ({
  location: 'eastus',
  tags,
  properties: {
    dnsPrefix: 'bench',
    agentPoolProfiles: [{ name: POOL, count, vmSize: BENCH_VM_SIZE, mode: 'System', osType: 'Linux' }],
  },
});

const operationIdOf = (headers: Record<string, string | string[] | undefined>): string => {
  const url = String(headers['azure-asyncoperation'] ?? '');
  const id = /\/operations\/([^/?]+)/.exec(url)?.[1];
  if (!id) throw new Error(`no Azure-AsyncOperation header with an operation id (${url})`);
  return id;
};

const medianOf = (s: Summary | { value: number }): number => ('value' in s ? s.value : s.median);

/** Runs every scenario of the plan against a platform that is up; collects results and targets. */
export class Scenarios {
  readonly results: ScenarioResult[] = [];
  readonly targets: TargetResult[] = [];
  /** What went wrong outside a measurement (e.g. an unmeasured clean-up step); also in the JSON. */
  readonly warnings: string[] = [];
  private readonly direct: DirectDocker;
  /** When the worker logged "start <kind> <operation id>" (arrival of the line on its stdout). */
  private readonly workerStarts = new Map<string, number>();
  private readonly dispatchSamples: number[] = [];

  constructor(
    private readonly p: BenchPlatform,
    private readonly plan: BenchPlan,
    private readonly log: (msg: string) => void,
  ) {
    this.direct = new DirectDocker(p);
    p.worker?.onLine((line, at) => {
      // eslint-disable-next-line no-control-regex -- strips ANSI colour codes (ESC)
      const m = /\bstart \S+ ([0-9a-f-]{36})\b/.exec(line.replace(/\x1b\[[0-9;]*m/g, ''));
      if (m) this.workerStarts.set(m[1], at);
    });
  }

  private get http() {
    if (!this.p.http) throw new Error('bench platform is not up');
    return this.p.http;
  }

  private get sub(): string {
    return this.p.subscriptionId;
  }

  /** Records a result; its ratio is Cerulean's median over the floor's (for req/s: Cerulean's share of the floor). */
  private add(r: Omit<ScenarioResult, 'ratio'>): ScenarioResult {
    const result: ScenarioResult = { ...r };
    const rt = r.floor ? ratio(medianOf(r.cerulean), medianOf(r.floor)) : undefined;
    if (rt !== undefined) result.ratio = rt;
    this.results.push(result);
    this.log(`  ${r.scenario}: ${JSON.stringify({ cerulean: r.cerulean, floor: r.floor, ratio: result.ratio })}`);
    return result;
  }

  /** Before a latency scenario: the machine quiet again after what ran before it (see `settle`). */
  private async settle(): Promise<void> {
    const { ms, quiet } = await settle();
    this.log(quiet ? `  machine quiet after ${ms} ms` : `  WARNING: the machine was still busy after ${ms} ms; measuring anyway`);
  }

  private target(id: string, target: string, actual: number | undefined, unit: string, pass: (x: number) => boolean): void {
    if (actual === undefined) {
      this.targets.push({ id, target, actual: 'not measured', pass: false });
      return;
    }
    this.targets.push({ id, target, actual: `${Math.round(actual * 100) / 100}${unit}`, pass: pass(actual) });
  }

  /** Waits until the operation row is terminal (read from Postgres, every 10 ms); its end time from the worker. */
  private async waitOperation(operationId: string, timeoutMs = 180_000): Promise<number> {
    const db = this.p.db;
    if (!db) throw new Error('bench platform is not up');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await db.query<{ status: string; end_ms: string | null; error: unknown }>(
        'SELECT status, (extract(epoch FROM end_time) * 1000)::text AS end_ms, error FROM operations WHERE id = $1',
        [operationId],
      );
      const row = rows[0];
      if (row && row.status !== 'InProgress') {
        if (row.status !== 'Succeeded') throw new Error(`operation ${operationId} ended ${row.status}: ${JSON.stringify(row.error)}`);
        return Number(row.end_ms);
      }
      if (Date.now() > deadline) throw new Error(`operation ${operationId} still ${row?.status ?? 'missing'} after ${timeoutMs} ms`);
      await sleep(10);
    }
  }

  /** Sends a mutating call and times it to its operation's Succeeded (wall clock, ms). */
  private async timedOperation(
    method: string,
    path: string,
    body: unknown,
    expected: number[],
    timeoutMs = 180_000,
  ): Promise<{ ms: number; acceptMs: number; operationId: string }> {
    const t0 = Date.now();
    const r = await this.http.expect(expected, method, path, body);
    const operationId = operationIdOf(r.headers);
    const end = await this.waitOperation(operationId, timeoutMs);
    await this.recordDispatch(operationId);
    return { ms: end - t0, acceptMs: r.ms, operationId };
  }

  /** Operation row committed (Postgres commit timestamp) → the worker logs the start of its first step. */
  private async recordDispatch(operationId: string): Promise<void> {
    const db = this.p.db;
    if (!db) return;
    const { rows } = await db.query<{ commit_ms: string | null }>(
      'SELECT (extract(epoch FROM pg_xact_commit_timestamp(tx)) * 1000)::text AS commit_ms FROM bench_operation_tx WHERE operation_id = $1',
      [operationId],
    );
    // The line may trail the operation's end by a moment when the operation is very short.
    for (let i = 0; i < 50 && !this.workerStarts.has(operationId); i++) await sleep(10);
    const started = this.workerStarts.get(operationId);
    const committed = rows[0]?.commit_ms ? Number(rows[0].commit_ms) : undefined;
    if (started !== undefined && committed !== undefined) this.dispatchSamples.push(started - committed);
  }

  async prepare(): Promise<void> {
    await this.http.expect([200, 201], 'PUT', `/subscriptions/${this.sub}/resourceGroups/${RG}?${RES_API}`, { location: 'eastus' });
  }

  /** Cluster PUT → Succeeded for 1/3/10 nodes, then its DELETE; floors: direct containers, direct removal. */
  async provisioning(): Promise<void> {
    const { provisioningSizes: sizes, provisioningIterations: iterations } = this.plan;
    const put: Record<number, number[]> = {};
    const del: Record<number, number[]> = {};
    const floorUp: Record<number, number[]> = {};
    const floorDown: Record<number, number[]> = {};
    for (const n of sizes) {
      put[n] = [];
      del[n] = [];
      floorUp[n] = [];
      floorDown[n] = [];
      for (let i = 0; i < iterations; i++) {
        const name = `bench-p${n}-${i}`;
        const created = await this.timedOperation('PUT', `${clusterPath(this.sub, name)}?${AKS_API}`, clusterBody(n), [201]);
        put[n].push(created.ms);
        await sleep(200);
        const floor = await this.direct.provision(n);
        floorUp[n].push(floor.ms);
        await sleep(200);
        const deleted = await this.timedOperation('DELETE', `${clusterPath(this.sub, name)}?${AKS_API}`, undefined, [202]);
        del[n].push(deleted.ms);
        floorDown[n].push(await this.direct.remove(floor.fleet, floor.fleet.containerIds, true));
        this.log(`  provisioning ${n} node(s) #${i + 1}: Cerulean ${created.ms} ms, floor ${Math.round(floor.ms)} ms; delete ${deleted.ms} ms`);
      }
    }
    for (const n of sizes) {
      const r = this.add({
        id: `provision-${n}`,
        scenario: `node provisioning, ${n} node${n > 1 ? 's' : ''}`,
        measures: "cluster PUT → operation Succeeded (the control plane up, every node Ready in the cluster's Kubernetes API)",
        floorMeasures: `${n} containers of the node image created and started directly (dockerode, parallel) until each agent reports Ready (its container runtime up)`,
        unit: 'ms',
        cerulean: summarize(put[n]),
        floor: summarize(floorUp[n]),
      });
      if (n >= 3) this.target(`provision-${n}`, `node provisioning ${n} nodes ≤ 1.3× floor`, r.ratio, '×', (x) => x <= 1.3);
    }
    for (const n of sizes) {
      this.add({
        id: `delete-${n}`,
        scenario: `cluster delete, ${n} node${n > 1 ? 's' : ''}`,
        measures: 'cluster DELETE → operation Succeeded',
        floorMeasures: `direct removal of ${n} containers and their network`,
        unit: 'ms',
        cerulean: summarize(del[n]),
        floor: summarize(floorDown[n]),
      });
    }
  }

  /** Pool PUT count 3 → 30 → 3; floors: 27 containers direct, then their direct removal. */
  async scale(): Promise<void> {
    const { scaleFrom: from, scaleTo: to, scaleIterations: iterations } = this.plan;
    const out: number[] = [];
    const inn: number[] = [];
    const floorOut: number[] = [];
    const floorIn: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const name = `bench-scale-${i}`;
      const poolPath = `${clusterPath(this.sub, name)}/agentPools/${POOL}?${AKS_API}`;
      await this.timedOperation('PUT', `${clusterPath(this.sub, name)}?${AKS_API}`, clusterBody(from), [201]);
      const base = await this.direct.provision(from);
      await sleep(300);
      const o = await this.timedOperation('PUT', poolPath, { properties: { count: to, vmSize: BENCH_VM_SIZE, mode: 'System' } }, [200, 201]);
      out.push(o.ms);
      await sleep(300);
      const f = await this.direct.provision(to - from, base.fleet);
      floorOut.push(f.ms);
      await sleep(300);
      const s = await this.timedOperation('PUT', poolPath, { properties: { count: from, vmSize: BENCH_VM_SIZE, mode: 'System' } }, [200, 201]);
      inn.push(s.ms);
      const added = f.fleet.containerIds.slice(from);
      floorIn.push(await this.direct.remove(f.fleet, added, false));
      await this.direct.remove(f.fleet, f.fleet.containerIds.slice(0, from), true);
      // Not measured (cluster delete is, above): a failure here is reported, not fatal to the run. Bounded: Docker
      // 20.10 sometimes keeps a stale endpoint after many parallel removals (moby#42119), and the delete then
      // retries for minutes ("has active endpoints"); the final clean-up removes what is left.
      await this.timedOperation('DELETE', `${clusterPath(this.sub, name)}?${AKS_API}`, undefined, [202], 30_000).catch((err: unknown) => {
        this.warnings.push(`clean-up delete of ${name} after the scale scenario failed: ${err instanceof Error ? err.message : String(err)}`);
        this.log(`  WARNING: ${this.warnings.at(-1)}`);
      });
      this.log(`  scale ${from}→${to}→${from} #${i + 1}: out ${o.ms} ms (floor ${Math.round(f.ms)}), in ${s.ms} ms (floor ${Math.round(floorIn.at(-1) ?? 0)})`);
    }
    const r = this.add({
      id: 'scale-out',
      scenario: `scale-out ${from} → ${to} nodes`,
      measures: 'agent pool PUT → operation Succeeded',
      floorMeasures: `${to - from} containers direct, as for provisioning`,
      unit: 'ms',
      cerulean: summarize(out),
      floor: summarize(floorOut),
    });
    this.target('scale-out', `scale-out ${from}→${to} ≤ 1.3× floor`, r.ratio, '×', (x) => x <= 1.3);
    this.add({
      id: 'scale-in',
      scenario: `scale-in ${to} → ${from} nodes`,
      measures: 'agent pool PUT → operation Succeeded',
      floorMeasures: `direct removal of ${to - from} containers`,
      unit: 'ms',
      cerulean: summarize(inn),
      floor: summarize(floorIn),
    });
  }

  /** The long-lived cluster the read, write, polling and memory scenarios use. */
  async createSteadyCluster(): Promise<{ name: string; createOperationId: string }> {
    const name = 'bench-steady';
    const r = await this.timedOperation('PUT', `${clusterPath(this.sub, name)}?${AKS_API}`, clusterBody(1), [201]);
    return { name, createOperationId: r.operationId };
  }

  private async cannon(url: string, connections: number, extra: Partial<autocannon.Options> = {}): Promise<autocannon.Result> {
    const result = await autocannon({
      url,
      connections,
      duration: this.plan.loadSeconds,
      headers: { authorization: `Bearer ${benchToken()}` },
      ...extra,
    });
    // autocannon stops with a request in flight on every connection: let the server drain them, so the next
    // run (often against the other server) does not pay for this one's backlog.
    await sleep(Math.min(3000, 500 + connections * 5));
    const bad = result.non2xx + result.errors + result.timeouts;
    if (bad > 0) throw new Error(`autocannon ${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
    return result;
  }

  /** GET managedCluster at each concurrency and at a fixed rate; floor: bare Fastify with a body of the same size. */
  async readPath(clusterName: string): Promise<void> {
    await this.settle();
    const path = `${clusterPath(this.sub, clusterName)}?${AKS_API}`;
    const sample = await this.http.expect([200], 'GET', path);
    const bytes = Buffer.byteLength(sample.text);
    const floor = new BareFastify(this.p);
    await floor.start(bytes);
    try {
      for (const c of this.plan.readConcurrency) {
        const cer = await this.cannon(`${this.p.apiUrl}${path}`, c);
        const flo = await this.cannon(`${floor.url}${path}`, c);
        const r = this.add({
          id: `read-c${c}`,
          scenario: `read path GET managedCluster, concurrency ${c}`,
          measures: `req/s (autocannon, ${this.plan.loadSeconds} s, ${bytes}-byte body)`,
          floorMeasures: 'bare Fastify (HTTPS, same certificate) answering a fixed JSON of the same size',
          unit: 'req/s',
          cerulean: { value: Math.round(cer.requests.average) },
          floor: { value: Math.round(flo.requests.average) },
          extra: {
            ceruleanLatencyP50Ms: cer.latency.p50,
            ceruleanLatencyP99Ms: cer.latency.p99,
            floorLatencyP50Ms: flo.latency.p50,
            floorLatencyP99Ms: flo.latency.p99,
          },
        });
        if (c === 50)
          this.target(
            'read-c50',
            'read path ≥ 40 % of bare Fastify req/s at concurrency 50',
            r.ratio === undefined ? undefined : r.ratio * 100,
            ' %',
            (x) => x >= 40,
          );
      }
      // Latency at a rate: an open-loop client paced at `rate` (see pacedRequests). autocannon's `overallRate`, used
      // before, sends bursts; its p99 is kept beside it for comparison with earlier runs.
      const rate = this.plan.readRate;
      const seconds = Math.max(this.plan.loadSeconds, 3);
      const cer = summarize(await pacedRequests(this.p.apiUrl, path, rate, 10, seconds));
      const flo = summarize(await pacedRequests(floor.url, path, rate, 10, seconds));
      const rateOpts = { overallRate: rate };
      const cerBurst = await this.cannon(`${this.p.apiUrl}${path}`, 10, rateOpts);
      const floBurst = await this.cannon(`${floor.url}${path}`, 10, rateOpts);
      const r = this.add({
        id: `read-rate${rate}`,
        scenario: `read path GET managedCluster at ${rate} req/s, latency`,
        measures: `latency of requests sent at a steady ${rate} req/s (one every ${1000 / rate} ms, open loop) over up to 10 keep-alive connections, ${seconds} s`,
        floorMeasures: 'bare Fastify, same client',
        unit: 'ms',
        cerulean: cer,
        floor: flo,
        extra: { autocannonBurstCeruleanP99Ms: cerBurst.latency.p99, autocannonBurstFloorP99Ms: floBurst.latency.p99 },
      });
      const p99 = 'p99' in r.cerulean ? r.cerulean.p99 : undefined;
      this.target(`read-rate${rate}`, `read path p99 ≤ 10 ms at ${rate} req/s`, p99, ' ms', (x) => x <= 10);
    } finally {
      await floor.stop();
    }
  }

  /** PUT tags and PUT pool count: time to the answer; floor: Postgres INSERT + Redis LPUSH. Also feeds queue dispatch. */
  async writes(clusterName: string): Promise<void> {
    const tags: number[] = [];
    for (let i = 0; i < this.plan.tagWrites; i++) {
      const r = await this.timedOperation('PUT', `${clusterPath(this.sub, clusterName)}?${AKS_API}`, clusterBody(1, { run: String(i) }), [200, 201]);
      tags.push(r.acceptMs);
    }
    const pool: number[] = [];
    const poolPath = `${clusterPath(this.sub, clusterName)}/agentPools/${POOL}?${AKS_API}`;
    for (let i = 0; i < this.plan.poolWrites; i++) {
      const count = i % 2 === 0 ? 2 : 1;
      const r = await this.timedOperation('PUT', poolPath, { properties: { count, vmSize: BENCH_VM_SIZE, mode: 'System' } }, [200, 201]);
      pool.push(r.acceptMs);
    }
    if (this.plan.poolWrites % 2 === 1) {
      await this.timedOperation('PUT', poolPath, { properties: { count: 1, vmSize: BENCH_VM_SIZE, mode: 'System' } }, [200, 201]);
    }
    const floor = summarize(await pgRedisRoundTrips(this.p, this.plan.floorSamples, 2048));
    this.add({
      id: 'write-tags',
      scenario: 'write acceptance, PUT managedCluster (tags)',
      measures: 'time to the 200/201 answer (client side, keep-alive HTTPS)',
      floorMeasures: 'Postgres INSERT (own commit) + Redis LPUSH round trip',
      unit: 'ms',
      cerulean: summarize(tags),
      floor,
    });
    this.add({
      id: 'write-pool-count',
      scenario: 'write acceptance, PUT agentPool (count)',
      measures: 'time to the 200/201 answer (client side, keep-alive HTTPS)',
      floorMeasures: 'Postgres INSERT (own commit) + Redis LPUSH round trip',
      unit: 'ms',
      cerulean: summarize(pool),
      floor,
    });
  }

  /** Every operation the bench ran so far: commit → worker start; floor: BullMQ add → worker receives. */
  async dispatch(): Promise<void> {
    if (this.dispatchSamples.length === 0) throw new Error('no queue dispatch sample was recorded (worker "start" lines missing?)');
    const floor = summarize(await bullmqDispatch(this.p, this.plan.floorSamples));
    const r = this.add({
      id: 'queue-dispatch',
      scenario: 'queue dispatch',
      measures: 'operation row committed (Postgres commit timestamp) → worker starts its first step, every operation of this run',
      floorMeasures: 'BullMQ add → worker receives an empty job',
      unit: 'ms',
      cerulean: summarize(this.dispatchSamples),
      floor,
    });
    this.target('queue-dispatch', 'queue dispatch p50 ≤ 25 ms', medianOf(r.cerulean), ' ms', (x) => x <= 25);
  }

  /** 500 pollers on a running and a finished operation; floor: bare Fastify with a body of the same size. */
  async polling(clusterName: string, finishedOperationId: string): Promise<void> {
    await this.settle();
    const post = await this.http.expect([202], 'POST', `${clusterPath(this.sub, clusterName)}/runCommand?${AKS_API}`, {
      command: 'sleep 120',
      context: '',
      clusterToken: '',
    });
    const location = String(post.headers.location ?? '');
    const db = this.p.db;
    if (!db) throw new Error('bench platform is not up');
    const { rows } = await db.query<{ id: string }>("SELECT id FROM operations WHERE kind = $1 AND status = 'InProgress' ORDER BY start_time DESC LIMIT 1", [
      OperationKind.ClusterRunCommand,
    ]);
    if (!rows[0]) throw new Error(`runCommand left no running operation (${location})`);
    const statusPath = (id: string): string => `/subscriptions/${this.sub}/providers/Microsoft.ContainerService/locations/eastus/operations/${id}?${AKS_API}`;
    const running = await this.http.expect<{ status: string }>([200], 'GET', statusPath(rows[0].id));
    if (running.body.status !== 'InProgress') throw new Error(`the polled operation is ${running.body.status}, not InProgress`);
    const finished = await this.http.expect<{ status: string }>([200], 'GET', statusPath(finishedOperationId));
    const bytes = Math.round((Buffer.byteLength(running.text) + Buffer.byteLength(finished.text)) / 2);
    const requests = [
      { method: 'GET' as const, path: statusPath(rows[0].id) },
      { method: 'GET' as const, path: statusPath(finishedOperationId) },
    ];
    const floor = new BareFastify(this.p);
    await floor.start(bytes);
    try {
      const n = this.plan.pollers;
      // Closed loop (every poller asks again as soon as it is answered): the throughput ceiling.
      const cer = await this.cannon(this.p.apiUrl, n, { requests });
      const flo = await this.cannon(floor.url, n, { requests });
      this.add({
        id: 'status-polling-throughput',
        scenario: `operation status polling, ${n} pollers flat out, req/s`,
        measures: `req/s, ${n} connections asking back to back, alternating a running and a finished operation (autocannon)`,
        floorMeasures: 'bare Fastify, same connections, fixed JSON of the same size',
        unit: 'req/s',
        cerulean: { value: Math.round(cer.requests.average) },
        floor: { value: Math.round(flo.requests.average) },
        extra: { ceruleanP50Ms: cer.latency.p50, ceruleanP99Ms: cer.latency.p99, floorP50Ms: flo.latency.p50, floorP99Ms: flo.latency.p99 },
      });
      // Pollers as clients run them: each asks, then waits Retry-After (1 s by default) before asking again.
      const paths = requests.map((r) => r.path);
      const seconds = Math.max(this.plan.loadSeconds, 3);
      const cerPaced = summarize(await pacedPollers(this.p.apiUrl, paths, n, 1000, seconds));
      const floPaced = summarize(await pacedPollers(floor.url, paths, n, 1000, seconds));
      const r = this.add({
        id: 'status-polling',
        scenario: `operation status polling, ${n} pollers at Retry-After (1 s), latency`,
        measures: `latency of ${n} keep-alive pollers each asking, then waiting 1 s (the default Retry-After), running + finished operation`,
        floorMeasures: 'bare Fastify, same pollers, fixed JSON of the same size',
        unit: 'ms',
        cerulean: cerPaced,
        floor: floPaced,
      });
      const p99 = 'p99' in r.cerulean ? r.cerulean.p99 : undefined;
      this.target('status-polling', `status polling p99 ≤ 20 ms with ${n} pollers`, p99, ' ms', (x) => x <= 20);
    } finally {
      await floor.stop();
      await this.http.call('POST', `${clusterPath(this.sub, clusterName)}/abort?${AKS_API}`).catch(() => undefined);
    }
  }

  /** RSS of the API and the worker (from /proc), and one idle node container's memory (Docker stats, one shot). */
  async memory(clusterName: string, idle: { api: number; worker: number }): Promise<void> {
    const api = this.p.api?.rssMiB() ?? NaN;
    const worker = this.p.worker?.rssMiB() ?? NaN;
    this.add({
      id: 'memory-api',
      scenario: 'memory, API process RSS',
      measures: 'VmRSS after the run (idle at start in extra)',
      unit: 'MiB',
      cerulean: { value: api },
      extra: { idleAtStartMiB: idle.api },
    });
    this.add({
      id: 'memory-worker',
      scenario: 'memory, worker process RSS',
      measures: 'VmRSS after the run (idle at start in extra)',
      unit: 'MiB',
      cerulean: { value: worker },
      extra: { idleAtStartMiB: idle.worker },
    });
    const list = await this.p.nodeContainers(clusterName, POOL);
    if (list.length === 0) throw new Error(`no node container of ${clusterName} to measure`);
    const m = await containerMemory(this.p.docker, list[0].Id);
    this.add({
      id: 'memory-node',
      scenario: 'memory, one idle node container',
      measures: 'Docker stats one-shot: usage − inactive_file (as docker stats shows)',
      unit: 'MiB',
      cerulean: { value: m.mib },
      extra: { usageMiB: m.usageMiB, anonMiB: m.anonMiB, fileMiB: m.fileMiB },
    });
    this.target('memory-node', 'idle node container (containerd and the kubelet inside) ≤ 60 MiB', m.mib, ' MiB', (x) => x <= 60);
  }
}

export type { DirectFleet };
