import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml } from 'yaml';
import { KubeClient } from '../../apps/kube-controller-manager/src/client/kube-client';
import type { HttpsClient } from './https-client';

interface KubeconfigDoc {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
}

const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');

/**
 * A client of a cluster's Kubernetes API with its admin credential (as `az aks get-credentials --admin` gives it).
 * Asked afresh each time: a certificate rotation replaces the credential.
 */
export async function adminKubeClient(http: HttpsClient, clusterPath: string, apiVersion: string): Promise<KubeClient> {
  const creds = await http.expect<{ kubeconfigs: { value: string }[] }>([200], 'POST', `${clusterPath}/listClusterAdminCredential?api-version=${apiVersion}`);
  const doc = parseYaml(decode(creds.body.kubeconfigs[0].value)) as KubeconfigDoc;
  // The kubeconfig names the cluster's FQDN under *.localhost; the serving certificate also covers 127.0.0.1.
  const port = new URL(doc.clusters[0].cluster.server).port;
  return new KubeClient({
    server: `https://127.0.0.1:${port}`,
    ca: decode(doc.clusters[0].cluster['certificate-authority-data']),
    cert: decode(doc.users[0].user['client-certificate-data']),
    key: decode(doc.users[0].user['client-key-data']),
    userAgent: 'cerulean-bench',
  });
}

/** Pods need a service account in their namespace: waits for the controllers to have made `default`'s. */
export async function waitForDefaultServiceAccount(client: KubeClient, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await client.get('/api/v1/namespaces/default/serviceaccounts/default').then(
      () => true,
      () => false,
    ))
  ) {
    if (Date.now() > deadline) throw new Error(`no default service account after ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}
