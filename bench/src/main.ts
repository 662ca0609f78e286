// `npm run bench` (full) and `npm run bench -- --smoke` (one iteration of each scenario).
// Brings up a private Cerulean (Postgres, Redis, API, worker on loopback), measures every scenario next to
// its floor in the same run, prints a table and writes JSON; stops everything it started, even on failure.
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BenchPlatform } from './platform';
import { BenchResults, load, machineInfo, table } from './report';
import { KUBE_FULL, KUBE_SMOKE, KubeScenarios } from './kube-scenarios';
import { PODS_FULL, PODS_SMOKE, PodScenarios } from './pod-scenarios';
import { FULL_PLAN, SMOKE_PLAN, Scenarios } from './scenarios';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const outArg = args.find((a) => a.startsWith('--out='))?.slice('--out='.length);
const out = resolve(outArg ?? `bench/results/${smoke ? 'smoke' : 'latest'}.json`);
// --only=read,writes,provisioning,scale,polling,kube,pods runs a subset (to iterate on one fix); its JSON is partial.
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const runs = (name: string): boolean => !only || only.includes(name);
const deadlineMs = (smoke ? 8 : 16) * 60_000;

const log = (msg: string): void => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function main(): Promise<number> {
  const started = new Date();
  const loadStart = load();
  const platform = new BenchPlatform();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= platform.down());
  const onSignal = (sig: NodeJS.Signals): void => {
    log(`${sig}: stopping what the bench started`);
    void stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timer = setTimeout(() => {
    log(`the bench exceeded ${deadlineMs / 60_000} minutes: stopping`);
    void stop().finally(() => process.exit(1));
  }, deadlineMs);
  try {
    await platform.up(log);
    const idle = { api: platform.api?.rssMiB() ?? NaN, worker: platform.worker?.rssMiB() ?? NaN };
    const s = new Scenarios(platform, smoke ? SMOKE_PLAN : FULL_PLAN, log);
    await s.prepare();
    log('steady cluster');
    const steady = await s.createSteadyCluster();
    log('read path');
    if (runs('read')) await s.readPath(steady.name);
    log('write acceptance');
    if (runs('writes')) await s.writes(steady.name);
    log('node provisioning and delete');
    if (runs('provisioning')) await s.provisioning();
    log('scale-out and scale-in');
    if (runs('scale')) await s.scale();
    log('operation status polling');
    if (runs('polling')) await s.polling(steady.name, steady.createOperationId);
    log('queue dispatch');
    await s.dispatch();
    log('memory');
    await s.memory(steady.name, idle);
    log('pod startup on a real cluster (containerd on the nodes)');
    if (runs('pods')) {
      const pods = new PodScenarios(platform, smoke ? PODS_SMOKE : PODS_FULL, log);
      await pods.run();
      s.results.push(...pods.results);
      s.targets.push(...pods.targets);
    }
    log("the cluster's Kubernetes control plane (etcd, API server, controllers)");
    if (runs('kube')) {
      const kube = new KubeScenarios(smoke ? KUBE_SMOKE : KUBE_FULL, log);
      await kube.run();
      s.results.push(...kube.results);
      s.targets.push(...kube.targets);
    }

    const finished = new Date();
    const results: BenchResults = {
      schema: 'cerulean-bench/1',
      mode: smoke ? 'smoke' : 'full',
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationSeconds: Math.round((finished.getTime() - started.getTime()) / 1000),
      machine: machineInfo(),
      loadAverage: { start: loadStart, end: load() },
      note:
        'Cerulean and each floor run side by side in the same run on the same machine, so ratios compare across machines; ' +
        'absolute numbers depend on the machine and on whatever else runs on it (see loadAverage). ' +
        'Targets are goals, not pass/fail conditions of the build.',
      scenarios: s.results,
      targets: s.targets,
      warnings: s.warnings,
    };
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\n${table(results)}\n`);
    log(`load average ${loadStart.join(' ')} → ${results.loadAverage.end.join(' ')}; results in ${out}`);
    return 0;
  } catch (err) {
    console.error(err);
    log(`the bench failed; platform logs are in ${platform.dir}`);
    return 1;
  } finally {
    clearTimeout(timer);
    await stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
