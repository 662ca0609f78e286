import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NodeImageCatalog, VmSizeCatalog } from '@cerulean/catalog';
import { loadEnv } from '@cerulean/config';
import { NODE_AGENT_PORT, NodeAgentClient, NodeSpec, buildContainerCreateOptions } from '@cerulean/node-provider';
import { Job, Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { freePort } from '../../test-support/private-services';
import { BENCH_LABEL, BenchPlatform } from './platform';

/** The same vmSize the bench's clusters use, so floor containers get the same CPU and memory limits. */
export const BENCH_VM_SIZE = 'Standard_DS2_v2';

export interface DirectFleet {
  networkId: string;
  containerIds: string[];
}

/**
 * The node-provisioning floor: `count` containers of the node image, with the same container definition as
 * Cerulean's nodes (limits, labels, restart policy, published agent port, and, when nodes run pods, the container
 * runtime with its volume and what nested containers need), created and started directly through the Docker API, all
 * in parallel, on one new bridge network, until every agent reports Ready (its container runtime up), as the worker
 * waits for first. What Cerulean does beyond that (the control plane, each node registered Ready through the cluster's
 * API server) is what its ratio shows.
 */
export class DirectDocker {
  private readonly env = loadEnv();
  private readonly size = new VmSizeCatalog().find(BENCH_VM_SIZE);
  private readonly agents = new NodeAgentClient();
  private seq = 0;

  constructor(private readonly platform: BenchPlatform) {}

  async provision(count: number, into?: DirectFleet): Promise<{ ms: number; fleet: DirectFleet }> {
    const docker = this.platform.docker;
    const batch = `floor-${this.platform.runId}-${++this.seq}`;
    const labels = { [BENCH_LABEL]: this.platform.runId };
    if (!this.size) throw new Error(`${BENCH_VM_SIZE} is not in the vmSize catalog`);
    const limits = new VmSizeCatalog().limitsFor(this.size, this.env.NODE_CPU_FACTOR, this.env.NODE_MEMORY_FACTOR);
    const image = new NodeImageCatalog(undefined, this.env.NODE_IMAGE_REPOSITORY).latest();
    const t0 = performance.now();
    const networkId = into?.networkId ?? (await docker.createNetwork({ Name: batch, Driver: 'bridge', Labels: labels })).id;
    const ids = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const name = `${batch}-${i}`;
        const spec: NodeSpec = {
          name,
          clusterId: batch,
          image: this.platform.imageRef,
          labels,
          nanoCpus: limits.nanoCpus,
          memoryBytes: limits.memoryBytes,
          zone: '',
          env: {
            CERULEAN_CLUSTER: batch,
            CERULEAN_POOL: 'floor',
            CERULEAN_VM_SIZE: BENCH_VM_SIZE,
            CERULEAN_KUBERNETES_VERSION: '1.0.0',
            CERULEAN_NODE_IMAGE_VERSION: image.version,
            CERULEAN_CONTAINER_RUNTIME: this.env.NODE_CONTAINER_RUNTIME,
          },
          containerRuntime: this.env.NODE_CONTAINER_RUNTIME === 'containerd',
        };
        const container = await docker.createContainer(buildContainerCreateOptions(spec, '127.0.0.1', networkId));
        await container.start();
        const info = await container.inspect();
        const port = info.NetworkSettings.Ports[`${NODE_AGENT_PORT}/tcp`]?.[0]?.HostPort;
        if (!port) throw new Error(`floor container ${name} has no published agent port`);
        await this.agents.waitUntilReady(`http://127.0.0.1:${port}`, { timeoutMs: 60_000 }).catch(async (err: Error) => {
          // What the node's agent and containerd said, so a floor node that never got Ready can be understood.
          const tail = (await container.logs({ stdout: true, stderr: true, tail: 30 }).catch(() => Buffer.from(''))) as unknown as Buffer;
          throw new Error(`floor container ${name}: ${err.message}; its last log lines:\n${demuxedText(tail)}`, { cause: err });
        });
        return container.id;
      }),
    );
    const ms = performance.now() - t0;
    return { ms, fleet: { networkId, containerIds: [...(into?.containerIds ?? []), ...ids] } };
  }

  /** Removes `ids` (force, in parallel), and the network too when `withNetwork`. */
  async remove(fleet: DirectFleet, ids: string[], withNetwork: boolean): Promise<number> {
    const docker = this.platform.docker;
    const t0 = performance.now();
    await Promise.all(ids.map((id) => docker.getContainer(id).remove({ force: true, v: true })));
    if (withNetwork) await docker.getNetwork(fleet.networkId).remove();
    return performance.now() - t0;
  }
}

/** Docker's multiplexed log frames (an 8-byte header: stream, 0, 0, 0, length) as text. */
function demuxedText(buf: Buffer): string {
  const parts: string[] = [];
  for (let i = 0; i + 8 <= buf.length; i += 8 + buf.readUInt32BE(i + 4)) parts.push(buf.subarray(i + 8, i + 8 + buf.readUInt32BE(i + 4)).toString('utf8'));
  return parts.join('');
}

/** A fixed JSON body of exactly `bytes` bytes. */
export function fixedJson(bytes: number): string {
  const shell = '{"pad":""}';
  return `{"pad":"${'x'.repeat(Math.max(0, bytes - shell.length))}"}`;
}

/**
 * The read-path floor: a bare Fastify server in its own process (as the API is), over HTTPS with the API's
 * certificate, answering a fixed JSON body of the given size on every GET.
 */
export class BareFastify {
  private proc?: ChildProcess;
  url = '';

  constructor(private readonly platform: BenchPlatform) {}

  async start(bodyBytes: number): Promise<void> {
    await this.stop();
    const port = await freePort();
    const bodyPath = join(this.platform.dir, `floor-body-${bodyBytes}.json`);
    writeFileSync(bodyPath, fixedJson(bodyBytes));
    const tlsPath = join(this.platform.dir, 'floor-tls.json');
    writeFileSync(tlsPath, JSON.stringify({ key: this.platform.tls?.key, cert: this.platform.tls?.cert }));
    const proc = spawn(process.execPath, [join(__dirname, 'floor-server.js'), String(port), bodyPath, tlsPath], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.proc = proc;
    await new Promise<void>((res, rej) => {
      proc.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('listening')) res();
      });
      proc.once('exit', (code) => rej(new Error(`floor server exited (${String(code)})`)));
    });
    this.url = `https://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((res) => proc.once('exit', res));
    proc.kill('SIGTERM');
    await Promise.race([exited, sleep(3000).then(() => proc.kill('SIGKILL'))]);
  }
}

/** The write-acceptance floor: one Postgres INSERT (own commit) then one Redis LPUSH, sequentially. */
export async function pgRedisRoundTrips(platform: BenchPlatform, count: number, bodyBytes: number): Promise<number[]> {
  const redis = new IORedis(platform.redisUrl, { maxRetriesPerRequest: null });
  const key = `bench-floor-${platform.runId}`;
  const body = fixedJson(bodyBytes);
  const db = platform.db;
  if (!db) throw new Error('bench platform is not up');
  try {
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const id = randomUUID();
      const t0 = performance.now();
      await db.query('INSERT INTO bench_floor_writes (id, body) VALUES ($1, $2)', [id, body]);
      await redis.lpush(key, id);
      samples.push(performance.now() - t0);
    }
    return samples;
  } finally {
    await redis.del(key).catch(() => undefined);
    redis.disconnect();
  }
}

/** The queue-dispatch floor: BullMQ add → a worker (same Redis, no work) receives the empty job. */
export async function bullmqDispatch(platform: BenchPlatform, count: number): Promise<number[]> {
  const connection = { url: platform.redisUrl, maxRetriesPerRequest: null };
  const prefix = `bench-floor-${platform.runId}`;
  const queue = new Queue('floor', { connection, prefix });
  let received: ((at: number) => void) | undefined;
  const worker = new Worker(
    'floor',
    async (_job: Job) => {
      received?.(performance.now());
    },
    { connection, prefix, concurrency: 1 },
  );
  try {
    await worker.waitUntilReady();
    // Let the worker reach its blocking wait, as Cerulean's idle worker is.
    await sleep(200);
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const got = new Promise<number>((res) => (received = res));
      const t0 = performance.now();
      await queue.add('empty', {}, { removeOnComplete: true });
      samples.push((await got) - t0);
      await sleep(20);
    }
    return samples;
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}
