import type { Server } from 'node:https';
import { KUBE_API_URL, NODE_KUBE_DIR, type KubeClientTls } from '../kube-node';
import type { LogLine } from '../server';
import { webhookAuthorizer } from './authorizer';
import type { ExecContainerLocator, ExecRuntime } from './exec';
import { directoryLogLocator, type ContainerLogLocator } from './locator';
import { KUBELET_SERVER_PORT } from './port';
import type { PortForwardLocator } from './port-forward';
import { createKubeletServer, readKubeletServingTls } from './server';

export { KUBELET_SERVER_PORT } from './port';
export type { ContainerLogLocator, ContainerLogRef, LocatedLog, LogNotFound } from './locator';
export { containerMissing, directoryLogLocator, noPrevious, notAvailable, podMissing, POD_LOGS_ROOT } from './locator';
export { apiServerOnly, createKubeletServer, readKubeletServingTls } from './server';
export { webhookAuthorizer } from './authorizer';
export { readResourceUsage, renderResourceMetrics } from './resource-metrics';
export type { ExecContainer, ExecContainerLocator, ExecContainerRef, ExecRuntime } from './exec';
export type { PortForwardLocator, PortForwardRefused, PortForwardTarget } from './port-forward';

export interface KubeletServerSetup {
  nodeName: string;
  /** The node's client credential (node.crt): the kubelet asks the API server about its callers with it. */
  nodeTls: KubeClientTls;
  /** How container logs are found; the directory scan under /var/log/pods without one. */
  locator?: ContainerLogLocator;
  log: LogLine;
  /** Defaults for a node: NODE_KUBE_DIR, the cluster's API server, KUBELET_SERVER_PORT. */
  kubeDir?: string;
  apiUrl?: string;
  port?: number;
  /** How often a followed log is polled (ms). */
  followPollMs?: number;
  /** `kubectl exec`: finds the running container and runs commands; exec is not served without it. */
  exec?: { locate: ExecContainerLocator; runtime: ExecRuntime };
  /** `kubectl port-forward`: where a pod's ports are reached; not served without it. */
  portForward?: PortForwardLocator;
  /** `GET /metrics/resource` (what metrics-server scrapes); not served without it. */
  resourceMetrics?: () => Promise<string>;
}

/**
 * The node's kubelet HTTPS server, listening; undefined (logged) on a node the platform gave no kubelet serving
 * certificate (made before it issued them). Callers are authorized by SubjectAccessReview, as kubelet's Webhook mode.
 */
export function startKubeletServer(setup: KubeletServerSetup): Server | undefined {
  const tls = readKubeletServingTls(setup.kubeDir ?? NODE_KUBE_DIR, setup.log);
  if (!tls) return undefined;
  const port = setup.port ?? KUBELET_SERVER_PORT;
  const server = createKubeletServer({
    tls,
    locator: setup.locator ?? directoryLogLocator(),
    log: setup.log,
    followPollMs: setup.followPollMs,
    exec: setup.exec,
    portForward: setup.portForward,
    resourceMetrics: setup.resourceMetrics,
    authorize: webhookAuthorizer({ apiUrl: setup.apiUrl ?? KUBE_API_URL, tls: setup.nodeTls, nodeName: setup.nodeName }),
  });
  server.on('error', (err) => setup.log({ msg: 'kubelet server failed', port, error: String(err) }));
  server.listen(port, () => setup.log({ msg: 'kubelet listening', port }));
  return server;
}
