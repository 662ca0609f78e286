import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Where kubelet has the runtime write container logs: `<root>/<namespace>_<pod>_<uid>/<container>/<restartCount>.log`. */
export const POD_LOGS_ROOT = '/var/log/pods';

export interface ContainerLogRef {
  namespace: string;
  pod: string;
  container: string;
  /** The instance before the current one (`kubectl logs --previous`). */
  previous: boolean;
}

/**
 * The log file of a container instance, and whether that instance still runs: a followed log ends once it stopped
 * and everything written is sent.
 */
export interface LocatedLog {
  path: string;
  running: boolean;
}

/** Why there is no log, with the status kubelet answers it with (404: no such pod or container; 400: no such instance). */
export interface LogNotFound {
  error: string;
  status: 400 | 404;
}

/**
 * How the kubelet server finds a container's log. The kubelet that runs the pods implements it from its own pod and
 * container state (CRI ContainerStatus.log_path); `directoryLogLocator` is a stand-alone default. Called again while
 * a log is followed, to learn when the container stops.
 */
export type ContainerLogLocator = (ref: ContainerLogRef) => Promise<LocatedLog | LogNotFound>;

export const isNotFound = (r: LocatedLog | LogNotFound): r is LogNotFound => 'error' in r;

// Upstream kubelet's texts (pkg/kubelet/server/server.go and kubelet_pods.go validateContainerLogStatus).
export const podMissing = (pod: string): LogNotFound => ({ error: `pod ${JSON.stringify(pod)} does not exist`, status: 404 });
export const containerMissing = (container: string, pod: string): LogNotFound => ({
  error: `container ${JSON.stringify(container)} not found in pod ${JSON.stringify(pod)}`,
  status: 404,
});
export const noPrevious = (container: string, pod: string): LogNotFound => ({
  error: `previous terminated container ${JSON.stringify(container)} in pod ${JSON.stringify(pod)} not found`,
  status: 400,
});
export const notAvailable = (container: string, pod: string): LogNotFound => ({
  error: `container ${JSON.stringify(container)} in pod ${JSON.stringify(pod)} is not available`,
  status: 400,
});

export interface DirectoryLocatorOptions {
  root?: string;
  /**
   * Whether the container's current instance still runs. A log directory cannot tell; without this answer a
   * followed current log is followed until the client leaves (as `tail -f`).
   */
  isRunning?: (ref: ContainerLogRef) => boolean | Promise<boolean>;
}

/**
 * Finds logs by scanning the pod log directories: the newest `<namespace>_<pod>_*` directory (a pod recreated under
 * its name gets a new uid), and in it the highest `<restartCount>.log` as the current instance, the one before it
 * as the previous.
 */
export function directoryLogLocator(opts: DirectoryLocatorOptions = {}): ContainerLogLocator {
  const root = opts.root ?? POD_LOGS_ROOT;
  return async (ref) => {
    const prefix = `${ref.namespace}_${ref.pod}_`;
    const podDirs = (await listDir(root)) ?? [];
    let newest: { dir: string; mtime: number } | undefined;
    for (const name of podDirs) {
      if (!name.startsWith(prefix) || name.slice(prefix.length).includes('_')) continue;
      const s = await stat(join(root, name)).catch(() => undefined);
      if (s?.isDirectory() && (!newest || s.mtimeMs > newest.mtime)) newest = { dir: join(root, name), mtime: s.mtimeMs };
    }
    if (!newest) return podMissing(ref.pod);
    const containerDir = join(newest.dir, ref.container);
    const files = await listDir(containerDir);
    if (!files) return containerMissing(ref.container, ref.pod);
    const restarts = files
      .map((f) => /^(\d+)\.log$/.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    if (ref.previous) {
      if (restarts.length < 2) return noPrevious(ref.container, ref.pod);
      return { path: join(containerDir, `${restarts[restarts.length - 2]}.log`), running: false };
    }
    if (!restarts.length) return notAvailable(ref.container, ref.pod);
    return { path: join(containerDir, `${restarts[restarts.length - 1]}.log`), running: opts.isRunning ? await opts.isRunning(ref) : true };
  };
}

/** A directory's entries; undefined when there is no such directory. */
async function listDir(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}
