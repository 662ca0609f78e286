import { randomInt } from 'node:crypto';
import { invalidCause, isPlainObject, JsonObject, KubeError, KubeObject, ResourceType } from '@cerulean/kube';
import { allocateNodePorts } from './node-ports';
import type { RestStorage } from './rest';

/**
 * ClusterIP allocation for Services from the service CIDR (random free address; a taken requested address is Invalid).
 * The range's first address is the `kubernetes` Service's, as upstream reserves it; kube-dns's (the cluster's
 * dnsServiceIP) is never handed out at random either.
 */
export class ClusterIpAllocator {
  private readonly base: number;
  private readonly size: number;
  readonly kubernetesServiceIp: string;
  /** The end of the last Service write queued (see serialized). */
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(
    cidr: string,
    private readonly dnsServiceIp: string,
  ) {
    const [addr, bits] = cidr.split('/');
    this.base = addr.split('.').reduce((a, o) => a * 256 + Number(o), 0);
    this.size = 2 ** (32 - Number(bits));
    this.kubernetesServiceIp = this.text(this.base + 1);
  }

  private text(n: number): string {
    return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
  }

  private inRange(ip: string): boolean {
    const parts = ip.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return false;
    const n = parts.reduce((a, o) => a * 256 + o, 0);
    return n > this.base && n < this.base + this.size - 1;
  }

  /**
   * Runs one Service write after the previous one has finished. Each allocates from a list of the other Services, so
   * the write before it must be stored (and in that list) first: two at once would both see an address or node port
   * free and both take it. Upstream's allocators reserve in etcd for the same reason; one API server per cluster lets
   * this one keep its order in memory.
   */
  serialized<T>(write: () => Promise<T>): Promise<T> {
    const run = this.lastWrite.then(write);
    this.lastWrite = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** The Service's cluster IP, then its node ports (see allocateNodePorts). */
  async assign(svc: KubeObject, storage: RestStorage, old?: KubeObject): Promise<void> {
    await this.assignIp(svc, storage, old);
    await allocateNodePorts(svc, storage, old);
  }

  private async assignIp(svc: KubeObject, storage: RestStorage, old?: KubeObject): Promise<void> {
    const spec = (isPlainObject(svc.spec) ? svc.spec : (svc.spec = {})) as JsonObject;
    const oldSpec = (old?.spec ?? {}) as JsonObject;
    if (spec.type === 'ExternalName') return;
    if (old && oldSpec.clusterIP) {
      if (spec.clusterIP && spec.clusterIP !== oldSpec.clusterIP)
        throw KubeError.invalid('Service', '', svc.metadata.name ?? '', [invalidCause('spec.clusterIPs[0]', spec.clusterIP, 'may not change once set')]);
      spec.clusterIP = oldSpec.clusterIP;
      spec.clusterIPs = oldSpec.clusterIPs ?? [oldSpec.clusterIP];
      return;
    }
    if (spec.clusterIP === 'None') {
      spec.clusterIPs = ['None'];
    } else {
      const rt = storage.registry.lookup('', 'v1', 'services') as ResourceType;
      const { items } = await storage.list(rt, undefined, { labels: [], fields: [] });
      const used = new Set(items.map((s) => (s.spec as JsonObject | undefined)?.clusterIP));
      if (spec.clusterIP) {
        const ip = String(spec.clusterIP);
        if (!this.inRange(ip))
          throw KubeError.invalid('Service', '', svc.metadata.name ?? '', [
            invalidCause('spec.clusterIPs', [ip], 'failed to allocate IP: the provided IP is not in the valid range'),
          ]);
        if (used.has(ip))
          throw KubeError.invalid('Service', '', svc.metadata.name ?? '', [
            invalidCause('spec.clusterIPs', [ip], 'failed to allocate IP: provided IP is already allocated'),
          ]);
      } else {
        let ip = '';
        for (let i = 0; i < 1000 && (!ip || used.has(ip) || ip === this.dnsServiceIp || ip === this.kubernetesServiceIp); i++)
          ip = this.text(this.base + 2 + randomInt(this.size - 3));
        spec.clusterIP = ip;
      }
      spec.clusterIPs = [spec.clusterIP];
    }
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
  }
}
