import { request, type RequestOptions } from 'node:https';
import { text as readText } from 'node:stream/consumers';
import { Env } from '@cerulean/config';
import { ArmError } from '@cerulean/arm';
import { ClusterCredentialRepository, ClusterCredentials, ManagedClusterEntity, QUARANTINED, UPGRADE_STATUS_LABEL } from '@cerulean/domain';
import { Injectable, Logger } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';

const REQUEST_TIMEOUT_MS = 3_000;
const DRAIN_POLL_MS = 1_000;
/** How soon a wait for a node's readiness asks again when the cluster's API server did not answer or its watch ended. */
const NODE_READY_RETRY_MS = 100;
/**
 * The longest one watch of a node's readiness runs before the wait lists the node again: an event the watch never
 * delivers (a control plane that restarted under it) then costs this long, not the whole node-ready timeout.
 */
const NODE_READY_WATCH_SECONDS = 10;
/** How long past its timeoutSeconds a watch may stay open before the client ends it itself (the server went quiet). */
const WATCH_GRACE_MS = 5_000;
/** How long a drain waits for an API server that does not answer before it goes on without it. */
const DRAIN_UNREACHABLE_MS = 60_000;

interface DrainPod {
  metadata: {
    name: string;
    namespace: string;
    deletionTimestamp?: string;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; controller?: boolean }[];
  };
  status?: { phase?: string };
}

/** What a drain moves off a node: everything but DaemonSet pods (they belong there) and mirror pods (static). */
function mustLeave(pod: DrainPod): boolean {
  if (pod.metadata.annotations?.['kubernetes.io/config.mirror']) return false;
  return !(pod.metadata.ownerReferences ?? []).some((o) => o.controller && o.kind === 'DaemonSet');
}

/** A request to a cluster's Kubernetes API on its published port, as its admin (like kubectl): a new TLS connection. */
function adminRequestOptions(
  host: string,
  port: number,
  fqdn: string,
  creds: Pick<ClusterCredentials, 'ca' | 'admin'>,
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
): RequestOptions {
  return {
    host,
    port,
    path,
    method,
    headers: { accept: 'application/json', 'user-agent': 'cerulean-worker', ...headers },
    servername: fqdn,
    ca: creds.ca.certPem,
    cert: creds.admin.certPem,
    key: creds.admin.keyPem,
    agent: false,
  };
}

/** One call to a cluster's Kubernetes API on its published port, with the cluster's admin certificate (like kubectl). */
export function kubeRequest(
  host: string,
  port: number,
  fqdn: string,
  creds: Pick<ClusterCredentials, 'ca' | 'admin'>,
  method: string,
  path: string,
  body?: { json: unknown; contentType?: string },
): Promise<{ status: number; body: string }> {
  const text = body === undefined ? undefined : JSON.stringify(body.json);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...adminRequestOptions(
          host,
          port,
          fqdn,
          creds,
          method,
          path,
          text === undefined ? {} : { 'content-type': body?.contentType ?? 'application/json', 'content-length': Buffer.byteLength(text) },
        ),
        timeout: REQUEST_TIMEOUT_MS,
      },
      // text() rejects when the connection drops mid-answer (a control plane restarting): a bare 'end' listener would
      // wait for ever, as Node does not emit an answer's 'error' to no listener.
      (res) => readText(res).then((body) => resolve({ status: res.statusCode ?? 0, body }), reject),
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(text);
  });
}

interface KubeNode {
  status?: { conditions?: { type: string; status: string; reason?: string }[] };
}

interface WatchEvent {
  type: string;
  object?: KubeNode;
}

/**
 * A watch on a cluster's Kubernetes API (`path` asks for one, with the admin certificate): resolves true as soon as an
 * event satisfies `done`, false when the watch ends first (its timeoutSeconds, an ERROR event, a closed connection, or
 * `maxMs`: a server that went quiet without closing it). Rejects when it cannot be opened; `signal` ends it.
 */
export function kubeWatchUntil(
  host: string,
  port: number,
  fqdn: string,
  creds: Pick<ClusterCredentials, 'ca' | 'admin'>,
  path: string,
  done: (event: WatchEvent) => boolean,
  signal: AbortSignal | undefined,
  maxMs: number,
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const cutOff = setTimeout(() => finish(false), maxMs);
    const finish = (result: boolean | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(cutOff);
      signal?.removeEventListener('abort', abort);
      req.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const abort = (): void => finish(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    const req = request(adminRequestOptions(host, port, fqdn, creds, 'GET', path), (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return finish(new Error(`watch answered HTTP ${res.statusCode}`));
      }
      // Until the first event the connection is idle, and an answer that started may stall: REQUEST_TIMEOUT_MS bounds
      // opening it, the server's timeoutSeconds bounds the rest.
      req.setTimeout(0);
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          let event: WatchEvent;
          try {
            event = JSON.parse(line) as WatchEvent;
          } catch {
            return finish(new Error(`watch sent a line that is not JSON: ${line.slice(0, 100)}`));
          }
          if (event.type === 'ERROR') return finish(false);
          if (done(event)) return finish(true);
        }
      });
      res.on('end', () => finish(false));
      res.on('error', (err) => finish(err));
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => finish(new Error('timed out')));
    req.on('error', (err) => finish(err));
    if (signal?.aborted) return abort();
    signal?.addEventListener('abort', abort, { once: true });
    req.end();
  });
}

/** One request to a cluster's Kubernetes API (see KubeApiClient.caller). */
export type KubeCall = (method: string, path: string, body?: { json: unknown; contentType?: string }) => Promise<{ status: number; body: string }>;

/** The platform's side of a cluster's Kubernetes API: what the cloud's node controller does there. */
@Injectable()
export class KubeApiClient {
  private readonly logger = new Logger(KubeApiClient.name);

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly credentials: ClusterCredentialRepository,
    private readonly env: Env,
  ) {}

  /**
   * A caller of the cluster's Kubernetes API with its admin certificate; undefined when the cluster has no API server
   * port or no credentials (nothing to call). Every call reads the cluster's port and credentials afresh: a caller may
   * outlive a certificate rotation or a port move (a runCommand waiting on its pod does not hold the cluster's lock),
   * and with the old CA or port it would ask in vain until its deadline, 5 minutes for a command.
   */
  async caller(cluster: Pick<ManagedClusterEntity, 'id' | 'fqdn'>): Promise<KubeCall | undefined> {
    if (!(await this.endpoint(cluster.id))) return undefined;
    return async (method, path, body) => {
      const now = await this.endpoint(cluster.id);
      if (!now) throw new Error('the cluster has no Kubernetes API any more');
      return kubeRequest(this.env.NODE_PUBLISH_HOST, now.port, cluster.fqdn, now.creds, method, path, body);
    };
  }

  /** The cluster's API server port and credentials as they are now; undefined when it has either no more. */
  private async endpoint(clusterId: string): Promise<{ port: number; creds: ClusterCredentials } | undefined> {
    const row = await this.db.findOne(ManagedClusterEntity, { where: { id: clusterId }, select: { id: true, apiServerPort: true } });
    if (row?.apiServerPort === null || row?.apiServerPort === undefined) return undefined;
    const creds = await this.credentials.load(this.db, clusterId);
    return creds && { port: row.apiServerPort, creds };
  }

  /**
   * Deletes removed nodes' Node objects and Leases at once, as AKS's cloud node controller does for a deleted VM, so no
   * NotReady ghost stays behind. Best effort: a control plane that does not answer (stopped, being replaced) is
   * logged, not fatal to the operation that removed the node.
   */
  async deleteNodes(cluster: Pick<ManagedClusterEntity, 'id' | 'name' | 'fqdn' | 'apiServerPort'>, names: string[]): Promise<void> {
    if (names.length === 0 || cluster.apiServerPort === null) return;
    const creds = await this.credentials.load(this.db, cluster.id);
    if (!creds) return;
    for (const name of names) {
      // Upstream's pod GC deletes the pods of a Node that is gone (after a quarantine): here the machine is gone for
      // sure, so they go at once, with no grace period (there is no kubelet left to stop them).
      await this.deletePodsBoundTo(cluster, creds, name);
      for (const path of [
        `/api/v1/nodes/${encodeURIComponent(name)}`,
        `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${encodeURIComponent(name)}`,
      ]) {
        try {
          const r = await kubeRequest(this.env.NODE_PUBLISH_HOST, cluster.apiServerPort, cluster.fqdn, creds, 'DELETE', path);
          if (r.status >= 300 && r.status !== 404) this.logger.warn(`DELETE ${path} on cluster ${cluster.name}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
        } catch (err) {
          this.logger.warn(`DELETE ${path} on cluster ${cluster.name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
  }

  private async deletePodsBoundTo(
    cluster: Pick<ManagedClusterEntity, 'name' | 'fqdn' | 'apiServerPort'>,
    creds: ClusterCredentials,
    node: string,
  ): Promise<void> {
    const call = (method: string, path: string, body?: { json: unknown }) =>
      kubeRequest(this.env.NODE_PUBLISH_HOST, cluster.apiServerPort as number, cluster.fqdn, creds, method, path, body);
    try {
      const listed = await call('GET', `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`);
      if (listed.status >= 300) throw new Error(`list pods: HTTP ${listed.status} ${listed.body.slice(0, 200)}`);
      for (const pod of (JSON.parse(listed.body) as { items: DrainPod[] }).items) {
        const path = `/api/v1/namespaces/${encodeURIComponent(pod.metadata.namespace)}/pods/${encodeURIComponent(pod.metadata.name)}`;
        const r = await call('DELETE', path, { json: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 } });
        if (r.status >= 300 && r.status !== 404) this.logger.warn(`DELETE ${path} on cluster ${cluster.name}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
      }
    } catch (err) {
      this.logger.warn(`deleting the pods of node ${node} on cluster ${cluster.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /**
   * Cordons a node and evicts its pods through the eviction API, as AKS drains a node it is about to replace or remove
   * (kubectl drain --ignore-daemonsets --delete-emptydir-data --force): DaemonSet pods and mirror pods stay, finished
   * pods are deleted, the others are evicted, so PodDisruptionBudgets hold (a refused eviction, 429, is tried again).
   * Returns once no such pod is left on the node. Past `deadline` it fails with AKS's PodDrainFailure. A control plane
   * that does not answer for a while (being replaced, stopped) or a node that is not registered leaves nothing to drain.
   */
  async drainNode(
    cluster: Pick<ManagedClusterEntity, 'id' | 'name' | 'fqdn' | 'apiServerPort'>,
    node: string,
    deadline: number,
    pause: (ms: number) => Promise<void>,
  ): Promise<void> {
    if (cluster.apiServerPort === null) return;
    const creds = await this.credentials.load(this.db, cluster.id);
    if (!creds) return;
    const call = (method: string, path: string, body?: { json: unknown; contentType?: string }) =>
      kubeRequest(this.env.NODE_PUBLISH_HOST, cluster.apiServerPort as number, cluster.fqdn, creds, method, path, body);
    const nodePath = `/api/v1/nodes/${encodeURIComponent(node)}`;
    let unreachableSince: number | undefined;
    let cordoned = false;
    let blocked = '';
    for (;;) {
      try {
        if (!cordoned) {
          const r = await call('PATCH', nodePath, { json: { spec: { unschedulable: true } }, contentType: 'application/merge-patch+json' });
          if (r.status === 404) return; // never registered, or gone already: nothing can be on it
          if (r.status >= 300) throw new Error(`cordon: HTTP ${r.status} ${r.body.slice(0, 200)}`);
          cordoned = true;
        }
        const listed = await call('GET', `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`);
        if (listed.status >= 300) throw new Error(`list pods: HTTP ${listed.status} ${listed.body.slice(0, 200)}`);
        unreachableSince = undefined;
        const pods = (JSON.parse(listed.body) as { items: DrainPod[] }).items.filter(mustLeave);
        if (pods.length === 0) return;
        blocked = '';
        for (const pod of pods) {
          if (pod.metadata.deletionTimestamp) continue; // on its way out: its kubelet finishes it
          const podPath = `/api/v1/namespaces/${encodeURIComponent(pod.metadata.namespace)}/pods/${encodeURIComponent(pod.metadata.name)}`;
          const finished = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
          const r = finished
            ? await call('DELETE', podPath)
            : await call('POST', `${podPath}/eviction`, {
                json: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace } },
              });
          if (r.status === 429) blocked = `${pod.metadata.namespace}/${pod.metadata.name}`;
          else if (r.status >= 300 && r.status !== 404)
            this.logger.warn(`drain ${node}: ${finished ? 'delete' : 'evict'} ${pod.metadata.name}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
        }
      } catch (err) {
        const now = Date.now();
        unreachableSince ??= now;
        if (now - unreachableSince > DRAIN_UNREACHABLE_MS) {
          this.logger.warn(`drain ${node} on cluster ${cluster.name}: the API server does not answer (${(err as Error).message}); going on undrained`);
          return;
        }
      }
      if (Date.now() > deadline) {
        throw new ArmError(
          500,
          'PodDrainFailure',
          blocked
            ? `Drain node ${node} failed when evicting pod ${blocked} failed with Too Many Requests error. This is often caused by a restrictive Pod Disruption Budget (PDB) policy.`
            : `Drain node ${node} failed: its pods did not leave within the drain timeout.`,
        );
      }
      await pause(DRAIN_POLL_MS);
    }
  }

  /** Makes a node schedulable again (a drain that was stopped), out of quarantine if it was in; best effort. */
  async uncordon(cluster: Pick<ManagedClusterEntity, 'id' | 'name' | 'fqdn' | 'apiServerPort'>, node: string): Promise<void> {
    if (cluster.apiServerPort === null) return;
    const creds = await this.credentials.load(this.db, cluster.id);
    if (!creds) return;
    await kubeRequest(this.env.NODE_PUBLISH_HOST, cluster.apiServerPort, cluster.fqdn, creds, 'PATCH', `/api/v1/nodes/${encodeURIComponent(node)}`, {
      json: { metadata: { labels: { [UPGRADE_STATUS_LABEL]: null } }, spec: { unschedulable: null } },
      contentType: 'application/merge-patch+json',
    }).catch((err: unknown) => this.logger.warn(`uncordon ${node}: ${(err as Error).message}`));
  }

  /**
   * Quarantines a node an upgrade could not drain (undrainableNodeBehavior Cordon): it stays cordoned with its pods and
   * gets AKS's `kubernetes.azure.com/upgrade-status=Quarantined` label, which is also how later operations know it is
   * no member of its pool's count. Fails when the API server does not take it: an unlabelled node would count again.
   */
  async quarantine(cluster: Pick<ManagedClusterEntity, 'id' | 'name' | 'fqdn' | 'apiServerPort'>, node: string): Promise<void> {
    const call = await this.caller(cluster);
    if (!call) throw new Error(`cluster ${cluster.name} has no Kubernetes API to quarantine node ${node} in`);
    const r = await call('PATCH', `/api/v1/nodes/${encodeURIComponent(node)}`, {
      json: { metadata: { labels: { [UPGRADE_STATUS_LABEL]: QUARANTINED } }, spec: { unschedulable: true } },
      contentType: 'application/merge-patch+json',
    });
    if (r.status >= 300) throw new Error(`quarantine ${node}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
  }

  /**
   * The names of the cluster's quarantined nodes. Best effort, as the other calls here: a control plane that is stopped
   * or being replaced answers none (logged), and its quarantined nodes then count as members of their pool once.
   */
  async quarantinedNodes(cluster: Pick<ManagedClusterEntity, 'id' | 'name' | 'fqdn' | 'apiServerPort'>): Promise<string[]> {
    const call = await this.caller(cluster);
    if (!call) return [];
    const selector = encodeURIComponent(`${UPGRADE_STATUS_LABEL}=${QUARANTINED}`);
    let r: { status: number; body: string };
    try {
      r = await call('GET', `/api/v1/nodes?labelSelector=${selector}`);
      if (r.status >= 300) throw new Error(`HTTP ${r.status} ${r.body.slice(0, 200)}`);
    } catch (err) {
      this.logger.warn(`listing the quarantined nodes of cluster ${cluster.name}: ${(err as Error).message}`);
      return [];
    }
    const items = (JSON.parse(r.body) as { items: { metadata: { name: string; labels?: Record<string, string> } }[] }).items;
    return items.filter((n) => n.metadata.labels?.[UPGRADE_STATUS_LABEL] === QUARANTINED).map((n) => n.metadata.name);
  }

  /**
   * Waits until the node's Node object says Ready=True, as AKS reports a node pool Succeeded only once its nodes are
   * Ready in Kubernetes (the agent registers the node through the API right after it starts). Fails with
   * NodesNotReady at `deadline`.
   */
  async waitNodeReady(
    cluster: Pick<ManagedClusterEntity, 'id' | 'name' | 'fqdn' | 'apiServerPort'>,
    node: string,
    deadline: number,
    signal?: AbortSignal,
  ): Promise<void> {
    if (cluster.apiServerPort === null) return;
    const creds = await this.credentials.load(this.db, cluster.id);
    if (!creds) return;
    const port = cluster.apiServerPort;
    const selector = `fieldSelector=${encodeURIComponent(`metadata.name=${node}`)}`;
    let last = 'no answer yet';
    /** A watch ended without the event: if the next list shows the node Ready, the watch missed it (logged). */
    let watchedInVain = false;
    const readiness = (n: KubeNode | undefined): boolean => {
      const ready = n?.status?.conditions?.find((c) => c.type === 'Ready');
      last = !n ? 'not registered' : ready ? `Ready=${ready.status} (${ready.reason ?? ''})` : 'no Ready condition yet';
      return ready?.status === 'True';
    };
    for (;;) {
      signal?.throwIfAborted();
      try {
        // A list of the one node gives its state and where to watch it from; the watch then reports its change at once.
        const r = await kubeRequest(this.env.NODE_PUBLISH_HOST, port, cluster.fqdn, creds, 'GET', `/api/v1/nodes?${selector}`);
        if (r.status === 200) {
          const list = JSON.parse(r.body) as { metadata: { resourceVersion: string }; items: KubeNode[] };
          if (readiness(list.items[0])) {
            if (watchedInVain) this.logger.warn(`node ${node} of cluster ${cluster.name} is Ready, which its watch never told`);
            return;
          }
          const seconds = Math.max(1, Math.min(NODE_READY_WATCH_SECONDS, Math.ceil((deadline - Date.now()) / 1000)));
          const path = `/api/v1/nodes?watch=1&${selector}&resourceVersion=${list.metadata.resourceVersion}&allowWatchBookmarks=false&timeoutSeconds=${seconds}`;
          const ready = (e: WatchEvent) => e.type !== 'DELETED' && readiness(e.object);
          if (await kubeWatchUntil(this.env.NODE_PUBLISH_HOST, port, cluster.fqdn, creds, path, ready, signal, seconds * 1000 + WATCH_GRACE_MS)) return;
          watchedInVain = true;
        } else {
          last = `HTTP ${r.status}`;
        }
      } catch (err) {
        signal?.throwIfAborted();
        last = (err as Error).message;
      }
      if (Date.now() > deadline) {
        throw new ArmError(500, 'NodesNotReady', `Node ${node} did not become Ready in the cluster's Kubernetes API: ${last}.`);
      }
      // The API server is not up yet (a create starts it beside the nodes), or the watch ended: again shortly.
      await new Promise((r) => setTimeout(r, NODE_READY_RETRY_MS));
    }
  }
}
