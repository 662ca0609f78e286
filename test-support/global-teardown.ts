import { existsSync, readFileSync, rmSync } from 'node:fs';
import Dockerode from 'dockerode';
import { ItState, STATE_FILE } from './it-env';
import { stopPrivatePostgres, stopPrivateRedis } from './private-services';

// Jest's module mapper does not apply to globalTeardown: load the built code, as global-setup does.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DockerNodeProvider, NodeLabels } = require('../dist/libs/node-provider/src') as typeof import('../libs/node-provider/src');

const kill = (pid: number): void => {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
};

/** Stops the API, any worker a test left, Postgres and Redis, and removes every node of the run. */
export default async function globalTeardown(): Promise<void> {
  if (!existsSync(STATE_FILE)) return;
  const state = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as ItState;
  kill(state.apiPid);
  const pidsFile = `${state.dir}/worker-pids`;
  if (existsSync(pidsFile)) for (const pid of readFileSync(pidsFile, 'utf8').split('\n').filter(Boolean)) kill(Number(pid));

  const docker = new Dockerode();
  const filters = { label: [`${NodeLabels.installation}=${state.installationId}`] };
  const containers = await docker.listContainers({ all: true, filters });
  // `v`: a node's containerd root is an anonymous volume, left behind otherwise (8 to 120 MiB each).
  await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  const networks = await docker.listNetworks({ filters });
  await Promise.all(
    networks.map((n) =>
      docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined),
    ),
  );
  // After the containers that mount them: the registry's data, and any control plane's etcd a test left.
  const { Volumes: volumes } = await docker.listVolumes({ filters });
  await Promise.all(
    (volumes ?? []).map((v) =>
      docker
        .getVolume(v.Name)
        .remove()
        .catch(() => undefined),
    ),
  );
  // The run's registry port is gone with it: so are the local names pushed there (an image known only by them, too).
  const registryPort = state.platformEnv.CERULEAN_REGISTRY_PORT;
  if (registryPort) {
    const prefix = `127.0.0.1:${registryPort}/`;
    for (const image of await docker.listImages()) {
      const refs = [...(image.RepoTags ?? []), ...(image.RepoDigests ?? [])].filter((r) => !r.startsWith('<none>'));
      const pushed = refs.filter((r) => r.startsWith(prefix));
      if (pushed.length === 0) continue;
      if (pushed.length === refs.length)
        await docker
          .getImage(image.Id)
          .remove({ force: true })
          .catch(() => undefined);
      else
        for (const tag of (image.RepoTags ?? []).filter((t) => t.startsWith(prefix)))
          await docker
            .getImage(tag)
            .remove({ noprune: true })
            .catch(() => undefined);
    }
  }
  // The isolation rules of the networks just removed (only Cerulean's, only for bridges that are gone).
  await new DockerNodeProvider({ docker }).releaseStaleIsolation().catch((err: unknown) => console.warn(`releasing isolation rules: ${String(err)}`));

  stopPrivatePostgres(state.pgData);
  stopPrivateRedis(state.redisPidFile);
  rmSync(STATE_FILE, { force: true });
}
