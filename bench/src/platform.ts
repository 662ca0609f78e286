import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, createWriteStream, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { NodeImageCatalog } from '@cerulean/catalog';
import { loadEnv } from '@cerulean/config';
import { createDataSource } from '@cerulean/domain';
import { DockerNodeProvider, NodeImageBuilder, NodeLabels } from '@cerulean/node-provider';
import Dockerode from 'dockerode';
import { Client } from 'pg';
import { ensureServerTls } from '../../apps/api/src/common/tls';
import {
  freePort,
  restartPrivatePostgres,
  restartPrivateRedis,
  startPrivatePostgres,
  startPrivateRedis,
  stopPrivatePostgres,
  stopPrivateRedis,
} from '../../test-support/private-services';
import { SocketRelay } from '../../test-support/socket-relay';
import { HttpsClient, setBenchToken } from './https-client';

const ROOT = resolve(__dirname, '../../..');
/** Label on every container and network the bench creates itself (the floors). */
export const BENCH_LABEL = 'cerulean.bench.run';

/** One platform process (API or worker) whose output the bench reads line by line, with arrival times. */
export class PlatformProcess {
  private readonly listeners = new Set<(line: string, at: number) => void>();

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
    logPath: string,
  ) {
    // Only a piped process's lines reach the bench (the worker's, for queue dispatch); the API writes its
    // request log straight to its file, so reading it costs the bench (and the load generator) nothing.
    const log = proc.stdout ? createWriteStream(logPath, { flags: 'a' }) : undefined;
    for (const stream of [proc.stdout, proc.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        const at = Date.now();
        log?.write(`${line}\n`);
        for (const l of this.listeners) l(line, at);
      });
    }
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  onLine(listener: (line: string, at: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  waitForLine(pattern: RegExp, timeoutMs: number): Promise<void> {
    return new Promise((res, rej) => {
      const timer = setTimeout(() => {
        off();
        rej(new Error(`${this.name} did not log ${String(pattern)} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onLine((line) => {
        if (!pattern.test(line)) return;
        clearTimeout(timer);
        off();
        res();
      });
      this.proc.once('exit', (code) => {
        clearTimeout(timer);
        rej(new Error(`${this.name} exited (${String(code)}) before logging ${String(pattern)}`));
      });
    });
  }

  /** Resident set size from /proc, in MiB. */
  rssMiB(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN);
    return Math.round((kb / 1024) * 10) / 10;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((res) => this.proc.once('exit', res));
    this.proc.kill('SIGTERM');
    await Promise.race([exited, sleep(5000).then(() => this.proc.kill('SIGKILL'))]);
  }
}

/**
 * A private Cerulean for the bench: its own Postgres and Redis on free loopback ports (throwaway data), the
 * node image, and the API and worker processes from dist/ with the product's default settings. `down()`
 * stops all of it and removes every container and network of the run, whatever happened before.
 */
export class BenchPlatform {
  readonly runId = `${process.pid}-${Date.now().toString(36)}`;
  readonly dir: string;
  readonly docker = new Dockerode();
  apiUrl = '';
  caPath = '';
  databaseUrl = '';
  redisUrl = '';
  queuePrefix = '';
  subscriptionId = '3f2e1d0c-9b8a-4765-8432-10fedcba9876';
  installationId = '';
  imageRef = '';
  tls?: { key: string; cert: string; caPath: string };
  api?: PlatformProcess;
  worker?: PlatformProcess;
  db?: Client;
  http?: HttpsClient;
  private pgData = '';
  private redisPidFile = '';
  private platformEnv: Record<string, string> = {};
  /** Set by `up` with `relayDocker`: the socket the worker reaches Docker through, which the chaos run cuts. */
  dockerRelay?: SocketRelay;

  constructor(dir = process.env.CERULEAN_BENCH_DIR ?? '/tmp/cerulean-bench') {
    this.dir = dir;
  }

  /**
   * `settings`: CERULEAN_* variables over the product's defaults (the chaos run's shorter health intervals).
   * `relayDocker`: the platform reaches Docker through a SocketRelay the caller can cut (a daemon crash, seen from
   * the platform, without touching the machine's daemon).
   */
  async up(log: (msg: string) => void, settings: Record<string, string> = {}, options: { relayDocker?: boolean } = {}): Promise<void> {
    const started = Date.now();
    await this.docker.ping().catch((err: unknown) => {
      throw new Error(`The Docker engine is not reachable (${String(err)}). Start the platform first (npm start) or dockerd.`);
    });
    rmSync(this.dir, { recursive: true, force: true });
    // Durable commits as in production (no fsync=off): write acceptance includes a real commit.
    // track_commit_timestamp gives the queue-dispatch scenario the exact commit time of each operation row.
    const pg = await startPrivatePostgres(this.dir, '-c track_commit_timestamp=on');
    this.pgData = pg.pgData;
    this.databaseUrl = pg.databaseUrl;
    const redis = await startPrivateRedis(this.dir);
    this.redisPidFile = redis.pidFile;
    this.redisUrl = redis.redisUrl;

    const ds = await createDataSource(this.databaseUrl).initialize();
    await ds.runMigrations();
    this.installationId = ((await ds.query('SELECT id FROM installation')) as { id: string }[])[0].id;
    await ds.destroy();
    this.db = new Client({ connectionString: this.databaseUrl });
    await this.db.connect();
    // Bench-only instrumentation of this throwaway database: the transaction that inserted each operation row.
    await this.db.query(`
      CREATE TABLE bench_operation_tx (operation_id uuid PRIMARY KEY, tx xid NOT NULL DEFAULT (pg_current_xact_id()::text::xid));
      CREATE FUNCTION bench_operation_tx() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO bench_operation_tx (operation_id) VALUES (NEW.id) ON CONFLICT DO NOTHING; RETURN NEW; END $$;
      CREATE TRIGGER bench_operation_tx AFTER INSERT ON operations FOR EACH ROW EXECUTE FUNCTION bench_operation_tx();
      CREATE TABLE bench_floor_writes (id uuid PRIMARY KEY, body jsonb NOT NULL);
    `);

    const env = loadEnv();
    const catalog = new NodeImageCatalog(undefined, env.NODE_IMAGE_REPOSITORY);
    const images = await new NodeImageBuilder({ catalog }).buildAll();
    this.imageRef = catalog.imageRef(catalog.latest());
    const dataDir = join(this.dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const tls = await ensureServerTls(dataDir);
    this.tls = { key: tls.key, cert: tls.cert, caPath: tls.caPath };
    this.caPath = tls.caPath;
    const apiPort = await freePort();
    this.queuePrefix = `cerulean-bench-${this.runId}`;
    const platformEnv: Record<string, string> = {
      CERULEAN_DATABASE_URL: this.databaseUrl,
      CERULEAN_REDIS_URL: this.redisUrl,
      CERULEAN_QUEUE_PREFIX: this.queuePrefix,
      CERULEAN_DATA_DIR: dataDir,
      CERULEAN_API_PORT: String(apiPort),
      CERULEAN_SUBSCRIPTION_ID: this.subscriptionId,
      CERULEAN_NODE_IMAGE_REPOSITORY: env.NODE_IMAGE_REPOSITORY,
      // The bench measures how fast the platform answers, not ARM's per-principal request budget.
      CERULEAN_THROTTLE_READ_BUCKET: '100000000',
      CERULEAN_THROTTLE_READ_REFILL_PER_SECOND: '100000000',
      CERULEAN_THROTTLE_WRITE_BUCKET: '100000000',
      CERULEAN_THROTTLE_WRITE_REFILL_PER_SECOND: '100000000',
      CERULEAN_THROTTLE_DELETE_BUCKET: '100000000',
      CERULEAN_THROTTLE_DELETE_REFILL_PER_SECOND: '100000000',
    };
    Object.assign(platformEnv, settings);
    if (options.relayDocker) {
      this.dockerRelay = new SocketRelay(join(this.dir, 'docker.sock'), env.DOCKER_SOCKET);
      await this.dockerRelay.listen();
      platformEnv.CERULEAN_DOCKER_SOCKET = this.dockerRelay.path;
    }
    this.platformEnv = platformEnv;
    this.worker = this.spawn('worker', 'dist/apps/worker/src/main.js', platformEnv, true);
    this.api = this.spawn('api', 'dist/apps/api/src/main.js', platformEnv, false);
    this.apiUrl = `https://127.0.0.1:${apiPort}`;
    this.http = new HttpsClient(this.apiUrl, readFileSync(this.caPath));
    // After it starts, the worker builds the platform images and pushes them to the registry (about 11 s here): wait
    // for that too, so that no scenario measures beside those builds. Bounded: a slow push is logged, not fatal.
    const registryRunning = Number(platformEnv.CERULEAN_REGISTRY_PORT ?? env.REGISTRY_PORT) > 0;
    const imagesPushed = registryRunning
      ? this.worker
          .waitForLine(/registry images: |pushing the platform images .* failed|image registry .* did not start/, 180_000)
          .catch((err: unknown) => log(`measuring while the worker may still push images: ${err instanceof Error ? err.message : String(err)}`))
      : Promise.resolve();
    await Promise.all([this.worker.waitForLine(/worker started/, 90_000), this.http.waitHealthy(this.api, 90_000)]);
    await imagesPushed;
    setBenchToken(await this.http.signIn(dataDir));
    log(
      `bench platform up in ${Date.now() - started} ms: api ${this.apiUrl}, postgres :${pg.port}, redis :${redis.port}, ` +
        `images ${images.map((i) => `${i.ref} (${i.action})`).join(', ')}; logs in ${this.dir}`,
    );
  }

  /** Starts the worker again (after it was killed), as `up` did; resolves when it has booted. */
  async restartWorker(): Promise<void> {
    await this.worker?.stop();
    this.worker = this.spawn('worker', 'dist/apps/worker/src/main.js', this.platformEnv, true);
    await this.worker.waitForLine(/worker started/, 60_000);
  }

  /** Starts the API again (after it was killed), as `up` did; resolves when it answers /healthz. */
  async restartApi(): Promise<void> {
    await this.api?.stop();
    this.api = this.spawn('api', 'dist/apps/api/src/main.js', this.platformEnv, false);
    await this.http?.waitHealthy(this.api, 60_000);
  }

  /** Postgres stopped at once (every session cut) and started again after `downMs`. */
  restartPostgres(downMs: number): Promise<void> {
    return restartPrivatePostgres(this.pgData, downMs);
  }

  /** Redis killed and started again (same port and password, no data) after `downMs`. */
  restartRedis(downMs: number): Promise<void> {
    return restartPrivateRedis(this.dir, downMs);
  }

  private spawn(name: string, entry: string, platformEnv: Record<string, string>, piped: boolean): PlatformProcess {
    const logPath = join(this.dir, `${name}.log`);
    const fd = piped ? undefined : openSync(logPath, 'a');
    // CERULEAN_BENCH_PROFILE=1: CPU profiles of the API and the worker in the bench folder, to find what to fix.
    const profile = process.env.CERULEAN_BENCH_PROFILE === '1' ? ['--cpu-prof', `--cpu-prof-dir=${join(this.dir, `profile-${name}`)}`] : [];
    const proc = spawn(process.execPath, [...profile, join(ROOT, entry)], {
      env: { ...process.env, ...platformEnv },
      stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
    });
    if (fd !== undefined) closeSync(fd);
    return new PlatformProcess(name, proc, logPath);
  }

  /** The node containers of one pool of one of this installation's clusters (by ARM name), as Docker lists them. */
  nodeContainers(cluster: string, pool: string): Promise<Dockerode.ContainerInfo[]> {
    return this.docker.listContainers({
      filters: { label: [`${NodeLabels.installation}=${this.installationId}`, `${NodeLabels.cluster}=${cluster}`, `${NodeLabels.pool}=${pool}`] },
    });
  }

  /** Removes every container, then every network and volume, that carries `labels` (all must match). */
  async removeLabeled(labels: string[]): Promise<number> {
    const filters = { label: labels };
    const containers = await this.docker.listContainers({ all: true, filters });
    await Promise.all(
      containers.map((c) =>
        this.docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined),
      ),
    );
    const networks = await this.docker.listNetworks({ filters });
    await Promise.all(
      networks.map((n) =>
        this.docker
          .getNetwork(n.Id)
          .remove()
          .catch(() => undefined),
      ),
    );
    // Named volumes (etcd's, the registry's) outlive their containers: `v: true` removes only anonymous ones.
    const { Volumes: volumes } = await this.docker.listVolumes({ filters });
    await Promise.all(
      (volumes ?? []).map((v) =>
        this.docker
          .getVolume(v.Name)
          .remove()
          .catch(() => undefined),
      ),
    );
    // The worker's isolation rules for the clusters' bridges just removed.
    await new DockerNodeProvider({ docker: this.docker }).releaseStaleIsolation();
    return containers.length;
  }

  /** Stops everything `up` started; safe after a partial `up` and when called twice. */
  async down(): Promise<void> {
    this.http?.close();
    await Promise.all([this.api?.stop(), this.worker?.stop()]);
    await this.dockerRelay?.cut();
    await this.db?.end().catch(() => undefined);
    this.db = undefined;
    if (this.installationId) await this.removeLabeled([`${NodeLabels.installation}=${this.installationId}`]).catch(() => undefined);
    await this.removeLabeled([`${BENCH_LABEL}=${this.runId}`]).catch(() => undefined);
    if (this.pgData) stopPrivatePostgres(this.pgData);
    this.pgData = '';
    if (this.redisPidFile) stopPrivateRedis(this.redisPidFile);
  }
}
