import { randomBytes } from 'node:crypto';
import { admitNodeWrite, Authorizer, forbidden, nodeNameOf, RequestAttributes, verbOf } from './authz';
import { graphTarget, NodeGraph, podReferences, volumeClaim } from './node-graph';
import { createServer, Server } from 'node:https';
import { createServer as createHttpServer, IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import pino, { Logger } from 'pino';
import {
  apiVersionOf,
  decodeKubeProtobuf,
  DEFAULT_STORAGE_CLASS_ANNOTATION,
  groupResource,
  IncludeObject,
  isPlainObject,
  isVirtual,
  jsonPatch,
  matchesLabels,
  mergePatch,
  strategicMergePatch,
  JsonObject,
  KubeError,
  KubeObject,
  parseFieldSelector,
  parseLabelSelector,
  PROTOBUF_MEDIA_TYPE,
  ResourceRegistry,
  ResourceType,
  selectorFromObject,
  formatLabelSelector,
  successStatus,
  toTable,
  apiTime,
} from '@cerulean/kube';
import { authenticate, sameSecret } from './authn';
import { answerReview } from './auth/reviews';
import { ServiceAccountTokens } from './auth/service-account-tokens';
import { RbacAuthorizer } from './rbac/authorizer';
import { ClusterRoleAggregator, ignoreExists, reconcileBootstrapPolicy } from './rbac/bootstrap';
import { RbacCache } from './rbac/cache';
import { EscalationCheck } from './rbac/escalation';
import { ClusterIpAllocator } from './cluster-ips';
import { KubeApiServerConfig } from './config';
import { aggregatedDiscovery, apiGroupDoc, apiGroupList, apiResourceList, apiVersions, discoveryContentType } from './discovery';
import { negotiate, readBody, sendJson, sendJsonItems, sendStatus, UserInfo } from './http';
import { METRICS_GROUP, MetricsApi } from './metrics-api';
import { OpenApiDocs } from './openapi';
import { execContainer, isUpgrade, kubeletExecPath, kubeletPortForwardPath, parsePodExecOptions, parsePortForwardPorts, relayUpgrade } from './pod-exec';
import { kubeletAddress, parsePodLogOptions, proxyContainerLog, selectContainer } from './pod-logs';
import { DeleteOptions, FieldValidation, ListResult, PATCH_TYPES, RestStorage, WriteOptions } from './rest';
import { waitForEtcd } from './storage/etcd-health';
import { EtcdStorage } from './storage/etcd-storage';
import { WatchedObjects } from './storage/watched-objects';
import { serveWatch } from './watch';

export interface RunningKubeApiServer {
  url: string;
  port: number;
  storage: RestStorage;
  /** The bearer token of the server's own in-process clients (see authn.ts). */
  loopbackToken: string;
  /** With in-process controllers: the Unix socket they reach the server on (plain HTTP, loopback token only). */
  loopbackSocket?: string;
  close(): Promise<void>;
}

const BOOTSTRAP_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Starts the API server: etcd client, bootstrap objects, then HTTPS (the controllers run in kube-controller-manager). */
export async function startKubeApiServer(cfg: KubeApiServerConfig, log: Logger = pino({ level: cfg.logLevel })): Promise<RunningKubeApiServer> {
  const store = new EtcdStorage(cfg.etcdEndpoints);
  const registry = new ResourceRegistry();
  const storage = new RestStorage(store, registry, cfg.etcdPrefix, new ClusterIpAllocator(cfg.serviceCidr, cfg.dnsServiceIp));
  // etcd may still be starting: the control-plane container starts both at once, so this process loads while etcd does.
  try {
    await waitForEtcd(cfg.etcdEndpoints, cfg.etcdWaitMs);
  } catch (err) {
    store.close();
    throw new Error(`cannot reach etcd at ${cfg.etcdEndpoints.join(',')}: ${(err as Error).message}`, { cause: err });
  }
  // Healthy, yet a first write can still fail (e.g. a leader change): keep trying for a while.
  for (let attempt = 0; ; attempt++) {
    try {
      await bootstrap(storage, cfg.dnsServiceIp, cfg.advertiseAddress, cfg.securePort);
      break;
    } catch (err) {
      if (attempt * 500 < cfg.etcdWaitMs && !(err instanceof KubeError)) {
        if (attempt % 10 === 0) log.warn({ err: (err as Error).message }, 'waiting for etcd');
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      store.close();
      throw new Error(`cannot reach etcd at ${cfg.etcdEndpoints.join(',')}: ${(err as Error).message}`, { cause: err });
    }
  }
  // Authorization reads RBAC from memory: listed and watched before the first request, the bootstrap policy in place.
  const rbac = new RbacCache(storage, log);
  const aggregator = new ClusterRoleAggregator(rbac, storage, log);
  // Admission's per-request reads of namespaces and service accounts come from memory too.
  const lookups: Pick<WatchedObjects<unknown>, 'close'>[] = [];
  const podType = registry.lookup('', 'v1', 'pods') as ResourceType;
  let graph: NodeGraph;
  try {
    // Lists are answered from memory (upstream's watch cache): every object, watched from etcd.
    if (cfg.watchCache !== false) lookups.push(await storage.cacheLists(log));
    const lookup = (group: string, plural: string, namespaced?: boolean) =>
      storage.watchForLookup(registry.lookup(group, 'v1', plural) as ResourceType, log, namespaced);
    // The Node authorizer's graph: what each node's pods reference, from the pods in memory.
    const pods = new WatchedObjects(storage, podType, log, podReferences, (refs) => refs?.node);
    const volumeType = registry.lookup('', 'v1', 'persistentvolumes') as ResourceType;
    const volumes = new WatchedObjects(storage, volumeType, log, volumeClaim);
    lookups.push(pods, volumes);
    // All at once: each waits on etcd for its list and watch, and the server listens only once every one is in place.
    const started = await Promise.allSettled([
      rbac.start().then(() => reconcileBootstrapPolicy(rbac, storage)),
      lookup('', 'namespaces'),
      lookup('', 'serviceaccounts'),
      // DefaultStorageClass reads every class on each claim create, PersistentVolumeClaimResize one on each claim update.
      lookup('storage.k8s.io', 'storageclasses'),
      // LimitRanger reads a namespace's LimitRanges on every pod create, ResourceQuota its quotas on every create.
      lookup('', 'limitranges', true),
      lookup('', 'resourcequotas', true),
      pods.start(),
      volumes.start(),
    ]);
    for (const s of started) if (s.status === 'fulfilled' && s.value) lookups.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    graph = new NodeGraph(pods, volumes, storage, { pods: podType, volumes: volumeType });
  } catch (err) {
    aggregator.stop();
    await rbac.close();
    await Promise.all(lookups.map((l) => l.close()));
    store.close();
    throw err;
  }
  const authorizer = new Authorizer(new RbacAuthorizer(rbac), graph);
  const auth: AuthChain = {
    authorizer,
    graph,
    escalation: new EscalationCheck(authorizer, rbac),
    // Upstream's --service-account-key-file defaults to the serving key.
    tokens: new ServiceAccountTokens(cfg.serviceAccountKeyPem ?? cfg.tlsKeyPem, storage),
  };
  const loopbackToken = randomBytes(32).toString('base64url');
  const api = new ApiHandler(storage, registry, cfg, log, loopbackToken, auth);
  const server: Server = createServer(
    { cert: cfg.tlsCertPem, key: cfg.tlsKeyPem, ca: cfg.clientCaPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => void api.handle(req, res),
  );
  server.keepAliveTimeout = 65_000;
  // Upgrades (pods/exec) go through the same handler: a response on the raw socket answers refusals as Status, and
  // the handler takes the socket over once the kubelet switched protocols.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.on('finish', () => socket.end());
    upgrades.set(req, { socket, head });
    void api.handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.securePort, cfg.bindAddress, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const loopback = cfg.controllersInProcess?.length ? await listenLoopback(api, loopbackToken) : undefined;
  const host = cfg.bindAddress === '0.0.0.0' || cfg.bindAddress === '::' ? '127.0.0.1' : cfg.bindAddress;
  log.info({ port, etcd: cfg.etcdEndpoints, version: cfg.version }, 'kube-apiserver listening');
  return {
    url: `https://${host}:${port}`,
    port,
    storage,
    loopbackToken,
    loopbackSocket: loopback?.socket,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await loopback?.close();
      aggregator.stop();
      await aggregator.settled();
      await rbac.close();
      await Promise.all(lookups.map((l) => l.close()));
      store.close();
    },
  };
}

/**
 * The in-process controllers' way in: plain HTTP on a Unix socket in a directory only this user can open, answering
 * the loopback token only. The controllers share this one thread with the server, so over loopback HTTPS every request
 * and answer would be encrypted and decrypted again on the same core (upstream's loopback client crosses goroutines).
 */
async function listenLoopback(api: ApiHandler, token: string): Promise<{ socket: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'kube-apiserver-loopback-'));
  const socket = join(dir, 'apiserver.sock');
  const expected = `Bearer ${token}`;
  const server: HttpServer = createHttpServer((req, res) => {
    if (!sameSecret(req.headers.authorization ?? '', expected)) return sendStatus(res, KubeError.unauthorized());
    void api.handle(req, res);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  return {
    socket,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The raw connection of a request that asked to upgrade, for the handler that takes it over. */
const upgrades = new WeakMap<IncomingMessage, { socket: Duplex; head: Buffer }>();

/**
 * The namespaces every cluster has, the `kubernetes` Service (with this server as its endpoint), kube-dns and the
 * storage classes; existing ones are left alone.
 */
async function bootstrap(storage: RestStorage, dnsServiceIp: string, advertiseAddress: string | undefined, securePort: number): Promise<void> {
  const system: WriteOptions = {
    dryRun: false,
    fieldValidation: 'Ignore',
    user: { name: 'system:apiserver', groups: ['system:masters'] },
    fieldManager: 'kube-apiserver',
  };
  const ns = storage.registry.lookup('', 'v1', 'namespaces') as ResourceType;
  // Independent writes go together: etcd commits concurrent ones in one disk sync, and a new cluster waits for these.
  await Promise.all(
    // Created without a read first: a new cluster has none, and an existing one answers AlreadyExists in one round trip.
    BOOTSTRAP_NAMESPACES.map((name) =>
      storage.create(ns, undefined, { metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } }, system).catch(ignoreExists),
    ),
  );
  const svc = storage.registry.lookup('', 'v1', 'services') as ResourceType;
  const storageClasses = storage.registry.lookup('storage.k8s.io', 'v1', 'storageclasses') as ResourceType;
  await Promise.all([
    ensureService(storage, svc, 'default', system, {
      metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { clusterIP: storage.ips.kubernetesServiceIp, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }], type: 'ClusterIP' },
    }),
    // The cluster DNS answers on every node at this address (apps/node-agent/src/dns): the Service says where, as AKS's
    // kube-dns does; it has no selector, since no pod serves it.
    ensureService(storage, svc, 'kube-system', system, {
      metadata: { name: 'kube-dns', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' } },
      spec: {
        clusterIP: dnsServiceIp,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        ],
        type: 'ClusterIP',
      },
    }),
    advertiseAddress ? reconcileKubernetesEndpoints(storage, advertiseAddress, securePort, system) : undefined,
    ...BOOTSTRAP_STORAGE_CLASSES.map((sc) => storage.create(storageClasses, undefined, sc, system).catch(ignoreExists)),
  ]);
}

/**
 * The classes AKS's addon manager makes (`EnsureExists`: created when missing, never changed afterwards, so an
 * administrator's edit or delete stays). Each provisions a volume on the node its first consumer is scheduled to.
 */
const BOOTSTRAP_STORAGE_CLASSES: KubeObject[] = [
  { name: 'default', sku: 'StandardSSD_LRS', isDefault: true },
  { name: 'managed-csi', sku: 'StandardSSD_LRS', isDefault: false },
  { name: 'managed-csi-premium', sku: 'Premium_LRS', isDefault: false },
].map(({ name, sku, isDefault }) => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: {
    name,
    labels: { 'addonmanager.kubernetes.io/mode': 'EnsureExists', 'kubernetes.io/cluster-service': 'true' },
    ...(isDefault ? { annotations: { [DEFAULT_STORAGE_CLASS_ANNOTATION]: 'true' } } : {}),
  },
  provisioner: 'disk.csi.azure.com',
  parameters: { skuname: sku },
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'WaitForFirstConsumer',
  allowVolumeExpansion: true,
}));

/** Creates the Service when missing; an existing one is left as it is. */
async function ensureService(storage: RestStorage, svc: ResourceType, namespace: string, system: WriteOptions, obj: KubeObject): Promise<void> {
  if (!(await storage.tryGet(svc, namespace, obj.metadata.name ?? ''))) await storage.create(svc, namespace, obj, system).catch(ignoreExists);
}

/**
 * The `kubernetes` Service's endpoints, as the API server's endpoint reconciler keeps them: this server's address on
 * the cluster network, so pods reach the API through the Service's cluster IP. Rewritten at every start (a recreated
 * control plane may have a new address).
 */
async function reconcileKubernetesEndpoints(storage: RestStorage, address: string, port: number, system: WriteOptions): Promise<void> {
  const endpoints = storage.registry.lookup('', 'v1', 'endpoints') as ResourceType;
  const slices = storage.registry.lookup('discovery.k8s.io', 'v1', 'endpointslices') as ResourceType;
  const desiredEndpoints = {
    metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: address }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
  };
  const desiredSlice = {
    metadata: { name: 'kubernetes', labels: { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'kube-apiserver' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  };
  const reconcile = async (rt: ResourceType, desired: KubeObject): Promise<void> => {
    const existing = (await storage.tryGet(rt, 'default', 'kubernetes'))?.obj;
    if (!existing) await storage.create(rt, 'default', desired, system).catch(ignoreExists);
    else
      await storage.update(
        rt,
        'default',
        'kubernetes',
        { ...desired, metadata: { ...desired.metadata, resourceVersion: existing.metadata.resourceVersion } },
        system,
      );
  };
  await Promise.all([reconcile(endpoints, desiredEndpoints), reconcile(slices, desiredSlice)]);
}

interface AuthChain {
  authorizer: Authorizer;
  graph: NodeGraph;
  escalation: EscalationCheck;
  tokens: ServiceAccountTokens;
}

interface Target {
  rt: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

class ApiHandler {
  private readonly openApi: OpenApiDocs;
  private readonly metrics: MetricsApi;

  constructor(
    private readonly storage: RestStorage,
    private readonly registry: ResourceRegistry,
    private readonly cfg: KubeApiServerConfig,
    private readonly log: Logger,
    private readonly loopbackToken: string,
    private readonly auth: AuthChain,
  ) {
    this.openApi = new OpenApiDocs(registry, cfg.version);
    this.metrics = new MetricsApi(storage, { cert: cfg.kubeletClient, caPem: cfg.kubeletCaPem }, log);
  }

  /**
   * Authorizes through the chain (authz.ts), or throws upstream's 403. A node refused an object its pods reference by
   * memory alone is asked about again once storage confirmed the reference (memory trails etcd by a moment).
   */
  private async authorize(user: UserInfo, a: RequestAttributes): Promise<void> {
    let d = this.auth.authorizer.authorize(user, a);
    const node = d.allowed ? undefined : nodeNameOf(user);
    const target = node === undefined ? undefined : graphTarget(a);
    if (node !== undefined && target && (await this.auth.graph.confirm(node, target.resource, target.namespace, target.name)))
      d = this.auth.authorizer.authorize(user, a, true);
    if (!d.allowed) throw forbidden(user, a, d.reason);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    try {
      await this.route(req, res);
    } catch (err) {
      if (res.headersSent) {
        res.end();
        return;
      }
      if (err instanceof KubeError) sendStatus(res, err);
      else {
        this.log.error({ err, method: req.method, url: req.url }, 'request failed');
        sendStatus(res, KubeError.internal((err as Error).message));
      }
    } finally {
      if (this.log.isLevelEnabled('debug')) this.log.debug({ method: req.method, url: req.url, code: res.statusCode, ms: Date.now() - started }, 'request');
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const user = await authenticate(req, url.pathname, { loopbackToken: this.loopbackToken, tokens: this.auth.tokens });
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    // As upstream's RequestInfoFactory: anything short of /api/v1/<resource> or /apis/<group>/<version>/<resource> is a
    // non-resource request, authorized by path and lowercased method (system:discovery, system:public-info-viewer…).
    const resourceRequest = (parts[0] === 'api' && parts.length >= 3) || (parts[0] === 'apis' && parts.length >= 4);
    if (!resourceRequest) await this.authorize(user, { resourceRequest: false, verb: method.toLowerCase(), path: url.pathname });
    if (
      path === '/healthz' ||
      path === '/livez' ||
      path === '/readyz' ||
      path.startsWith('/healthz/') ||
      path.startsWith('/livez/') ||
      path.startsWith('/readyz/')
    ) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    if (path === '/.well-known/openid-configuration') return sendJson(res, 200, this.auth.tokens.openidConfiguration());
    if (path === '/openid/v1/jwks') return sendJson(res, 200, this.auth.tokens.jwks(), 'application/jwk-set+json');
    if (path === '/version') {
      const [major, minor] = this.cfg.version.split('.');
      sendJson(res, 200, {
        major,
        minor,
        emulationMajor: major,
        emulationMinor: minor,
        gitVersion: `v${this.cfg.version}`,
        gitCommit: '',
        gitTreeState: 'clean',
        buildDate: '',
        goVersion: '',
        compiler: 'cerulean',
        platform: 'linux/amd64',
      });
      return;
    }
    if (parts[0] === 'openapi') return this.openApi.serve(req, res, parts, url);
    if (parts[0] === 'api') {
      if (parts.length === 1) return this.discovery(req, res, true);
      if (parts[1] !== 'v1') throw KubeError.pathNotFound();
      if (parts.length === 2) return sendJson(res, 200, apiResourceList(this.registry, '', 'v1'));
      return this.resource(req, res, url, method, user, '', 'v1', parts.slice(2));
    }
    if (parts[0] === 'apis') {
      if (parts.length === 1) return this.discovery(req, res, false);
      const group = parts[1];
      if (!this.registry.types.some((rt) => rt.group === group)) throw KubeError.pathNotFound();
      if (parts.length === 2) return sendJson(res, 200, apiGroupDoc(this.registry, group));
      if (!this.registry.hasGroupVersion(group, parts[2])) throw KubeError.pathNotFound();
      if (parts.length === 3) return sendJson(res, 200, apiResourceList(this.registry, group, parts[2]));
      return this.resource(req, res, url, method, user, group, parts[2], parts.slice(3));
    }
    throw KubeError.pathNotFound();
  }

  private discovery(req: IncomingMessage, res: ServerResponse, core: boolean): void {
    const r = negotiate(req.headers.accept, ['json', 'discovery-v2', 'discovery-v2beta1']);
    if (r === 'discovery-v2' || r === 'discovery-v2beta1') {
      const v = r === 'discovery-v2' ? 'v2' : 'v2beta1';
      sendJson(res, 200, aggregatedDiscovery(this.registry, core, v), discoveryContentType(v));
    } else sendJson(res, 200, core ? apiVersions(`${req.socket.localAddress}:${req.socket.localPort}`) : apiGroupList(this.registry));
  }

  /** `[namespaces/{ns}/]{plural}[/{name}[/{subresource}]]`. */
  private target(group: string, version: string, parts: string[]): Target {
    let namespace: string | undefined;
    let rest = parts;
    if (parts[0] === 'namespaces' && parts.length >= 3 && !(parts.length === 3 && ['status', 'finalize'].includes(parts[2]))) {
      namespace = parts[1];
      rest = parts.slice(2);
    }
    const [plural, name, subresource, ...extra] = rest;
    const rt = this.registry.lookup(group, version, plural);
    if (!rt || extra.length) throw KubeError.pathNotFound();
    if (namespace && !rt.namespaced) throw KubeError.pathNotFound();
    if (subresource && !rt.subresources.some((s) => s.name === subresource)) throw KubeError.pathNotFound();
    return { rt, namespace, name, subresource };
  }

  private writeOptions(url: URL, req: IncomingMessage, user: UserInfo, defaultValidation: FieldValidation = 'Warn'): WriteOptions {
    const q = url.searchParams;
    const dryRun = q.getAll('dryRun');
    for (const d of dryRun) if (d !== 'All') throw KubeError.badRequest(`Invalid dry run value: ${d}; supported values: All`);
    const fv = q.get('fieldValidation') ?? defaultValidation;
    const map: Record<string, FieldValidation> = { strict: 'Strict', warn: 'Warn', ignore: 'Ignore' };
    const fieldValidation = map[fv.toLowerCase()];
    if (!fieldValidation) throw KubeError.badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict" but got "${fv}"`);
    const fieldManager = q.get('fieldManager') ?? undefined;
    if (fieldManager !== undefined && fieldManager.length > 128) throw KubeError.badRequest('fieldManager: Too long: may not be more than 128 bytes');
    const force = q.get('force');
    return {
      dryRun: dryRun.length > 0,
      fieldValidation,
      fieldManager,
      force: force === 'true',
      user,
      userAgent: req.headers['user-agent'],
      admit: (obj, old) => {
        admitNodeWrite(user, obj, old);
        this.auth.escalation.admit(user, obj, old);
      },
    };
  }

  private parseJson(body: Buffer): unknown {
    if (!body.length) throw KubeError.badRequest('the body of the request was empty');
    try {
      return JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw KubeError.badRequest(
        `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (${(err as Error).message})`,
      );
    }
  }

  private contentType(req: IncomingMessage): string {
    return (req.headers['content-type'] ?? 'application/json').split(';')[0].trim().toLowerCase();
  }

  private async readJsonBody(req: IncomingMessage): Promise<unknown> {
    return this.decodeBody(req, await readBody(req));
  }

  /**
   * The one place a request object's body becomes JSON: typed client-go clients (kubectl create, drain, auth can-i)
   * send Kubernetes protobuf, decoded into the object they would have sent as JSON. CBOR stays 415: client-go then
   * retries in JSON.
   */
  private decodeBody(req: IncomingMessage, body: Buffer): unknown {
    const ct = this.contentType(req);
    if (ct === PROTOBUF_MEDIA_TYPE) {
      if (!body.length) throw KubeError.badRequest('the body of the request was empty');
      return decodeKubeProtobuf(body);
    }
    if (ct !== 'application/json' && ct !== '*/*') throw KubeError.unsupportedMediaType(['application/json', 'application/yaml', PROTOBUF_MEDIA_TYPE]);
    return this.parseJson(body);
  }

  private send(req: IncomingMessage, res: ServerResponse, code: number, obj: KubeObject, rt: ResourceType, url: URL, warnings: string[] = []): void {
    const rendering = negotiate(req.headers.accept, ['json', 'table']);
    const headers: Record<string, string> = {};
    if (warnings.length) headers['Warning'] = warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ');
    if (rendering === 'table')
      return sendJson(res, code, toTable(rt.kind, [obj], { include: this.include(url), printed: this.storage.printed(rt) }), 'application/json', headers);
    sendJson(res, code, obj, 'application/json', headers);
  }

  private include(url: URL): IncludeObject {
    const v = url.searchParams.get('includeObject') ?? 'Metadata';
    if (!['None', 'Metadata', 'Object'].includes(v))
      throw KubeError.badRequest(`includeObject: Unsupported value: "${v}": supported values: "Metadata", "None", "Object"`);
    return v as IncludeObject;
  }

  private deleteOptions(url: URL, body: unknown): DeleteOptions {
    const q = url.searchParams;
    const b = isPlainObject(body) ? body : {};
    const grace = q.get('gracePeriodSeconds') ?? b.gracePeriodSeconds;
    const policy = (q.get('propagationPolicy') ?? b.propagationPolicy) as DeleteOptions['propagationPolicy'] | undefined;
    if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy))
      throw KubeError.badRequest(`propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
    const dryRun = [...q.getAll('dryRun'), ...(Array.isArray(b.dryRun) ? (b.dryRun as string[]) : [])];
    return {
      dryRun: dryRun.includes('All'),
      gracePeriodSeconds: grace === undefined || grace === null ? undefined : Number(grace),
      propagationPolicy: policy ?? (b.orphanDependents === true ? 'Orphan' : undefined),
      preconditions: isPlainObject(b.preconditions) ? (b.preconditions as DeleteOptions['preconditions']) : undefined,
    };
  }

  private async resource(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    method: string,
    user: UserInfo,
    group: string,
    version: string,
    parts: string[],
  ): Promise<void> {
    const t = this.target(group, version, parts);
    const { rt, namespace, name, subresource } = t;
    const q = url.searchParams;
    const watching = q.get('watch') === 'true' || q.get('watch') === '1';
    const verb = verbOf(method, !!name, watching);
    await this.authorize(user, { resourceRequest: true, verb, group: rt.group, resource: rt.plural, subresource, namespace, name });
    if (isVirtual(rt)) return this.review(req, res, url, rt, namespace, user, method);
    if (rt.group === METRICS_GROUP) {
      if (method !== 'GET' || watching || subresource) throw KubeError.methodNotAllowed();
      return sendJson(res, 200, await this.metrics.serve(rt, namespace, name, q));
    }
    if (!name) {
      // Collection.
      if (method === 'GET') {
        const labels = parseLabelSelector(q.get('labelSelector') ?? undefined);
        const fields = parseFieldSelector(q.get('fieldSelector') ?? undefined, rt.kind, rt.group);
        if (q.get('watch') === 'true' || q.get('watch') === '1') {
          // A watch-list (sendInitialEvents) names NotOlderThan; any other watch may not name a match.
          const sendInitial = q.get('sendInitialEvents') === 'true';
          const match = q.get('resourceVersionMatch');
          if (match && !(sendInitial && match === 'NotOlderThan'))
            throw KubeError.badRequest(
              sendInitial
                ? 'resourceVersionMatch: Unsupported value: must be NotOlderThan with sendInitialEvents'
                : 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
            );
          if (sendInitial && (!match || q.get('allowWatchBookmarks') !== 'true'))
            throw KubeError.badRequest('sendInitialEvents requires setting resourceVersionMatch to NotOlderThan and allowWatchBookmarks to true');
          const rendering = negotiate(req.headers.accept, ['json', 'table']);
          const timeout = Number(q.get('timeoutSeconds') ?? 0) || 1800 + Math.floor(Math.random() * 1800);
          return serveWatch(
            res,
            this.storage,
            {
              rt,
              namespace,
              labels,
              fields,
              resourceVersion: q.get('resourceVersion') ?? '',
              sendInitialEvents: q.get('sendInitialEvents') === 'true',
              allowBookmarks: q.get('allowWatchBookmarks') === 'true',
              timeoutSeconds: timeout,
              table: rendering === 'table' ? { include: this.include(url) } : undefined,
              bookmarkIntervalMs: this.cfg.bookmarkIntervalMs,
            },
            (cb) => {
              req.on('close', cb);
              res.on('close', cb);
            },
          );
        }
        const rendering = negotiate(req.headers.accept, ['json', 'table']);
        const limit = q.get('limit') ? Number(q.get('limit')) : undefined;
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw KubeError.badRequest(`invalid limit: ${q.get('limit')}`);
        const paging = {
          limit: limit || undefined,
          continueToken: q.get('continue') || undefined,
          resourceVersion: q.get('resourceVersion') ?? undefined,
          resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
        };
        if (rendering !== 'table' && !labels.length && !fields.length) {
          const page = await this.storage.listJson(rt, namespace, paging);
          return sendJsonItems(res, { kind: `${rt.kind}List`, apiVersion: apiVersionOf(rt), metadata: listMetadata(page) }, page.items);
        }
        const page = await this.storage.list(rt, namespace, { labels, fields, ...paging });
        const metadata = listMetadata(page);
        if (rendering === 'table')
          return sendJson(
            res,
            200,
            toTable(rt.kind, page.items, {
              include: this.include(url),
              resourceVersion: page.resourceVersion,
              continue: page.continueToken,
              printed: this.storage.printed(rt),
            }),
          );
        return sendJson(res, 200, { kind: `${rt.kind}List`, apiVersion: apiVersionOf(rt), metadata, items: page.items });
      }
      if (method === 'POST') {
        if (rt.kind === 'Binding') throw KubeError.methodNotAllowed();
        const body = await this.readJsonBody(req);
        const r = await this.storage.create(rt, namespace, body, this.writeOptions(url, req, user));
        return this.send(req, res, 201, r.obj, rt, url, r.warnings);
      }
      if (method === 'DELETE') {
        if (!rt.verbs.includes('deletecollection')) throw KubeError.methodNotAllowed();
        const raw = await readBody(req);
        const opts = this.deleteOptions(url, raw.length ? this.decodeBody(req, raw) : undefined);
        const labels = parseLabelSelector(q.get('labelSelector') ?? undefined);
        const fields = parseFieldSelector(q.get('fieldSelector') ?? undefined, rt.kind, rt.group);
        const page = await this.storage.list(rt, namespace, { labels, fields });
        const wo = this.writeOptions(url, req, user);
        const deleted: KubeObject[] = [];
        for (const item of page.items) {
          try {
            const r = await this.storage.delete(rt, item.metadata.namespace, item.metadata.name as string, opts, wo);
            deleted.push(r.obj);
          } catch (err) {
            if (!(err instanceof KubeError && err.code === 404)) throw err;
          }
        }
        return sendJson(res, 200, { kind: `${rt.kind}List`, apiVersion: apiVersionOf(rt), metadata: {}, items: deleted });
      }
      throw KubeError.methodNotAllowed();
    }
    if (subresource && !['status', 'finalize', 'ephemeralcontainers'].includes(subresource)) return this.special(req, res, url, method, user, t);
    // Writes of one part of the object (kubectl debug adds ephemeral containers through pods/ephemeralcontainers).
    const statusLike = subresource === 'status' || subresource === 'finalize' || subresource === 'ephemeralcontainers' ? subresource : undefined;
    if (method === 'GET') {
      const s = await this.storage.get(rt, namespace, name);
      return this.send(req, res, 200, s.obj, rt, url);
    }
    if (method === 'PUT') {
      const body = await this.readJsonBody(req);
      const wo = this.writeOptions(url, req, user);
      const r =
        subresource === 'finalize'
          ? await this.storage.guaranteedUpdate(rt, namespace, name, wo, (cur) => {
              if (!cur) throw KubeError.notFound(groupResource(rt), name);
              return { obj: { ...cur, spec: (body as JsonObject).spec }, preconditionRv: undefined };
            })
          : await this.storage.update(rt, namespace, name, body, wo, statusLike);
      return this.send(req, res, 200, r.obj, rt, url, r.warnings);
    }
    if (method === 'PATCH') {
      const ct = this.contentType(req);
      if (!PATCH_TYPES.includes(ct)) throw KubeError.unsupportedMediaType(PATCH_TYPES);
      const body = await readBody(req);
      const r = await this.storage.patch(rt, namespace, name, ct, body, this.writeOptions(url, req, user), statusLike);
      return this.send(req, res, r.created ? 201 : 200, r.obj, rt, url, r.warnings);
    }
    if (method === 'DELETE') {
      if (subresource) throw KubeError.methodNotAllowed();
      const raw = await readBody(req);
      const opts = this.deleteOptions(url, raw.length ? this.decodeBody(req, raw) : undefined);
      const r = await this.storage.delete(rt, namespace, name, opts, this.writeOptions(url, req, user));
      // Upstream answers the object while it waits on finalizers or a grace period, and a Status once it is gone.
      if (!r.deleted) return this.send(req, res, 200, r.obj, rt, url);
      return sendJson(res, 200, successStatus({ name, group: rt.group, kind: rt.plural, uid: r.obj.metadata.uid }));
    }
    throw KubeError.methodNotAllowed();
  }

  /** scale, binding, eviction, log, exec, token. */
  private async special(req: IncomingMessage, res: ServerResponse, url: URL, method: string, user: UserInfo, t: Target): Promise<void> {
    const { rt, namespace, subresource } = t;
    const name = t.name as string;
    if (subresource === 'scale') {
      const toScale = (o: KubeObject) => {
        const spec = (o.spec ?? {}) as JsonObject;
        const status = (o.status ?? {}) as JsonObject;
        return {
          kind: 'Scale',
          apiVersion: 'autoscaling/v1',
          metadata: {
            name: o.metadata.name,
            namespace: o.metadata.namespace,
            uid: o.metadata.uid,
            resourceVersion: o.metadata.resourceVersion,
            creationTimestamp: o.metadata.creationTimestamp,
          },
          spec: { replicas: spec.replicas ?? 0 },
          status: { replicas: status.replicas ?? 0, selector: isPlainObject(spec.selector) ? formatLabelSelector(selectorFromObject(spec.selector)) : '' },
        };
      };
      if (method === 'GET') return sendJson(res, 200, toScale((await this.storage.get(rt, namespace, name)).obj));
      if (method !== 'PUT' && method !== 'PATCH') throw KubeError.methodNotAllowed();
      const ct = this.contentType(req);
      const body = await readBody(req);
      const wo = this.writeOptions(url, req, user);
      const r = await this.storage.guaranteedUpdate(rt, namespace, name, wo, (cur) => {
        if (!cur) throw KubeError.notFound(groupResource(rt), name);
        const scale = toScale(cur);
        let next: JsonObject;
        if (method === 'PUT') next = this.decodeBody(req, body) as JsonObject;
        else {
          const doc = ct === 'application/apply-patch+yaml' ? this.storage.apply.parse(body) : this.parseJson(body);
          next = (
            ct === 'application/json-patch+json'
              ? jsonPatch(scale, doc)
              : ct === 'application/strategic-merge-patch+json'
                ? strategicMergePatch(scale, doc, undefined)
                : mergePatch(scale, doc)
          ) as JsonObject;
        }
        const replicas = (next.spec as JsonObject | undefined)?.replicas;
        if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
          throw KubeError.invalid('Scale', 'autoscaling', name, [
            {
              reason: 'FieldValueInvalid',
              message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0`,
              field: 'spec.replicas',
            },
          ]);
        const rv = (next.metadata as JsonObject | undefined)?.resourceVersion as string | undefined;
        return {
          obj: { ...cur, spec: { ...(cur.spec as JsonObject), replicas } },
          preconditionRv: rv && rv !== scale.metadata.resourceVersion ? rv : undefined,
        };
      });
      return sendJson(res, 200, toScale(r.obj));
    }
    if (subresource === 'binding') {
      if (method !== 'POST') throw KubeError.methodNotAllowed();
      const body = (await this.readJsonBody(req)) as JsonObject;
      const target = (body.target ?? {}) as JsonObject;
      if (!target.name) throw KubeError.invalid('Binding', '', name, [{ reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' }]);
      const meta = (body.metadata ?? {}) as JsonObject;
      const uid = typeof meta.uid === 'string' && meta.uid ? meta.uid : undefined;
      await this.bind(rt, namespace, name, String(target.name), uid, this.writeOptions(url, req, user).dryRun);
      return sendJson(res, 201, successStatus());
    }
    if (subresource === 'eviction') {
      if (method !== 'POST') throw KubeError.methodNotAllowed();
      const raw = await readBody(req);
      const body = raw.length ? (this.decodeBody(req, raw) as JsonObject) : {};
      await this.evict(namespace as string, name, this.deleteOptions(url, body.deleteOptions));
      return sendJson(res, 201, successStatus());
    }
    if (subresource === 'log') {
      if (method !== 'GET') throw KubeError.methodNotAllowed();
      return this.podLog(res, url, namespace as string, name);
    }
    if (subresource === 'exec' || subresource === 'attach') {
      if (method !== 'GET' && method !== 'POST') throw KubeError.methodNotAllowed();
      // A websocket upgrade is a GET, authorized as `get`: upstream also asks for `create`, which the upgrade amounts to
      // (AuthorizePodWebsocketUpgradeCreatePermission, on by default since 1.35).
      if (method === 'GET')
        await this.authorize(user, { resourceRequest: true, verb: 'create', group: rt.group, resource: rt.plural, subresource, namespace, name });
      return this.podExec(req, url, namespace as string, name, subresource);
    }
    if (subresource === 'portforward') {
      if (method !== 'GET' && method !== 'POST') throw KubeError.methodNotAllowed();
      if (method === 'GET')
        await this.authorize(user, { resourceRequest: true, verb: 'create', group: rt.group, resource: rt.plural, subresource, namespace, name });
      return this.podPortForward(req, url, namespace as string, name);
    }
    if (subresource === 'token') {
      if (method !== 'POST') throw KubeError.methodNotAllowed();
      const body = await this.readJsonBody(req);
      const dryRun = this.writeOptions(url, req, user).dryRun;
      return sendJson(res, 201, await this.auth.tokens.tokenRequest(namespace as string, name, body, dryRun));
    }
    throw KubeError.pathNotFound();
  }

  /**
   * pods/log: the options are checked, the container chosen and the pod's node looked up here; the log itself
   * comes from the node's kubelet. A pod on no node yet has no log: an empty answer, as upstream.
   */
  private async podLog(res: ServerResponse, url: URL, namespace: string, name: string): Promise<void> {
    const opts = parsePodLogOptions(url.searchParams, name);
    const pods = this.registry.lookup('', 'v1', 'pods') as ResourceType;
    const pod = (await this.storage.get(pods, namespace, name)).obj;
    const container = selectContainer(pod, opts.container);
    const nodeName = String(((pod.spec ?? {}) as JsonObject).nodeName ?? '');
    if (!nodeName) {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 0 });
      res.end();
      return;
    }
    const node = (await this.storage.get(this.registry.lookup('', 'v1', 'nodes') as ResourceType, undefined, nodeName)).obj;
    const target = { namespace, pod: name, container, nodeName, kubelet: kubeletAddress(node) };
    await proxyContainerLog(res, target, opts, { cert: this.cfg.kubeletClient, caPem: this.cfg.kubeletCaPem });
  }

  /**
   * pods/exec and pods/attach: the options are checked, the container chosen and its node looked up here; the stream is the
   * kubelet's, relayed once it accepted the upgrade.
   */
  private async podExec(req: IncomingMessage, url: URL, namespace: string, name: string, kind: 'exec' | 'attach'): Promise<void> {
    const opts = parsePodExecOptions(url.searchParams, kind === 'attach');
    const pods = this.registry.lookup('', 'v1', 'pods') as ResourceType;
    const pod = (await this.storage.get(pods, namespace, name)).obj;
    const { container, nodeName } = execContainer(pod, opts, kind);
    const raw = upgrades.get(req);
    if (!raw || !isUpgrade(req.headers)) throw KubeError.badRequest('Upgrade request required');
    const node = (await this.storage.get(this.registry.lookup('', 'v1', 'nodes') as ResourceType, undefined, nodeName)).obj;
    const target = { namespace, pod: name, container, nodeName, kubelet: kubeletAddress(node) };
    await relayUpgrade(req, raw, target, kubeletExecPath(target, opts, kind), { cert: this.cfg.kubeletClient, caPem: this.cfg.kubeletCaPem });
  }

  /**
   * pods/portforward: the pod must be on a node; the ports travel inside the stream (and in `ports`, checked here as
   * upstream), and the upgraded connection is the kubelet's, relayed byte for byte.
   */
  private async podPortForward(req: IncomingMessage, url: URL, namespace: string, name: string): Promise<void> {
    const ports = parsePortForwardPorts(url.searchParams);
    const pods = this.registry.lookup('', 'v1', 'pods') as ResourceType;
    const pod = (await this.storage.get(pods, namespace, name)).obj;
    const nodeName = String(((pod.spec ?? {}) as JsonObject).nodeName ?? '');
    if (!nodeName) throw KubeError.badRequest(`pod ${name} does not have a host assigned`);
    const raw = upgrades.get(req);
    if (!raw || !isUpgrade(req.headers)) throw KubeError.badRequest('Upgrade request required');
    const node = (await this.storage.get(this.registry.lookup('', 'v1', 'nodes') as ResourceType, undefined, nodeName)).obj;
    const target = { namespace, pod: name, container: '', nodeName, kubelet: kubeletAddress(node) };
    await relayUpgrade(req, raw, target, kubeletPortForwardPath(target, ports), { cert: this.cfg.kubeletClient, caPem: this.cfg.kubeletCaPem });
  }

  /**
   * pods/binding, as upstream's assignPod: one storage write sets spec.nodeName and the PodScheduled condition (no
   * managedFields entry: the write bypasses the update strategy), refused when the pod is bound, being deleted, or
   * no longer the pod the binding names (its uid).
   */
  private async bind(rt: ResourceType, namespace: string | undefined, name: string, node: string, uid: string | undefined, dryRun: boolean): Promise<void> {
    const assign = (cur: KubeObject): KubeObject => {
      const spec = (cur.spec ?? {}) as JsonObject;
      if (uid && cur.metadata.uid !== uid)
        throw KubeError.conflict(groupResource(rt), name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${String(cur.metadata.uid)}`);
      if (spec.nodeName) throw KubeError.conflict(groupResource(rt), name, `pod ${name} is already assigned to node "${String(spec.nodeName)}"`);
      if (cur.metadata.deletionTimestamp) throw KubeError.conflict(groupResource(rt), name, `pod ${name} is being deleted, cannot be assigned to a host`);
      const status = { ...((cur.status ?? {}) as JsonObject) };
      const conditions = ((status.conditions as JsonObject[] | undefined) ?? []).filter((c) => c.type !== 'PodScheduled');
      conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: apiTime(new Date()) });
      return { ...cur, spec: { ...spec, nodeName: node }, status: { ...status, conditions } };
    };
    if (dryRun) {
      assign((await this.storage.get(rt, namespace, name)).obj);
      return;
    }
    await this.storage.storageUpdate(rt, namespace, name, assign);
  }

  /**
   * The eviction API, as upstream's: a pod that is not running (Pending, Succeeded, Failed) or already being deleted
   * goes regardless of budgets; otherwise the PodDisruptionBudget covering it must allow a disruption, and the
   * eviction spends it (status.disruptionsAllowed - 1, the pod noted in status.disruptedPods, written with optimistic
   * concurrency so two evictions cannot spend one disruption) before the pod is deleted. Refused: 429.
   */
  private async evict(namespace: string, name: string, opts: DeleteOptions): Promise<void> {
    const pods = this.registry.lookup('', 'v1', 'pods') as ResourceType;
    const pdbs = this.registry.lookup('policy', 'v1', 'poddisruptionbudgets') as ResourceType;
    const pod = (await this.storage.get(pods, namespace, name)).obj;
    const phase = ((pod.status as JsonObject | undefined)?.phase as string | undefined) ?? 'Pending';
    const system = { name: 'system:apiserver', groups: [] };
    if (!['Pending', 'Succeeded', 'Failed'].includes(phase) && !pod.metadata.deletionTimestamp) {
      const { items } = await this.storage.list(pdbs, namespace, { labels: [], fields: [] });
      const covering = items.filter((p) => {
        const sel = (p.spec as JsonObject | undefined)?.selector;
        return isPlainObject(sel) && matchesLabels(selectorFromObject(sel), pod.metadata.labels);
      });
      if (covering.length > 1)
        throw new KubeError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
      if (covering.length === 1) {
        const spend = (pdb: KubeObject): KubeObject => {
          const status = (pdb.status ?? {}) as JsonObject;
          const processed =
            (status.observedGeneration as number | undefined) !== undefined && (status.observedGeneration as number) >= (pdb.metadata.generation ?? 0);
          const allowed = Number(status.disruptionsAllowed ?? 0);
          if (!processed || allowed < 1)
            throw new KubeError(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
              causes: [
                {
                  reason: 'DisruptionBudget',
                  message: processed
                    ? `The disruption budget ${pdb.metadata.name} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`
                    : `The disruption budget ${pdb.metadata.name} is still being processed by the server.`,
                },
              ],
            });
          const disrupted = { ...((status.disruptedPods as JsonObject | undefined) ?? {}), [name]: apiTime(new Date()) };
          return { ...pdb, status: { ...status, disruptionsAllowed: allowed - 1, disruptedPods: disrupted } };
        };
        if (opts.dryRun) spend(covering[0]);
        else {
          await this.storage.guaranteedUpdate(
            pdbs,
            namespace,
            covering[0].metadata.name as string,
            { dryRun: false, fieldValidation: 'Ignore', user: system },
            (current) => {
              if (!current) throw KubeError.notFound(groupResource(pdbs), covering[0].metadata.name as string);
              return { obj: spend(current), subresource: 'status' };
            },
          );
        }
      }
    }
    await this.storage.delete(pods, namespace, name, opts, { dryRun: opts.dryRun, fieldValidation: 'Ignore', user: system });
  }

  /** The review kinds (reviews.ts): answered from the request and the authenticator/authorizer chain, never stored. */
  private async review(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    rt: ResourceType,
    namespace: string | undefined,
    user: UserInfo,
    method: string,
  ): Promise<void> {
    if (method !== 'POST' || url.pathname.split('/').filter(Boolean).length !== (rt.namespaced ? 6 : 4)) throw KubeError.methodNotAllowed();
    const body = await this.readJsonBody(req);
    sendJson(res, 201, await answerReview(rt, namespace, body, user, this.auth));
  }
}

/** A list's metadata: its resourceVersion, and the continue token and remaining count when more follow. */
function listMetadata(page: ListResult<unknown>): { resourceVersion: string; continue?: string; remainingItemCount?: number } {
  return {
    resourceVersion: page.resourceVersion,
    ...(page.continueToken ? { continue: page.continueToken } : {}),
    ...(page.remainingItemCount !== undefined ? { remainingItemCount: page.remainingItemCount } : {}),
  };
}
