import { chmod, mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { termHosts, type VolumeNodeAffinity } from '@cerulean/kube';
import type { LogLine } from '../server';
import { KUBELET_PODS_ROOT } from './config';
import type { Mount } from './cri';
import { fieldValue } from './env';
import { expectOk, type KubeApi } from '../kube-api';
import type { Container, KeyToPath, Pod, Volume } from './pod-types';

/** Where a volume lives on the node, by upstream's plugin names. */
export function volumeDir(pod: Pod, v: Volume): string | undefined {
  const base = `${KUBELET_PODS_ROOT}/${pod.metadata.uid}/volumes`;
  if (v.emptyDir) return `${base}/kubernetes.io~empty-dir/${v.name}`;
  if (v.configMap) return `${base}/kubernetes.io~configmap/${v.name}`;
  if (v.secret) return `${base}/kubernetes.io~secret/${v.name}`;
  if (v.downwardAPI) return `${base}/kubernetes.io~downward-api/${v.name}`;
  if (v.projected) return `${base}/kubernetes.io~projected/${v.name}`;
  // A link to the claim's volume on this node, made when the volume is set up (see persistentVolumePath).
  if (v.persistentVolumeClaim) return `${base}/kubernetes.io~local-volume/${v.name}`;
  const hostPath = v.hostPath as { path?: string } | undefined;
  if (hostPath?.path) return hostPath.path;
  return undefined;
}

/** The container's volume mounts as bind mounts of the volumes' directories (volumes of unsupported types are skipped). */
export function volumeMounts(pod: Pod, c: Container): Mount[] {
  const mounts: Mount[] = [];
  for (const m of c.volumeMounts ?? []) {
    const v = pod.spec.volumes?.find((x) => x.name === m.name);
    const dir = v && volumeDir(pod, v);
    if (!dir) continue;
    const readOnly = m.readOnly ?? Boolean(v.configMap || v.secret || v.downwardAPI || v.projected || v.persistentVolumeClaim?.readOnly);
    mounts.push({ container_path: m.mountPath, host_path: m.subPath ? path.join(dir, m.subPath) : dir, readonly: readOnly });
  }
  return mounts;
}

type Files = Map<string, { content: Buffer; mode: number }>;

interface ProjectedSource {
  configMap?: { name: string; items?: KeyToPath[]; optional?: boolean };
  secret?: { name: string; items?: KeyToPath[]; optional?: boolean };
  downwardAPI?: { items?: DownwardItem[] };
  serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string };
}

interface DownwardItem {
  path: string;
  fieldRef?: { fieldPath: string };
  mode?: number;
}

/**
 * Fills the pod's volumes before its sandbox starts: emptyDir as a directory; configMap, secret, downwardAPI and
 * projected (service-account token by TokenRequest, bound to the pod) as files written into a fresh directory that
 * replaces the old one. A volume that cannot be filled (missing object that is not optional) fails the sync; the
 * pod stays in ContainerCreating and is retried.
 */
export async function prepareVolumes(pod: Pod, api: KubeApi, log: LogLine): Promise<void> {
  for (const v of pod.spec.volumes ?? []) {
    const dir = volumeDir(pod, v);
    if (!dir) {
      log({ msg: 'kubelet: volume type not supported: not mounted', pod: `${pod.metadata.namespace}/${pod.metadata.name}`, volume: v.name });
      continue;
    }
    if (v.emptyDir) {
      await mkdir(dir, { recursive: true, mode: 0o777 });
      await chmod(dir, 0o777);
      continue;
    }
    if (v.hostPath) continue;
    if (v.persistentVolumeClaim) {
      try {
        await linkPersistentVolume(pod, v.persistentVolumeClaim.claimName, dir, api);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new MountVolumeError(
          `Unable to attach or mount volumes: unmounted volumes=[${v.name}], unattached volumes=[], failed to process volumes=[${v.name}]: ${why}`,
        );
      }
      continue;
    }
    try {
      await writeAtomically(dir, await volumeFiles(pod, v, api));
    } catch (err) {
      throw new MountVolumeError(`MountVolume.SetUp failed for volume "${v.name}" : ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** A volume that could not be filled, in upstream's words: the kubelet reports it as a FailedMount event. */
export class MountVolumeError extends Error {}

interface ClaimView {
  spec?: { volumeName?: string };
  status?: { phase?: string };
}

interface PersistentVolumeView extends VolumeNodeAffinity {
  spec?: VolumeNodeAffinity['spec'] & { local?: { path?: string }; hostPath?: { path?: string } };
}

/** Whether a volume pinned to hosts by name (what local volumes are) may be used on `node`. */
export function pinnedElsewhere(pv: PersistentVolumeView, node: string | undefined): boolean {
  const hosts = termHosts(pv);
  // Only when every term names its hosts: other terms (zones, labels) are the scheduler's to judge.
  if (!node || hosts.length === 0 || hosts.some((h) => !h)) return false;
  return !hosts.some((h) => h!.includes(node));
}

/**
 * The directory on this node of a bound claim's volume: a `local` or `hostPath` PersistentVolume (what this platform's
 * provisioner makes, or an administrator's). A claim that is missing or not bound yet fails the set-up, as upstream's
 * does, and the pod is retried.
 */
export async function persistentVolumePath(pod: Pod, claimName: string, api: KubeApi): Promise<string> {
  const ns = pod.metadata.namespace;
  const claim = await api.readObject<ClaimView>('persistentvolumeclaims', ns, claimName);
  if (!claim) throw new Error(`error processing PVC ${ns}/${claimName}: persistentvolumeclaim "${claimName}" not found`);
  const volumeName = claim.spec?.volumeName;
  if (claim.status?.phase !== 'Bound' || !volumeName) throw new Error(`error processing PVC ${ns}/${claimName}: PVC is not bound`);
  const pv = await api.readPersistentVolume<PersistentVolumeView>(volumeName);
  if (!pv) throw new Error(`error processing PVC ${ns}/${claimName}: persistentvolume "${volumeName}" not found`);
  const dir = pv.spec?.local?.path ?? pv.spec?.hostPath?.path;
  if (!dir || !path.isAbsolute(dir)) {
    throw new Error(`error processing PVC ${ns}/${claimName}: persistentvolume "${volumeName}" is neither a local nor a hostPath volume`);
  }
  // Never an empty directory in place of a volume that lives on another node.
  if (pinnedElsewhere(pv, pod.spec.nodeName))
    throw new Error(`volume node affinity conflict: persistentvolume "${volumeName}" is not on node ${pod.spec.nodeName}`);
  return dir;
}

/**
 * Sets up a claim's volume for the pod: its directory is made on first use (open to every user: the platform does not
 * apply fsGroup, so a container running as any user can write, as with local-path provisioners) and linked from the
 * pod's volume directory, which the containers bind-mount.
 */
async function linkPersistentVolume(pod: Pod, claimName: string, link: string, api: KubeApi): Promise<void> {
  const target = await persistentVolumePath(pod, claimName, api);
  const fresh = await mkdir(target, { recursive: true, mode: 0o777 });
  if (fresh) await chmod(target, 0o777);
  await mkdir(path.dirname(link), { recursive: true });
  const current = await readlink(link).catch(() => undefined);
  if (current === target) return;
  await rm(link, { force: true, recursive: true });
  await symlink(target, link);
}

/** The files of a configMap, secret, downwardAPI or projected volume. */
async function volumeFiles(pod: Pod, v: Volume, api: KubeApi): Promise<Files> {
  const files: Files = new Map();
  if (v.configMap) await addObject(files, api, pod, 'configmaps', v.configMap.name, v.configMap.items, v.configMap.optional, v.configMap.defaultMode ?? 0o644);
  if (v.secret) await addObject(files, api, pod, 'secrets', v.secret.secretName, v.secret.items, v.secret.optional, v.secret.defaultMode ?? 0o644);
  const downward = v.downwardAPI as { items?: DownwardItem[]; defaultMode?: number } | undefined;
  if (downward) addDownward(files, pod, downward.items ?? [], downward.defaultMode ?? 0o644);
  const projected = v.projected as { sources?: ProjectedSource[]; defaultMode?: number } | undefined;
  for (const s of projected?.sources ?? []) {
    const mode = projected?.defaultMode ?? 0o644;
    if (s.configMap) await addObject(files, api, pod, 'configmaps', s.configMap.name, s.configMap.items, s.configMap.optional, mode);
    if (s.secret) await addObject(files, api, pod, 'secrets', s.secret.name, s.secret.items, s.secret.optional, mode);
    if (s.downwardAPI) addDownward(files, pod, s.downwardAPI.items ?? [], mode);
    if (s.serviceAccountToken)
      files.set(s.serviceAccountToken.path, { content: Buffer.from(await requestToken(api, pod, s.serviceAccountToken)), mode: 0o644 });
  }
  return files;
}

async function addObject(
  files: Files,
  api: KubeApi,
  pod: Pod,
  kind: 'configmaps' | 'secrets',
  name: string,
  items: KeyToPath[] | undefined,
  optional: boolean | undefined,
  mode: number,
): Promise<void> {
  const obj = await api.readObject<{ data?: Record<string, string>; binaryData?: Record<string, string> }>(kind, pod.metadata.namespace, name);
  if (!obj) {
    if (optional) return;
    throw new Error(`${kind === 'secrets' ? 'secret' : 'configmap'} "${name}" not found`);
  }
  const values = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(obj.data ?? {})) values.set(k, kind === 'secrets' ? Buffer.from(v, 'base64') : Buffer.from(v));
  for (const [k, v] of Object.entries(obj.binaryData ?? {})) values.set(k, Buffer.from(v, 'base64'));
  for (const item of items ?? [...values.keys()].map((key) => ({ key, path: key }))) {
    const content = values.get(item.key);
    if (!content) {
      if (optional) continue;
      throw new Error(kind === 'secrets' ? `references non-existent secret key: ${item.key}` : `configmap references non-existent config key: ${item.key}`);
    }
    files.set(item.path, { content, mode: (item as KeyToPath).mode ?? mode });
  }
}

function addDownward(files: Files, pod: Pod, items: DownwardItem[], mode: number): void {
  for (const item of items) {
    if (!item.fieldRef) continue;
    const value = fieldValue(pod, item.fieldRef.fieldPath, { hostIPs: [], podIPs: [] }) ?? '';
    files.set(item.path, { content: Buffer.from(value), mode: item.mode ?? mode });
  }
}

/** A token for the pod's service account, bound to the pod (TokenRequest; the node may ask only for its own pods). */
async function requestToken(api: KubeApi, pod: Pod, s: { audience?: string; expirationSeconds?: number }): Promise<string> {
  const sa = pod.spec.serviceAccountName || 'default';
  const r = await api.call('POST', `/api/v1/namespaces/${encodeURIComponent(pod.metadata.namespace)}/serviceaccounts/${encodeURIComponent(sa)}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {
      audiences: s.audience ? [s.audience] : [],
      expirationSeconds: s.expirationSeconds ?? 3607,
      boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
    },
  });
  expectOk(r, `request a token for ${pod.metadata.namespace}/${sa}`);
  return (JSON.parse(r.body) as { status: { token: string } }).status.token;
}

/** Writes the files into a new directory beside `dir`, then swaps it in, so a container never sees half of them. */
async function writeAtomically(dir: string, files: Files): Promise<void> {
  const next = `${dir}.new-${process.pid}`;
  await rm(next, { recursive: true, force: true });
  await mkdir(next, { recursive: true, mode: 0o755 });
  for (const [rel, f] of files) {
    const target = path.join(next, rel);
    if (!target.startsWith(`${next}/`)) throw new Error(`volume path ${rel} leaves the volume`);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, f.content, { mode: f.mode });
    await chmod(target, f.mode);
  }
  await rm(dir, { recursive: true, force: true });
  await rename(next, dir);
}
