import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONTROL_PLANE_API_PORT,
  CONTROL_PLANE_HEARTBEAT_PORT,
  CONTROL_PLANE_PKI_DIR,
  ControlPlane,
  createApiServer,
  createHeartbeatServer,
} from './control-plane';
import { ETCD_BINARY, ETCD_CLIENT_URL, etcdChild, KUBE_APISERVER_MAIN, kubeApiServerChild } from './control-plane-processes';
import { etcdHealthy } from '../../kube-apiserver/src/storage/etcd-health';
import { internalIp } from './kube-node';
import { jsonLog } from './server';
import { type Closable, onShutdown } from './shutdown';
import { SupervisedChild, waitUntil } from './supervisor';

const ETCD_READY_TIMEOUT_MS = 60_000;

/**
 * CERULEAN_ROLE=control-plane (same image as the nodes): a supervisor for the cluster's etcd and Kubernetes API
 * server. etcd starts first (loopback only, data on the cluster's volume); once it is healthy the API server starts
 * on :6443. Either is restarted with back-off when it dies; SIGTERM stops the API server, then etcd. Unless the
 * platform asks for the API server (CERULEAN_CONTROL_PLANE_API=kube-apiserver) and the image has its bundle, the
 * agent's own small API serves :6443 instead. The heartbeat endpoint stays
 * until node agents register through the Kubernetes API.
 */
export function runControlPlane(): void {
  const text = (key: string) => process.env[key]?.trim() ?? '';
  const cp = new ControlPlane({
    cluster: text('CERULEAN_CLUSTER'),
    clusterId: text('CERULEAN_CLUSTER_ID'),
    kubernetesVersion: text('CERULEAN_KUBERNETES_VERSION'),
  });
  let tls;
  try {
    const file = (name: string) => readFileSync(join(CONTROL_PLANE_PKI_DIR, name), 'utf8');
    tls = { ca: file('ca.crt'), cert: file('apiserver.crt'), key: file('apiserver.key') };
  } catch (err) {
    jsonLog({ msg: 'cannot read the API server certificates', dir: CONTROL_PLANE_PKI_DIR, error: String(err) });
    process.exit(1);
  }
  const heartbeats = createHeartbeatServer(cp, jsonLog);
  heartbeats.listen(CONTROL_PLANE_HEARTBEAT_PORT);
  const servers: Closable[] = [heartbeats];
  const etcd = existsSync(ETCD_BINARY) ? new SupervisedChild(etcdChild(), jsonLog) : undefined;
  const apiServer =
    existsSync(KUBE_APISERVER_MAIN) && text('CERULEAN_CONTROL_PLANE_API') === 'kube-apiserver'
      ? new SupervisedChild(
          kubeApiServerChild({
            cluster: cp.config.cluster,
            kubernetesVersion: cp.config.kubernetesVersion,
            podCidr: text('CERULEAN_POD_CIDR') || undefined,
            serviceCidr: text('CERULEAN_SERVICE_CIDR') || undefined,
            dnsServiceIp: text('CERULEAN_DNS_SERVICE_IP') || undefined,
            advertiseAddress: internalIp(),
          }),
          jsonLog,
        )
      : undefined;
  if (!apiServer) {
    const api = createApiServer(cp, tls, jsonLog);
    api.listen(CONTROL_PLANE_API_PORT, () => jsonLog({ msg: 'control plane listening', port: CONTROL_PLANE_API_PORT, cluster: cp.config.cluster }));
    servers.push(api);
  }
  // Within `docker stop`'s 10 s: etcd must close its database cleanly, after the API server has let go of it.
  onShutdown(
    servers,
    async () => {
      await apiServer?.stop();
      await etcd?.stop();
    },
    9_000,
  );
  if (!etcd) return;
  // Both at once: the API server loads its program while etcd starts, and waits for etcd's health itself.
  etcd.start();
  apiServer?.start();
  waitUntil('etcd', () => etcdHealthy(ETCD_CLIENT_URL), ETCD_READY_TIMEOUT_MS)
    .then(() => jsonLog({ msg: 'etcd healthy', pid: etcd.pid }))
    .catch((err: unknown) => {
      // Docker's restart policy brings the container back; the volume keeps whatever etcd had.
      jsonLog({ msg: 'etcd did not become healthy: exiting', error: String(err) });
      void Promise.all([apiServer?.stop(), etcd.stop()]).finally(() => process.exit(1));
    });
}
