import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { AGENT_PORT, AGENT_TOKEN_PATH, parseAgentConfig } from './agent-config';
import { readCgroupLimits } from './cgroup';
import { DEFAULT_CONTROL_PLANE_URL, startHeartbeat } from './heartbeat';
import { internalIp, KUBE_API_URL, KubeNodeRegistration, NODE_KUBE_DIR, readMachineInfo, realCapacity, type KubeClientTls } from './kube-node';
import { CriClient, DEFAULT_CRI_ENDPOINT } from './kubelet/cri';
import { KubeApi } from './kube-api';
import { Kubelet } from './kubelet/kubelet';
import { computeAllocatable, NodeAgent } from './node-agent';
import { formatMemory, parseQuantity } from './quantity';
import { createAgentServer, jsonLog } from './server';
import { ClusterDnsRecords } from './dns/records';
import { startClusterDns, type ClusterDnsServer } from './dns/server';
import { ListWatch } from './kube-watch';
import { execCommand, PodNetwork, type PodNetworkNode } from './pod-network';
import { readResourceUsage, renderResourceMetrics, startKubeletServer, type ExecRuntime } from './kubelet-server';
import { KubeProxy } from './proxy/kube-proxy';
import { CONTAINERD_SOCKET, ContainerdRuntime, CRI_NAMESPACE, CTR_BINARY, type RuntimeState } from './runtime/containerd';
import { parseRegistryMirrors } from './runtime/registry-hosts';
import { onShutdown } from './shutdown';

/** AKS's defaults, for nodes of clusters made before the platform passed theirs. */
const DEFAULT_CLUSTER_CIDR = '10.244.0.0/16';
const DEFAULT_DNS_SERVICE_IP = '10.0.0.10';
/** Routes are checked this often even without a Node change (someone may have removed one). */
const POD_NETWORK_RESYNC_MS = 30_000;

function defaultCapacity(): Record<string, string> {
  const cgroup = readCgroupLimits();
  return {
    cpu: String(cgroup.cpus ?? os.cpus().length),
    memory: formatMemory(cgroup.memoryMaxBytes ?? os.totalmem()),
    pods: '110',
  };
}

/** The platform's credential for this node, written into the container before it starts (absent: no changes accepted). */
function readAgentToken(): string | undefined {
  const path = process.env.CERULEAN_AGENT_TOKEN_FILE?.trim() || AGENT_TOKEN_PATH;
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch (err) {
    jsonLog({ msg: 'no platform credential: cordon, uncordon and drain are refused', path, error: String(err) });
    return undefined;
  }
}

/** The node's client certificate for the Kubernetes API, written by the platform before start (absent: not registered). */
function readKubeTls(): KubeClientTls | undefined {
  try {
    const file = (name: string) => readFileSync(join(NODE_KUBE_DIR, name), 'utf8');
    return { ca: file('ca.crt'), cert: file('node.crt'), key: file('node.key') };
  } catch (err) {
    jsonLog({ msg: 'no Kubernetes API credential: the node does not register', dir: NODE_KUBE_DIR, error: String(err) });
    return undefined;
  }
}

/**
 * The node's part of the pod network: its CNI config once the Node has a podCIDR, and routes to every other node's
 * pods, kept in line with a watch of the Nodes (and every 30 s). One sync at a time; a failed one is retried.
 */
function startPodNetwork(nodeName: string, clusterCidr: string, tls: KubeClientTls): { stop: () => void } {
  const network = new PodNetwork({ nodeName, clusterCidr, run: execCommand, log: (msg, fields) => jsonLog({ msg, ...fields }) });
  let nodes: PodNetworkNode[] = [];
  let running = false;
  let again = false;
  let force = false;
  const sync = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    const forced = force;
    force = false;
    network
      .sync(
        nodes.find((n) => n.metadata.name === nodeName),
        nodes,
        { force: forced },
      )
      .catch((err: unknown) => jsonLog({ msg: 'pod network sync failed', error: err instanceof Error ? err.message : String(err) }))
      .finally(() => {
        running = false;
        if (again) {
          again = false;
          sync();
        }
      });
  };
  const watch = new ListWatch<PodNetworkNode & { metadata: { name: string } }>({
    path: '/api/v1/nodes',
    api: new KubeApi(tls, KUBE_API_URL, { maxSockets: 2, userAgent: 'cerulean-node-agent' }),
    log: jsonLog,
    onChange: (items) => {
      nodes = items;
      sync();
    },
  });
  watch.start();
  const timer = setInterval(() => {
    force = true;
    sync();
  }, POD_NETWORK_RESYNC_MS);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      watch.stop();
    },
  };
}

/**
 * The cluster DNS on this node at the cluster's dnsServiceIP (added to the node's loopback, so pods' queries are
 * answered on their own node), from kube-proxy's view of Services and EndpointSlices.
 */
async function startNodeDns(address: string, proxy: KubeProxy): Promise<ClusterDnsServer | undefined> {
  try {
    await execCommand(['ip', 'addr', 'replace', `${address}/32`, 'dev', 'lo']);
    const records = new ClusterDnsRecords();
    proxy.onChange((services, slices) => records.update(services, slices));
    return await startClusterDns({ address, records, log: jsonLog });
  } catch (err) {
    jsonLog({ msg: 'cluster DNS failed to start', address, error: err instanceof Error ? err.message : String(err) });
    return undefined;
  }
}

export function runNode(): void {
  const { config, problems } = parseAgentConfig(process.env, { hostname: os.hostname(), capacity: defaultCapacity });
  // Nodes created for a runtime get what nested containers need (libs/node-provider); older ones run no pods.
  const wantsRuntime = process.env.CERULEAN_CONTAINER_RUNTIME?.trim() === 'containerd';
  if (wantsRuntime && !ContainerdRuntime.available()) problems.push('the node image has no containerd: pods cannot run on this node');
  const registry = parseRegistryMirrors(process.env.CERULEAN_REGISTRY_MIRRORS);
  // Only pulls from that registry are affected: logged, not a reason to keep the node NotReady.
  for (const problem of registry.problems) jsonLog({ msg: 'registry mirror ignored', problem });
  const runtime = wantsRuntime && ContainerdRuntime.available() ? new ContainerdRuntime(jsonLog, { registryMirrors: registry.mirrors }) : undefined;
  void runtime?.start();
  // One CRI client, so one gRPC channel to containerd, for the kubelet, `kubectl exec` and the runtime's version.
  const cri = new CriClient(criEndpoint());
  // The Node names its runtime as the CRI reports it (kubelet: `<runtime name>://<version>`). Its first answer is part of
  // the runtime coming up: the node turns Ready with it, so its first Ready status already says which runtime it runs.
  let runtimeVersion = '';
  let versionAsked = false;
  void runtime
    ?.whenServing()
    .then(() => cri.version())
    .then((v) => (runtimeVersion = `${v.runtime_name}://${v.runtime_version}`))
    .catch((err: unknown) => jsonLog({ msg: 'the container runtime did not tell its version', error: err instanceof Error ? err.message : String(err) }))
    .finally(() => (versionAsked = true));
  const runtimeState = (r: ContainerdRuntime): RuntimeState =>
    r.state().ready && !versionAsked ? { ready: false, reason: 'ContainerRuntimeNotReady', message: 'container runtime is starting' } : r.state();
  const agent = new NodeAgent({ config, problems, readCgroup: () => readCgroupLimits(), runtime: runtime && (() => runtimeState(runtime)) });
  const server = createAgentServer(agent, jsonLog, { token: readAgentToken(), nodeName: config.nodeName });
  const kubeTls = readKubeTls();
  const machine = readMachineInfo();
  const registration = kubeTls
    ? new KubeNodeRegistration({
        status: () => agent.status(),
        systemInfo: () => ({ ...machine, containerRuntimeVersion: runtimeVersion }),
        site: { location: process.env.CERULEAN_LOCATION?.trim() ?? '', nodeResourceGroup: process.env.CERULEAN_NODE_RESOURCE_GROUP?.trim() ?? '' },
        tls: kubeTls,
        log: jsonLog,
      })
    : undefined;
  const clusterCidr = process.env.CERULEAN_POD_CIDR?.trim() || DEFAULT_CLUSTER_CIDR;
  // The kubelet's own API (container logs for `kubectl logs`), for the API server; absent on nodes without its certificate.
  // Services reach pods only where pods run: kube-proxy comes with the container runtime.
  const proxy =
    kubeTls && runtime && KubeProxy.available()
      ? new KubeProxy({
          api: new KubeApi(kubeTls, KUBE_API_URL, { maxSockets: 4, userAgent: 'cerulean-kube-proxy' }),
          clusterCidr,
          log: jsonLog,
        })
      : undefined;
  proxy?.start();
  const podNetwork = kubeTls && runtime ? startPodNetwork(config.nodeName, clusterCidr, kubeTls) : undefined;
  const dnsAddress = process.env.CERULEAN_DNS_SERVICE_IP?.trim() || DEFAULT_DNS_SERVICE_IP;
  const dns = proxy ? startNodeDns(dnsAddress, proxy) : undefined;
  const kubelet = kubeTls ? createKubelet(agent, config.nodeName, kubeTls, [dnsAddress], proxy, cri) : undefined;
  // The kubelet's own API (container logs for `kubectl logs`), for the API server; absent on nodes without its certificate.
  const exec = execRuntime(cri);
  const kubeletServer =
    kubeTls && kubelet
      ? startKubeletServer({
          nodeName: config.nodeName,
          nodeTls: kubeTls,
          log: jsonLog,
          locator: (ref) => kubelet.locateContainerLog(ref),
          exec: { locate: (ref) => kubelet.locateRunningContainer(ref), runtime: exec },
          portForward: (ref) => kubelet.locatePortForward(ref),
          resourceMetrics: async () => renderResourceMetrics(await readResourceUsage(exec.cri)),
        })
      : undefined;
  let heartbeat: { stop: () => Promise<void> } | undefined;
  server.listen(AGENT_PORT, () => {
    jsonLog({ msg: 'listening', port: AGENT_PORT, node: config.nodeName, problems });
    // The heartbeat serves control planes from before the Kubernetes API server; registration serves the new ones.
    heartbeat = startHeartbeat({ url: process.env.CERULEAN_CONTROL_PLANE_URL?.trim() || DEFAULT_CONTROL_PLANE_URL, status: () => agent.status() });
    registration?.start();
    // Pods start once the node's own images are in containerd: a pull of one of them would fail here (no registry).
    void (runtime?.imagesImported() ?? Promise.resolve()).then(() => kubelet?.start());
  });
  onShutdown([server, ...(kubeletServer ? [kubeletServer] : [])], async () => {
    proxy?.stop();
    podNetwork?.stop();
    await dns?.then((d) => d?.close());
    agent.markStopping();
    await Promise.all([heartbeat?.stop(), registration?.stop(), kubelet?.stop()]);
    await runtime?.stop();
  });
}

/** What `kubectl exec` runs commands with: the runtime's CRI socket and containerd's `ctr` on it. */
function execRuntime(cri: CriClient): ExecRuntime {
  const address = cri.endpoint.startsWith('unix://') ? cri.endpoint.slice('unix://'.length) : CONTAINERD_SOCKET;
  return { cri, ctr: { binary: CTR_BINARY, address, namespace: CRI_NAMESPACE }, log: jsonLog };
}

/** The runtime's CRI socket: CERULEAN_CRI_ENDPOINT, default containerd's. */
const criEndpoint = (): string => process.env.CERULEAN_CRI_ENDPOINT?.trim() || DEFAULT_CRI_ENDPOINT;

/**
 * The kubelet on the runtime's CRI socket (CERULEAN_CRI_ENDPOINT, default containerd's); the cluster DNS address
 * (networkProfile.dnsServiceIP, served on every node) and CERULEAN_CLUSTER_DOMAIN go into pods' resolv.conf, as
 * kubelet's --cluster-dns and --cluster-domain do.
 */
function createKubelet(agent: NodeAgent, nodeName: string, tls: KubeClientTls, dnsServers: string[], proxy: KubeProxy | undefined, cri: CriClient): Kubelet {
  return new Kubelet({
    nodeName,
    api: new KubeApi(tls, KUBE_API_URL),
    cri,
    criSocketPath: cri.endpoint.startsWith('unix://') ? cri.endpoint.slice('unix://'.length) : undefined,
    log: jsonLog,
    hostIPs: () => {
      const ip = internalIp();
      return ip ? [ip] : [];
    },
    allocatable: () => {
      const a = computeAllocatable(realCapacity(agent.status()));
      return { cpu: parseQuantity(a.cpu ?? '') ?? os.cpus().length, memory: parseQuantity(a.memory ?? '') ?? os.totalmem() };
    },
    dns: dnsServers.length ? { servers: dnsServers, clusterDomain: process.env.CERULEAN_CLUSTER_DOMAIN?.trim() || 'cluster.local' } : undefined,
    services: proxy ? () => proxy.serviceList() : undefined,
    backoffBaseMs: Number(process.env.CERULEAN_KUBELET_BACKOFF_BASE_MS) || undefined,
  });
}
