import { formatIpv4Cidr, ipv4CidrContains, parseIpv4Cidr, type Ipv4Cidr } from '@cerulean/kube';
import type { Informer } from '../client/informer';
import { isNotFound, type KubeObject } from '../client/kube-client';
import { keyOf, type Controller, type ControllerContext } from './controller';
import { EventRecorder } from './events';
import { WorkQueue } from './work-queue';

type ApiNode = KubeObject & { spec?: { podCIDR?: string; podCIDRs?: string[] } };

/** Upstream refuses sets of more than 2^16 subnets (cidrset's clusterSubNetMaxDiff). */
const MAX_SUBNET_BITS = 16;

/**
 * The subnets of one cluster CIDR as upstream's cidrset hands them out: each node gets a `/maskSize` of it, the next
 * free one after the last handed out (wrapping), so a range freed by a deleted node is not reused at once while
 * other nodes may still route to it.
 */
export class CidrSet {
  private readonly cluster: Ipv4Cidr;
  private readonly count: number;
  private readonly used = new Set<number>();
  private next = 0;

  constructor(
    clusterCidr: string,
    private readonly maskSize: number,
  ) {
    const cluster = parseIpv4Cidr(clusterCidr);
    if (!cluster) throw new Error(`cluster CIDR "${clusterCidr}" is not an IPv4 CIDR`);
    if (!Number.isInteger(maskSize) || maskSize < cluster.prefix || maskSize > 32)
      throw new Error(`node CIDR mask size ${maskSize} does not fit in the cluster CIDR ${clusterCidr}`);
    if (maskSize - cluster.prefix > MAX_SUBNET_BITS)
      throw new Error(`node CIDR mask size ${maskSize} is too large for the cluster CIDR ${clusterCidr} (at most ${cluster.prefix + MAX_SUBNET_BITS})`);
    this.cluster = cluster;
    this.count = 2 ** (maskSize - cluster.prefix);
  }

  get free(): number {
    return this.count - this.used.size;
  }

  /** The next free subnet, marked used; undefined when every one is taken. */
  allocateNext(): string | undefined {
    for (let i = 0; i < this.count; i++) {
      const index = (this.next + i) % this.count;
      if (this.used.has(index)) continue;
      this.used.add(index);
      this.next = (index + 1) % this.count;
      return this.subnet(index);
    }
    return undefined;
  }

  /**
   * Marks a CIDR a node already holds as taken (every subnet it covers, if it is wider than one); false when it is
   * not inside the cluster CIDR or is narrower than a subnet, which this set does not manage.
   */
  occupy(cidr: string): boolean {
    const indices = this.indices(cidr);
    for (const i of indices ?? []) this.used.add(i);
    return indices !== undefined;
  }

  release(cidr: string): void {
    for (const i of this.indices(cidr) ?? []) this.used.delete(i);
  }

  private subnet(index: number): string {
    return formatIpv4Cidr({ base: this.cluster.base + index * 2 ** (32 - this.maskSize), prefix: this.maskSize });
  }

  private indices(cidr: string): number[] | undefined {
    const c = parseIpv4Cidr(cidr);
    if (!c || c.prefix > this.maskSize || !ipv4CidrContains(this.cluster, c)) return undefined;
    const first = (c.base - this.cluster.base) / 2 ** (32 - this.maskSize);
    return Array.from({ length: 2 ** (this.maskSize - c.prefix) }, (_, i) => first + i);
  }
}

export interface NodeIpamOptions {
  /** The cluster's pod CIDR (kube-controller-manager's --cluster-cidr). */
  clusterCidr: string;
  /** The size of each node's share (--node-cidr-mask-size; 24 on AKS kubenet and kind). */
  nodeCidrMaskSize: number;
}

/** A node's IPv4 pod CIDR as the API holds it (podCIDRs wins, as upstream's conversion has it). */
export function nodePodCidr(node: ApiNode): string | undefined {
  const cidrs = node.spec?.podCIDRs?.length ? node.spec.podCIDRs : node.spec?.podCIDR ? [node.spec.podCIDR] : [];
  return cidrs.find((c) => parseIpv4Cidr(c) !== undefined);
}

/**
 * Node IPAM (upstream's range allocator, --allocate-node-cidrs): every Node without `spec.podCIDR` gets the next free
 * subnet of the cluster CIDR in `spec.podCIDR` and `spec.podCIDRs`. Nothing is handed out before the node list has
 * been read once, so the CIDRs existing nodes hold are known first; a deleted node's CIDR becomes free again. When
 * the range is exhausted the node gets upstream's `CIDRNotAvailable` event and is retried (at once when a node goes).
 */
export class NodeIpamController implements Controller {
  readonly name = 'node-ipam';
  private readonly nodes: Informer<ApiNode>;
  private readonly queue: WorkQueue;
  private readonly cidrs: CidrSet;
  private readonly events: EventRecorder;
  /** The CIDR each node holds or is being given: what its deletion frees. */
  private readonly held = new Map<string, string>();
  /** Nodes told CIDRNotAvailable and still waiting: one event per wait, not one per retry. */
  private readonly starved = new Set<string>();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly options: NodeIpamOptions,
  ) {
    this.cidrs = new CidrSet(options.clusterCidr, options.nodeCidrMaskSize);
    this.events = new EventRecorder(ctx.client, 'cidrAllocator', ctx.log, ctx.now);
    this.queue = new WorkQueue((name) => this.reconcile(name), {
      workers: 1,
      onError: (name, err, n) => ctx.log?.('node CIDR allocation failed; retrying', { node: name, failures: n, error: (err as Error).message }),
    });
    this.nodes = ctx.informers.informer<ApiNode>('/api/v1/nodes', {
      upsert: (node) => {
        const cidr = nodePodCidr(node);
        if (cidr) this.hold(node.metadata.name, cidr);
        else this.queue.add(keyOf(node));
      },
      deleted: (node) => {
        this.free(node.metadata.name);
        // A freed range may be what a waiting node needs.
        for (const name of this.starved) this.queue.add(name);
      },
      synced: () => this.queue.start(),
    });
  }

  start(): void {
    if (this.nodes.synced) this.queue.start();
  }

  async stop(): Promise<void> {
    await this.queue.stop();
  }

  private hold(name: string, cidr: string): void {
    const before = this.held.get(name);
    if (before === cidr) return;
    if (before) this.cidrs.release(before);
    this.held.set(name, cidr);
    this.starved.delete(name);
    if (!this.cidrs.occupy(cidr)) this.ctx.log?.('node holds a pod CIDR outside the cluster CIDR; left alone', { node: name, podCIDR: cidr });
  }

  private free(name: string): void {
    const cidr = this.held.get(name);
    if (cidr) this.cidrs.release(cidr);
    this.held.delete(name);
    this.starved.delete(name);
  }

  private async reconcile(name: string): Promise<void> {
    const node = this.nodes.get(undefined, name);
    if (!node || nodePodCidr(node)) return;
    // A CIDR picked on an earlier pass whose write failed is offered again rather than a second one taken.
    let cidr = this.held.get(name);
    if (!cidr) {
      cidr = this.cidrs.allocateNext();
      if (!cidr) {
        if (!this.starved.has(name)) {
          this.starved.add(name);
          this.events.record(
            { apiVersion: 'v1', kind: 'Node', metadata: node.metadata },
            'Normal',
            'CIDRNotAvailable',
            `Node ${name} status is now: CIDRNotAvailable`,
          );
        }
        throw new Error(`failed to allocate a pod CIDR for node ${name}: no free /${this.options.nodeCidrMaskSize} left in ${this.options.clusterCidr}`);
      }
      this.held.set(name, cidr);
      this.starved.delete(name);
    }
    try {
      // No resourceVersion precondition: the agent rewrites its Node every few seconds, and the API server's own
      // rule (a podCIDR is set once) already refuses a write that would change one someone else set meanwhile.
      await this.ctx.client.patch(`/api/v1/nodes/${name}`, { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
      this.ctx.log?.('node pod CIDR allocated', { node: name, podCIDR: cidr });
    } catch (err) {
      if (isNotFound(err)) return this.free(name);
      throw err;
    }
  }
}
