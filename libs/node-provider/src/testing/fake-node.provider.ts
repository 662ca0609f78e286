import { ProviderError } from '../provider-error';
import {
  NodeLabels,
  type ExecOptions,
  type ExecResult,
  type NetworkHandle,
  type NodeHandle,
  type NodeProvider,
  type NodeSpec,
  type VolumeHandle,
} from '../node-provider';

/** A NodeProvider method a test can make fail. */
export type FakeNodeProviderMethod = keyof NodeProvider;

/** A node the fake holds: its handle and the spec it was made from. */
export interface FakeNode {
  handle: NodeHandle;
  spec?: NodeSpec;
}

const matches = (labels: Record<string, string>, wanted: Record<string, string>): boolean => Object.entries(wanted).every(([k, v]) => labels[k] === v);

/**
 * An in-memory NodeProvider for tests of the code that drives one (handlers, the engine): no Docker, no network,
 * no timers. Nodes and networks live in maps; every call is recorded in `calls`; `failNext` makes the next call of
 * a method throw (e.g. a ProviderError, transient or not). Nodes have no agent URL unless `agentUrlFor` gives one,
 * so code that waits for a node agent must be given one or tested on paths that do not wait.
 */
export class FakeNodeProvider implements NodeProvider {
  readonly nodes = new Map<string, FakeNode>();
  readonly networks = new Map<string, NetworkHandle>();
  readonly volumes = new Map<string, VolumeHandle>();
  /** `method name` or `method name:argument` for each call, in order. */
  readonly calls: string[] = [];
  private readonly failures = new Map<FakeNodeProviderMethod, Error[]>();
  private nextId = 1;

  constructor(
    private readonly options: {
      agentUrlFor?: (name: string) => string | undefined;
      exec?: (name: string, cmd: string[], options: ExecOptions) => ExecResult;
    } = {},
  ) {}

  /** The next call of `method` throws `error` (queued: several calls fail in turn). */
  failNext(method: FakeNodeProviderMethod, error: Error = new ProviderError(`${method} failed`, { code: 'EngineError', transient: false })): this {
    this.failures.set(method, [...(this.failures.get(method) ?? []), error]);
    return this;
  }

  /** Forgets every node, network, call and queued failure. */
  reset(): void {
    this.nodes.clear();
    this.networks.clear();
    this.volumes.clear();
    this.calls.length = 0;
    this.failures.clear();
  }

  /** Puts a node in place as if an earlier run had made it (state `running` unless given). */
  seedNode(name: string, labels: Record<string, string>, state: NodeHandle['state'] = 'running'): NodeHandle {
    const handle: NodeHandle = { name, id: this.newId(), state, labels, zone: labels[NodeLabels.zone] ?? '', createdAt: new Date(0) };
    if (state === 'running') handle.agentUrl = this.options.agentUrlFor?.(name);
    this.nodes.set(name, { handle });
    return { ...handle };
  }

  async ensureNetwork(clusterId: string, labels: Record<string, string>): Promise<NetworkHandle> {
    this.enter('ensureNetwork', clusterId);
    const existing = this.networks.get(clusterId);
    if (existing) return { ...existing };
    const network = { name: `cerulean-${clusterId}`, id: this.newId(), labels: { ...labels } };
    this.networks.set(clusterId, network);
    return { ...network };
  }

  async removeNetwork(clusterId: string): Promise<boolean> {
    this.enter('removeNetwork', clusterId);
    this.networks.delete(clusterId);
    return true;
  }

  async ensureNode(spec: NodeSpec): Promise<NodeHandle> {
    this.enter('ensureNode', spec.name);
    const existing = this.nodes.get(spec.name);
    if (existing) {
      this.run(existing.handle);
      return { ...existing.handle };
    }
    for (const v of spec.volumes ?? []) if (!this.volumes.has(v.name)) this.volumes.set(v.name, { name: v.name, labels: { ...v.labels } });
    const handle: NodeHandle = { name: spec.name, id: this.newId(), state: 'created', labels: { ...spec.labels }, zone: spec.zone, createdAt: new Date() };
    this.run(handle);
    this.nodes.set(spec.name, { handle, spec });
    return { ...handle };
  }

  async removeNode(name: string): Promise<void> {
    this.enter('removeNode', name);
    this.nodes.delete(name);
  }

  async inspectNode(name: string): Promise<NodeHandle | undefined> {
    this.enter('inspectNode', name);
    const node = this.nodes.get(name);
    return node ? { ...node.handle } : undefined;
  }

  async listNodes(labels: Record<string, string>): Promise<NodeHandle[]> {
    this.enter('listNodes');
    return [...this.nodes.values()].filter((n) => matches(n.handle.labels, labels)).map((n) => ({ ...n.handle }));
  }

  async listNetworks(labels: Record<string, string>): Promise<NetworkHandle[]> {
    this.enter('listNetworks');
    return [...this.networks.values()].filter((n) => matches(n.labels, labels)).map((n) => ({ ...n }));
  }

  async listVolumes(labels: Record<string, string>): Promise<VolumeHandle[]> {
    this.enter('listVolumes');
    return [...this.volumes.values()].filter((v) => matches(v.labels, labels)).map((v) => ({ ...v }));
  }

  async removeVolume(name: string): Promise<void> {
    this.enter('removeVolume', name);
    this.volumes.delete(name);
  }

  async stopNode(name: string): Promise<void> {
    this.enter('stopNode', name);
    const node = this.nodes.get(name);
    if (!node) return;
    node.handle.state = 'exited';
    delete node.handle.agentUrl;
  }

  async startNode(name: string): Promise<NodeHandle> {
    this.enter('startNode', name);
    const node = this.nodes.get(name);
    if (!node) throw new ProviderError(`node ${name} not found`, { code: 'NotFound', transient: false, statusCode: 404 });
    this.run(node.handle);
    return { ...node.handle };
  }

  async exec(name: string, cmd: string[], options: ExecOptions): Promise<ExecResult> {
    this.enter('exec', name);
    const node = this.nodes.get(name);
    if (!node) throw new ProviderError(`node ${name} not found`, { code: 'NotFound', transient: false, statusCode: 404 });
    if (node.handle.state !== 'running') throw new ProviderError(`node ${name} is not running`, { code: 'Conflict', transient: false, statusCode: 409 });
    const now = new Date();
    return this.options.exec?.(name, cmd, options) ?? { exitCode: 0, output: '', droppedBytes: 0, timedOut: false, startedAt: now, finishedAt: now };
  }

  private enter(method: FakeNodeProviderMethod, arg?: string): void {
    this.calls.push(arg === undefined ? method : `${method}:${arg}`);
    const queued = this.failures.get(method);
    const error = queued?.shift();
    if (queued?.length === 0) this.failures.delete(method);
    if (error) throw error;
  }

  private run(handle: NodeHandle): void {
    handle.state = 'running';
    handle.agentUrl = this.options.agentUrlFor?.(handle.name);
  }

  private newId(): string {
    return `fake-${(this.nextId++).toString(16).padStart(12, '0')}`;
  }
}
