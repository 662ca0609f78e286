import {
  claimHasStorageClass,
  claimStorageClass,
  isDefaultStorageClass,
  isPlainObject,
  JsonObject,
  KubeError,
  KubeObject,
  milliOf,
  ResourceType,
} from '@cerulean/kube';
import type { RestStorage } from './rest';

/** The finalizers StorageObjectInUseProtection puts on every new claim and volume (their protection controllers remove them). */
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';

const asObj = (v: unknown): JsonObject => (isPlainObject(v) ? v : {});
const storageClassType = (storage: RestStorage) => storage.registry.lookup('storage.k8s.io', 'v1', 'storageclasses') as ResourceType;

/** storageutil.GetDefaultClass: of the classes marked default, the newest (by name when created the same instant). */
export function defaultStorageClass(classes: KubeObject[]): KubeObject | undefined {
  const created = (sc: KubeObject) => Date.parse(String(sc.metadata.creationTimestamp ?? '')) || 0;
  return classes.filter(isDefaultStorageClass).sort((a, b) => created(b) - created(a) || String(a.metadata.name).localeCompare(String(b.metadata.name)))[0];
}

/**
 * Upstream's DefaultStorageClass admission (claims being created): a claim that asks for no class at all (neither
 * spec.storageClassName, not even "", nor the beta annotation) gets the default class, when there is one.
 */
export async function admitDefaultStorageClass(claim: KubeObject, storage: RestStorage): Promise<void> {
  if (claimHasStorageClass(claim)) return;
  const chosen = defaultStorageClass(await storage.all(storageClassType(storage)));
  if (chosen) claim.spec = { ...asObj(claim.spec), storageClassName: chosen.metadata.name };
}

/** Upstream's StorageObjectInUseProtection admission: a new claim or volume carries its protection finalizer. */
export function admitStorageProtection(kind: string, obj: KubeObject): void {
  const finalizer = kind === 'PersistentVolumeClaim' ? PVC_PROTECTION_FINALIZER : kind === 'PersistentVolume' ? PV_PROTECTION_FINALIZER : undefined;
  if (!finalizer) return;
  const finalizers = obj.metadata.finalizers ?? [];
  if (!finalizers.includes(finalizer)) obj.metadata.finalizers = [...finalizers, finalizer];
}

/**
 * Upstream's PersistentVolumeClaimResize admission (claim updates): a larger storage request needs a bound claim whose
 * class, unchanged, allows volume expansion; else 403.
 */
export async function admitClaimResize(claim: KubeObject, old: KubeObject, storage: RestStorage): Promise<void> {
  const size = (c: KubeObject) => milliOf(String(asObj(asObj(asObj(c.spec).resources).requests).storage ?? '0'));
  if (size(claim) <= size(old)) return;
  const name = String(claim.metadata.name);
  const refuse = (why: string) =>
    new KubeError(403, 'Forbidden', `persistentvolumeclaims ${JSON.stringify(name)} is forbidden: ${why}`, { name, group: '', kind: 'persistentvolumeclaims' });
  if (asObj(old.status).phase !== 'Bound') throw refuse('Only bound persistent volume claims can be expanded');
  const className = claimStorageClass(claim);
  const sc = className && className === claimStorageClass(old) ? await storage.lookup(storageClassType(storage), undefined, className) : undefined;
  if (sc?.allowVolumeExpansion !== true)
    throw refuse('only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize');
}
