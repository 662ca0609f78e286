import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCertificateAuthority, issueCertificate } from '@cerulean/pki';
import { Informer } from '../../apps/kube-controller-manager/src/client/informer';
import { KubeClient } from '../../apps/kube-controller-manager/src/client/kube-client';
import { freePort, startPrivateEtcd } from '../../test-support/private-services';
import { waitUntil } from '../../test-support/wait';
import type { ScenarioResult, TargetResult } from './report';
import { summarize } from './stats';

/**
 * The cluster's own Kubernetes control plane, measured the way upstream's scalability SLOs are stated: a private
 * etcd and the API server with its in-process controllers and scheduler, as a control-plane container runs them
 * (dist's main.js, KUBE_CONTROLLERS_IN_PROCESS=all), driven over HTTPS with the cluster CA's admin certificate.
 * No kubelet: pods are bound, not run.
 */
export interface KubePlan {
  replicas: number;
  nodes: number;
  /** Requests per verb in the latency runs, spread over `clients` concurrent clients. */
  requests: number;
  clients: number;
  watchSamples: number;
}

export const KUBE_FULL: KubePlan = { replicas: 1000, nodes: 10, requests: 3000, clients: 50, watchSamples: 200 };
export const KUBE_SMOKE: KubePlan = { replicas: 30, nodes: 2, requests: 50, clients: 5, watchSamples: 5 };

const REPO = resolve(__dirname, '../../..');

function rssMiB(pid: number | undefined): number {
  if (!pid) return NaN;
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

export class KubeScenarios {
  readonly results: ScenarioResult[] = [];
  readonly targets: TargetResult[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'cerulean-kube-bench-'));
  private readonly children: ChildProcess[] = [];
  private etcd?: { endpoint: string; pid: number; stop: () => void };
  private apiserver?: ChildProcess;
  private renewals?: NodeJS.Timeout;
  private client?: KubeClient;
  /** The load generator's connection settings: the API server's address and the admin certificate. */
  private load?: { server: string; tls: { ca: string; cert: string; key: string } };

  constructor(
    private readonly plan: KubePlan,
    private readonly log: (msg: string) => void,
  ) {}

  async run(): Promise<void> {
    try {
      await this.up();
      const idle = { apiserver: rssMiB(this.apiserver?.pid), etcd: rssMiB(this.etcd?.pid) };
      await this.createToBound();
      await this.latencies();
      await this.watchLatency();
      const loaded = { apiserver: rssMiB(this.apiserver?.pid), etcd: rssMiB(this.etcd?.pid) };
      this.add({
        id: 'kube-memory',
        scenario: `control plane memory, idle and with ${this.plan.replicas} pods`,
        measures: 'RSS of the API server process (with its controllers and scheduler) and etcd, with the pods (MiB)',
        unit: 'MiB',
        cerulean: { value: loaded.apiserver + loaded.etcd },
        extra: { apiserverIdle: idle.apiserver, etcdIdle: idle.etcd, apiserverLoaded: loaded.apiserver, etcdLoaded: loaded.etcd },
      });
    } finally {
      await this.down();
    }
  }

  private add(r: ScenarioResult): void {
    this.results.push(r);
    this.log(`  ${r.scenario}: ${JSON.stringify({ cerulean: r.cerulean, extra: r.extra })}`);
  }

  private async up(): Promise<void> {
    this.etcd = await startPrivateEtcd(this.dir);
    const ca = await createCertificateAuthority('kubernetes', 2);
    const serving = await issueCertificate(ca, {
      commonName: 'kube-apiserver',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
      validDays: 2,
    });
    const admin = await issueCertificate(ca, { commonName: 'bench-admin', organization: 'system:masters', usage: 'client', validDays: 2 });
    const file = (name: string, text: string) => {
      const path = join(this.dir, name);
      writeFileSync(path, text, { mode: 0o600 });
      return path;
    };
    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    this.apiserver = this.spawn('kube-apiserver', 'dist/apps/kube-apiserver/src/main.js', {
      KUBE_ETCD_ENDPOINTS: this.etcd.endpoint,
      KUBE_BIND_ADDRESS: '127.0.0.1',
      KUBE_SECURE_PORT: String(port),
      KUBE_TLS_CERT_FILE: file('serving.crt', serving.certPem),
      KUBE_TLS_KEY_FILE: file('serving.key', serving.keyPem),
      KUBE_CLIENT_CA_FILE: file('ca.crt', ca.certPem),
      KUBE_VERSION: '1.33.2',
      KUBE_CLUSTER_NAME: 'bench',
      KUBE_CONTROLLERS_IN_PROCESS: 'all',
    });
    this.load = { server, tls: { ca: ca.certPem, cert: admin.certPem, key: admin.keyPem } };
    this.client = new KubeClient({ server, ...this.load.tls, userAgent: 'cerulean-bench' });
    for (let i = 0; ; i++) {
      try {
        await this.client.get('/version');
        break;
      } catch (err) {
        if (i > 300) throw new Error('the API server did not become ready', { cause: err });
        await sleep(100);
      }
    }
    await this.hollowNodes();
    await sleep(1000); // the in-process controllers list and start watching
    // Node lifecycle takes off the not-ready taint every new Node is created with once it sees the node Ready.
    await waitUntil(
      'the hollow nodes to lose their not-ready taint',
      async () =>
        (await this.client!.list<{ spec?: { taints?: unknown[] } }>('/api/v1/nodes')).items.every((n) => !n.spec?.taints?.length) ? true : undefined,
      10_000,
    );
  }

  /**
   * The nodes, as upstream's kubemark hollow nodes are: registered Ready, with a Lease renewed every 10 s as a
   * kubelet renews it, but running nothing. A node that never reported would be unreachable to the node lifecycle
   * controller (tainted, its pods passed over for eviction on every change), which no real cluster under load is.
   */
  private async hollowNodes(): Promise<void> {
    const client = this.client!;
    const names = Array.from({ length: this.plan.nodes }, (_, i) => `bench-node-${i}`);
    const leasePath = (name?: string) => `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases${name ? `/${name}` : ''}`;
    for (const name of names) {
      const now = new Date().toISOString();
      await client.create('/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { 'kubernetes.io/hostname': name } },
        status: {
          capacity: { cpu: '8', memory: '32Gi', pods: '250' },
          allocatable: { cpu: '8', memory: '32Gi', pods: '250' },
          conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now, lastTransitionTime: now }],
        },
      });
      await client.create(leasePath(), {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name },
        spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: now.replace('Z', '000Z') },
      });
    }
    this.renewals = setInterval(() => {
      const renewTime = new Date().toISOString().replace('Z', '000Z');
      for (const name of names)
        void client.patch(leasePath(name), { spec: { renewTime } }).catch((err) => this.log(`lease renewal of ${name} failed: ${(err as Error).message}`));
    }, 10_000);
  }

  private spawn(name: string, entry: string, env: Record<string, string>): ChildProcess {
    const child = spawn(process.execPath, [join(REPO, entry)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const logFile = join(this.dir, `${name}.log`);
    const lines: string[] = [];
    const keep = (b: Buffer) => {
      lines.push(b.toString('utf8'));
      if (lines.length > 200) lines.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', (code, signal) => {
      if (code !== null && code !== 0) this.log(`${name} exited ${code}: ${lines.join('').slice(-2000)}`);
      writeFileSync(logFile, lines.join(''));
      void signal;
    });
    this.children.push(child);
    return child;
  }

  private async down(): Promise<void> {
    clearInterval(this.renewals);
    this.client?.close();
    for (const child of this.children.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    this.etcd?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A Deployment of `replicas` pods: from its create to every pod bound to a node (seen through a watch). */
  private async createToBound(): Promise<void> {
    const client = this.client!;
    const bound = new Set<string>();
    let all: () => void = () => undefined;
    const done = new Promise<void>((r) => (all = r));
    const pods = new Informer<{ metadata: { name: string; namespace?: string }; spec: { nodeName?: string } }>(client, '/api/v1/namespaces/default/pods', {
      upsert: (p) => {
        if (p.spec.nodeName) bound.add(p.metadata.name);
        if (bound.size >= this.plan.replicas) all();
      },
    });
    pods.start();
    while (!pods.synced) await sleep(20);
    const t0 = performance.now();
    await client.create('/apis/apps/v1/namespaces/default/deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'bench' },
      spec: {
        replicas: this.plan.replicas,
        selector: { matchLabels: { app: 'bench' } },
        template: {
          metadata: { labels: { app: 'bench' } },
          spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
        },
      },
    });
    const timeout = sleep(300_000).then(() => {
      throw new Error(`only ${bound.size} of ${this.plan.replicas} pods were bound after 300 s`);
    });
    await Promise.race([done, timeout]);
    const ms = performance.now() - t0;
    await pods.stop();
    const rate = this.plan.replicas / (ms / 1000);
    this.add({
      id: 'kube-create-to-bound',
      scenario: `Deployment of ${this.plan.replicas} replicas: create → every pod bound`,
      measures: 'pods bound per second (API server + controllers + scheduler, no kubelet)',
      unit: 'req/s',
      cerulean: { value: Math.round(rate * 10) / 10 },
      extra: { totalMs: Math.round(ms) },
    });
    this.target('kube-pods-bound', '≥ 200 pods bound per second', rate, ' pods/s', (x) => x >= 200);
  }

  private target(id: string, target: string, actual: number, unit: string, pass: (x: number) => boolean): void {
    this.targets.push({ id, target, actual: `${Math.round(actual * 100) / 100}${unit}`, pass: pass(actual) });
  }

  /**
   * GET, LIST and PATCH with `clients` concurrent clients, each on a keep-alive connection of its own; upstream's SLO
   * is p99 ≤ 1 s for each. A sample runs from sending the request to the answer's last byte. As a load generator
   * (autocannon) does, the clients read every byte but do not parse the answers: 50 clients parsing a 500-pod list each
   * in this one process would take more of the machine's two cores than the API server and etcd together do, and
   * upstream's SLI is the server's time. One answer of each verb is parsed and checked before the run.
   */
  private async latencies(): Promise<void> {
    const client = this.client!;
    const { server, tls } = this.load!;
    await client.create('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bench' }, data: { n: '0' } });
    // Each client patches a ConfigMap of its own, as separate controllers would (writers of one object contend).
    for (let w = 0; w < this.plan.clients; w++) {
      await client.create('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `bench-${w}` }, data: { n: '0' } });
    }
    const firstPod = (await client.list<{ metadata: { name: string } }>('/api/v1/namespaces/default/pods', { limit: '1' })).items[0]?.metadata.name;
    const agent = new Agent({ ...tls, keepAlive: true, maxSockets: this.plan.clients });
    const send = (method: string, path: string, body?: string): Promise<Buffer> =>
      new Promise((resolve, reject) => {
        const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'cerulean-bench' };
        if (body !== undefined) headers['content-type'] = 'application/merge-patch+json';
        const req = request(`${server}${path}`, { method, agent, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const all = Buffer.concat(chunks);
            if ((res.statusCode ?? 0) >= 300) reject(new Error(`${method} ${path}: ${res.statusCode} ${all.toString('utf8').slice(0, 300)}`));
            else resolve(all);
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
    // Each verb's check is run on the answer to call(-1, 0) before the timed run.
    const verbs: Record<string, { call: (i: number, w: number) => Promise<Buffer>; check: (b: Buffer) => boolean }> = {
      GET: {
        call: () => send('GET', `/api/v1/namespaces/default/pods/${firstPod}`),
        check: (b) => (JSON.parse(b.toString('utf8')) as { metadata: { name: string } }).metadata.name === firstPod,
      },
      LIST: {
        call: () => send('GET', '/api/v1/namespaces/default/pods?limit=500'),
        check: (b) => (JSON.parse(b.toString('utf8')) as { items: unknown[] }).items.length === Math.min(500, this.plan.replicas),
      },
      PATCH: {
        call: (i, w) => send('PATCH', `/api/v1/namespaces/default/configmaps/bench-${w}`, JSON.stringify({ data: { n: String(i) } })),
        check: (b) => (JSON.parse(b.toString('utf8')) as { data: { n: string } }).data.n === '-1',
      },
    };
    try {
      for (const [verb, { call, check }] of Object.entries(verbs)) {
        const sample = await call(-1, 0);
        if (!check(sample)) throw new Error(`${verb}: the answer is not what was asked for: ${sample.toString('utf8').slice(0, 300)}`);
        const samples: number[] = [];
        let next = 0;
        let bytes = 0;
        const worker = async (_: unknown, w: number) => {
          while (next < this.plan.requests) {
            const i = next++;
            const t0 = performance.now();
            const answer = await call(i, w);
            bytes += answer.length;
            samples.push(performance.now() - t0);
          }
        };
        await Promise.all(Array.from({ length: this.plan.clients }, worker));
        const s = summarize(samples);
        this.add({
          id: `kube-${verb.toLowerCase()}`,
          scenario: `${verb} ${verb === 'LIST' ? `pods (${this.plan.replicas} in the namespace, limit 500)` : verb === 'GET' ? 'a pod' : 'a ConfigMap of its own per client'}, ${this.plan.clients} concurrent clients`,
          measures: `latency of ${this.plan.requests} requests, request sent → last byte of the answer`,
          unit: 'ms',
          cerulean: s,
          extra: { bytesPerAnswer: Math.round(bytes / samples.length) },
        });
        // A smoke run has too few samples for a p99: its largest sample stands in (stricter, never kinder).
        this.target(`kube-${verb.toLowerCase()}-p99`, `${verb} p99 ≤ 1000 ms`, s.p99 ?? s.max, ' ms', (x) => x <= 1000);
      }
    } finally {
      agent.destroy();
    }
  }

  /** From sending a ConfigMap update to its MODIFIED event arriving on an open watch. */
  private async watchLatency(): Promise<void> {
    const client = this.client!;
    const seen = new Map<string, number>();
    const watcher = new Informer<{ metadata: { name: string; namespace?: string }; data?: Record<string, string> }>(
      client,
      '/api/v1/namespaces/default/configmaps',
      {
        upsert: (cm) => {
          const n = cm.data?.n;
          if (n !== undefined && !seen.has(n)) seen.set(n, performance.now());
        },
      },
    );
    watcher.start();
    while (!watcher.synced) await sleep(20);
    const samples: number[] = [];
    for (let i = 0; i < this.plan.watchSamples; i++) {
      const n = `w${i}`;
      const sent = performance.now();
      await client.patch('/api/v1/namespaces/default/configmaps/bench', { data: { n } });
      for (let k = 0; k < 2000 && !seen.has(n); k++) await sleep(1);
      const at = seen.get(n);
      if (at !== undefined) samples.push(at - sent);
    }
    await watcher.stop();
    this.add({
      id: 'kube-watch',
      scenario: 'watch event latency (ConfigMap update sent → MODIFIED event received on an open watch)',
      measures: `${samples.length} sequential updates`,
      unit: 'ms',
      cerulean: summarize(samples),
    });
  }
}
