import { existsSync, writeFileSync } from 'node:fs';
import { runOnNode, type CommandRunner } from '../exec';
import type { KubeApi } from '../kube-api';
import { ListWatch } from '../kube-watch';
import type { LogLine } from '../server';
import { existingChains, JUMP_RULES, renderRules, type ProxyEndpointSlice, type ProxyService } from './rules';

export const IPTABLES = '/usr/sbin/iptables';
const IPTABLES_RESTORE = '/usr/sbin/iptables-restore';
const IPTABLES_SAVE = '/usr/sbin/iptables-save';
/** Packets bridged between pods on cni0 go through iptables too, so a Service reply to a pod on the same node is un-NATed. */
const BRIDGE_NF_CALL_IPTABLES = '/proc/sys/net/bridge/bridge-nf-call-iptables';
const MIN_SYNC_INTERVAL_MS = 100;

/**
 * kube-proxy's iptables mode inside the node: watches Services and EndpointSlices through the API and rewrites its
 * chains on every change (coalesced), so ClusterIPs and node ports reach ready endpoints from pods and from the node.
 */
export class KubeProxy {
  private services: ListWatch<ProxyService & { metadata: { name: string; namespace: string } }>;
  private slices: ListWatch<ProxyEndpointSlice & { metadata: { name: string; namespace: string } }>;
  private syncing: Promise<void> | undefined;
  private again = false;
  private jumpsInstalled = false;
  private lastRestore = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: ((services: ProxyService[], slices: ProxyEndpointSlice[]) => void)[] = [];
  syncs = 0;

  constructor(
    private readonly options: {
      /** Its own client: its two watches hold their connections. */
      api: KubeApi;
      clusterCidr: string;
      log: LogLine;
      run?: CommandRunner;
    },
  ) {
    const common = { api: options.api, log: options.log, onChange: () => this.changed() };
    this.services = new ListWatch({ ...common, path: '/api/v1/services' });
    this.slices = new ListWatch({ ...common, path: '/apis/discovery.k8s.io/v1/endpointslices' });
  }

  static available(): boolean {
    return existsSync(IPTABLES_RESTORE) && existsSync(IPTABLES_SAVE);
  }

  start(): void {
    try {
      if (existsSync(BRIDGE_NF_CALL_IPTABLES)) writeFileSync(BRIDGE_NF_CALL_IPTABLES, '1');
    } catch (err) {
      this.options.log({ msg: 'cannot enable bridge-nf-call-iptables: Service replies between pods of one node may fail', error: String(err) });
    }
    this.services.start();
    this.slices.start();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.services.stop();
    this.slices.stop();
  }

  /** The cluster's Services as last seen; undefined until they were listed once. */
  serviceList(): ProxyService[] | undefined {
    return this.services.synced ? this.services.list() : undefined;
  }

  /** Also tells `listener` of every change of Services or EndpointSlices (the node's DNS shares this view). */
  onChange(listener: (services: ProxyService[], slices: ProxyEndpointSlice[]) => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l(this.services.list(), this.slices.list());
    this.requestSync();
  }

  private requestSync(): void {
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = this.sync()
      .catch((err: unknown) => {
        this.options.log({ msg: 'kube-proxy sync failed', error: err instanceof Error ? err.message : String(err) });
        // Try again a little later even without a new event: the rules must converge.
        this.again = true;
      })
      .finally(() => {
        this.syncing = undefined;
        if (this.again) {
          this.again = false;
          this.timer = setTimeout(() => this.requestSync(), MIN_SYNC_INTERVAL_MS);
        }
      });
  }

  private async sync(): Promise<void> {
    const run = this.options.run ?? runOnNode;
    const save = await run([IPTABLES_SAVE, '-t', 'nat']);
    const rendered = renderRules(this.services.list(), this.slices.list(), { clusterCidr: this.options.clusterCidr }, existingChains(save));
    if (rendered.restore !== this.lastRestore || !this.jumpsInstalled) {
      await run([IPTABLES_RESTORE, '--noflush'], rendered.restore);
      this.lastRestore = rendered.restore;
      this.syncs += 1;
    }
    if (!this.jumpsInstalled) {
      for (const j of JUMP_RULES) {
        const present = await run([IPTABLES, '-t', j.table, '-C', j.chain, ...j.rule]).then(
          () => true,
          () => false,
        );
        if (!present) await run([IPTABLES, '-t', j.table, '-I', j.chain, '1', ...j.rule]);
      }
      this.jumpsInstalled = true;
      this.options.log({ msg: 'kube-proxy rules installed', services: this.services.list().length, chains: rendered.chains.size });
    }
  }
}
