import { existsSync, writeFileSync } from 'node:fs';
import { runOnNode, type CommandRunner } from '../exec';
import type { KubeApi } from '../kube-api';
import { ListWatch } from '../kube-watch';
import type { LogLine } from '../server';
import { existingChains, JUMP_RULES, jumpsSurelyMissing, renderRules, withJumps, type ProxyEndpointSlice, type ProxyService } from './rules';

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
  /**
   * kube-proxy's per-Service chains in the nat table after the last restore that went through: what the next render
   * deletes when it no longer needs them. Unknown at first and after a failure, then read with `iptables-save`.
   */
  private chains: Set<string> | undefined;
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

  /**
   * One pass: renders the rules and restores them when they changed. Each command is a process on a node that may be
   * starting beside ten others, so a change that leaves the rules as they are costs none, `iptables-save` runs only
   * when the chains present are not known, and on a new node the jumps into kube-proxy's chains go in with the first
   * restore instead of a check and an insert each.
   */
  private async sync(): Promise<void> {
    const run = this.options.run ?? runOnNode;
    try {
      let existing = this.chains;
      let jumps: (typeof JUMP_RULES)[number][] = [];
      if (!existing) {
        const save = await run([IPTABLES_SAVE]);
        existing = existingChains(save);
        if (!this.jumpsInstalled) jumps = jumpsSurelyMissing(save);
      }
      const rendered = renderRules(this.services.list(), this.slices.list(), { clusterCidr: this.options.clusterCidr }, existing);
      if (rendered.restore !== this.lastRestore || !this.jumpsInstalled) {
        await run([IPTABLES_RESTORE, '--noflush'], jumps.length ? withJumps(rendered.restore, jumps) : rendered.restore);
        this.lastRestore = rendered.restore;
        this.syncs += 1;
      }
      this.chains = rendered.chains;
      if (!this.jumpsInstalled) await this.installJumps(run, jumps);
    } catch (err) {
      this.chains = undefined;
      throw err;
    }
  }

  /** The jump rules not put in by the restore: each checked, and inserted first in its chain when missing. */
  private async installJumps(run: CommandRunner, restored: readonly (typeof JUMP_RULES)[number][]): Promise<void> {
    for (const j of JUMP_RULES) {
      if (restored.includes(j)) continue;
      const present = await run([IPTABLES, '-t', j.table, '-C', j.chain, ...j.rule]).then(
        () => true,
        () => false,
      );
      if (!present) await run([IPTABLES, '-t', j.table, '-I', j.chain, '1', ...j.rule]);
    }
    this.jumpsInstalled = true;
    this.options.log({ msg: 'kube-proxy rules installed', services: this.services.list().length, chains: this.chains?.size ?? 0 });
  }
}
