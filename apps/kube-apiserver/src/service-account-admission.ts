import { randomBytes, randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPlainObject, JsonObject, KubeError, KubeObject, ResourceType } from '@cerulean/kube';
import type { RestStorage } from './rest';

/** Where every container finds its service account's token, CA and namespace (in-cluster clients read it there). */
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const TOKEN_VOLUME_PREFIX = 'kube-api-access-';
/** Upstream's bound token lifetime for the automounted volume (an hour and 7 s: the kubelet refreshes it before). */
const TOKEN_EXPIRATION_SECONDS = 3607;
/** Upstream's rand.String alphabet (no vowels, no look-alikes). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * The ServiceAccount admission plugin, at pod create:
 * - `serviceAccountName` defaults to `default`;
 * - a pod without `imagePullSecrets` gets those of its service account (the kubelet reads only the pod's); later
 *   changes to the service account do not reach existing pods, as upstream;
 * - unless `automountServiceAccountToken` is false (the pod's, else the service account's), the pod gets upstream's
 *   `kube-api-access-<5>` projected volume (a bound token, `kube-root-ca.crt`'s `ca.crt`, the namespace) mounted
 *   read-only at SERVICE_ACCOUNT_MOUNT_PATH in every container that mounts nothing there itself.
 * A pod whose service account does not exist is refused (403), as upstream: the `default` one is looked up for
 * about a second first, since the service account controller makes it just after its namespace.
 */
export async function admitPodServiceAccount(pod: KubeObject, storage: RestStorage, shownName: string): Promise<void> {
  const spec = pod.spec;
  if (!isPlainObject(spec)) return;
  // Mirror pods (static pods' API copies) are the kubelet's: left as they are.
  if (isPlainObject(pod.metadata.annotations) && pod.metadata.annotations['kubernetes.io/config.mirror'] !== undefined) return;
  if (typeof spec.serviceAccountName !== 'string' || !spec.serviceAccountName) spec.serviceAccountName = 'default';
  const sa = await serviceAccountOf(storage, pod.metadata.namespace ?? '', spec.serviceAccountName as string, shownName);
  const own = spec.imagePullSecrets;
  const refs = sa?.imagePullSecrets;
  if (!(Array.isArray(own) && own.length > 0) && Array.isArray(refs) && refs.length > 0) {
    spec.imagePullSecrets = refs.filter(isPlainObject).map((r) => ({ name: r.name }));
  }
  const automount = typeof spec.automountServiceAccountToken === 'boolean' ? spec.automountServiceAccountToken : sa?.automountServiceAccountToken !== false;
  if (automount) mountServiceAccountToken(spec);
}

/** Upstream's plugin: 10 tries 100–200 ms apart for `default`, one for any other. */
const DEFAULT_ACCOUNT_TRIES = 10;

async function serviceAccountOf(storage: RestStorage, namespace: string, name: string, shownName: string): Promise<JsonObject> {
  const rt = storage.registry.lookup('', 'v1', 'serviceaccounts') as ResourceType;
  const interval = 100 + randomInt(100);
  for (let tries = name === 'default' ? DEFAULT_ACCOUNT_TRIES : 1; tries > 0; tries--) {
    const sa = (await storage.lookup(rt, namespace, name)) as JsonObject | undefined;
    if (sa) return sa;
    if (tries > 1) await sleep(interval);
  }
  throw new KubeError(
    403,
    'Forbidden',
    `pods ${JSON.stringify(shownName)} is forbidden: error looking up service account ${namespace}/${name}: serviceaccount ${JSON.stringify(name)} not found`,
    { name: shownName, kind: 'pods' },
  );
}

function mountServiceAccountToken(spec: JsonObject): void {
  const volumes = (Array.isArray(spec.volumes) ? spec.volumes : []).filter(isPlainObject);
  let name = volumes.map((v) => String(v.name ?? '')).find((n) => n.startsWith(TOKEN_VOLUME_PREFIX));
  if (!name) {
    const taken = new Set(volumes.map((v) => String(v.name ?? '')));
    do name = TOKEN_VOLUME_PREFIX + randomSuffix();
    while (taken.has(name));
    spec.volumes = [
      ...(Array.isArray(spec.volumes) ? spec.volumes : []),
      {
        name,
        projected: {
          defaultMode: 0o644,
          sources: [
            { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      },
    ];
  }
  for (const list of [spec.initContainers, spec.containers]) {
    for (const c of (Array.isArray(list) ? list : []).filter(isPlainObject)) {
      const mounts = Array.isArray(c.volumeMounts) ? c.volumeMounts : [];
      if (mounts.some((m) => isPlainObject(m) && m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) continue;
      c.volumeMounts = [...mounts, { name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
    }
  }
}

function randomSuffix(): string {
  return Array.from(randomBytes(5), (b) => SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length]).join('');
}
