import { isPlainObject, JsonObject, KubeObject, ResourceType } from '@cerulean/kube';
import type { RestStorage } from './rest';

/**
 * The ServiceAccount admission plugin's image pull secrets: a pod created without `imagePullSecrets` gets those of its
 * service account, copied into the pod at create time (the kubelet reads only the pod's). Later changes to the service
 * account do not reach existing pods, as upstream. A service account that does not exist adds nothing here.
 */
export async function admitPodServiceAccount(pod: KubeObject, storage: RestStorage): Promise<void> {
  const spec = pod.spec;
  if (!isPlainObject(spec)) return;
  const own = spec.imagePullSecrets;
  if (Array.isArray(own) && own.length > 0) return;
  const name = typeof spec.serviceAccountName === 'string' && spec.serviceAccountName ? spec.serviceAccountName : 'default';
  const rt = storage.registry.lookup('', 'v1', 'serviceaccounts') as ResourceType | undefined;
  if (!rt) return;
  const sa = await storage.tryGet(rt, pod.metadata.namespace, name);
  const refs = (sa?.obj as JsonObject | undefined)?.imagePullSecrets;
  if (!Array.isArray(refs) || refs.length === 0) return;
  spec.imagePullSecrets = refs.filter(isPlainObject).map((r) => ({ name: r.name }));
}
