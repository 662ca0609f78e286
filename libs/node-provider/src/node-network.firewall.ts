import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Every rule Cerulean adds carries this comment (then the bridge): the only rules it ever deletes. */
export const ISOLATION_COMMENT = 'cerulean-node-isolation';

export interface IsolationRule {
  chain: 'INPUT' | 'DOCKER-USER';
  /** The rule after `-I <chain> 1` / `-C <chain>` / `-D <chain>`. */
  spec: string[];
}

/**
 * What confines the containers on a cluster bridge to that bridge, enforced on the host (nodes hold nearly every
 * capability, so rules inside them could be undone):
 * - INPUT: nothing they open reaches the host itself (any host address: the gateway, 0.0.0.0 listeners, the host's
 *   link-local ones); replies to connections the host opened (docker-proxy to the agent, the API server) pass;
 * - DOCKER-USER (FORWARD, before Docker's own accepts): nothing leaves the bridge: no metadata address
 *   (169.254.169.254), no other host, no other cluster. Traffic between the cluster's containers stays on the bridge.
 * REJECT rather than DROP: a probe fails at once instead of hanging. IPv6 needs nothing: Docker turns it off in the
 * containers of a network without IPv6.
 */
export function isolationRules(bridge: string): IsolationRule[] {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge)) throw new Error(`not a bridge interface name: ${bridge}`);
  const tag = ['-m', 'comment', '--comment', `${ISOLATION_COMMENT} ${bridge}`];
  const reject = ['-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'];
  return [
    { chain: 'INPUT', spec: ['-i', bridge, '-m', 'conntrack', '!', '--ctstate', 'ESTABLISHED,RELATED', ...tag, ...reject] },
    { chain: 'DOCKER-USER', spec: ['-i', bridge, '!', '-o', bridge, ...tag, ...reject] },
  ];
}

/** The bridges named in Cerulean's rules of an `iptables -S` listing. */
export function isolatedBridges(listing: string): string[] {
  const found = new Set<string>();
  const re = new RegExp(`--comment "?${ISOLATION_COMMENT} ([A-Za-z0-9_.-]+)"?`, 'g');
  for (const m of listing.matchAll(re)) found.add(m[1]);
  return [...found];
}

/** Applies and removes the isolation of cluster bridges on the Docker host. */
export interface NodeNetworkFirewall {
  /** Adds whatever of the bridge's rules is missing (idempotent). */
  isolate(bridge: string): Promise<void>;
  /** Removes the bridge's rules, every copy; rules that are not Cerulean's are never touched. */
  release(bridge: string): Promise<void>;
  /** Bridges that have Cerulean rules. */
  isolated(): Promise<string[]>;
}

/**
 * `NodeNetworkFirewall` with the host's `iptables` (run by the worker, as root, in the Docker host's network
 * namespace). `-w`: waits for the xtables lock other processes (dockerd) hold.
 */
export class IptablesFirewall implements NodeNetworkFirewall {
  constructor(private readonly binary = 'iptables') {}

  async isolate(bridge: string): Promise<void> {
    for (const rule of isolationRules(bridge)) {
      if (!(await this.exists(rule))) await this.iptables(['-I', rule.chain, '1', ...rule.spec]);
    }
  }

  async release(bridge: string): Promise<void> {
    for (const rule of isolationRules(bridge)) {
      // Two workers racing isolate() can leave a duplicate: delete until none is left.
      for (let i = 0; i < 16 && (await this.exists(rule)); i++) {
        // Another worker may delete it between the check and the delete: gone is what release wants.
        if (!(await this.deleted(rule))) break;
      }
    }
  }

  async isolated(): Promise<string[]> {
    const listings = await Promise.all((['INPUT', 'DOCKER-USER'] as const).map((chain) => this.iptables(['-S', chain])));
    return [...new Set(listings.flatMap(isolatedBridges))];
  }

  /** Deletes one copy of the rule; false when there was none left to delete. */
  private async deleted(rule: IsolationRule): Promise<boolean> {
    try {
      await run(this.binary, ['-w', '-D', rule.chain, ...rule.spec]);
      return true;
    } catch (err) {
      if (noSuchRule(err)) return false;
      throw firewallError(err, `${this.binary} -D ${rule.chain}`);
    }
  }

  private async exists(rule: IsolationRule): Promise<boolean> {
    try {
      await run(this.binary, ['-w', '-C', rule.chain, ...rule.spec]);
      return true;
    } catch (err) {
      // 1: no such rule. Anything else (no iptables, no DOCKER-USER chain, no permission) must not pass for "absent".
      if (noSuchRule(err)) return false;
      throw firewallError(err, `${this.binary} -C ${rule.chain}`);
    }
  }

  private async iptables(args: string[]): Promise<string> {
    try {
      return (await run(this.binary, ['-w', ...args])).stdout;
    } catch (err) {
      throw firewallError(err, `${this.binary} ${args.slice(0, 2).join(' ')}`);
    }
  }
}

/** A firewall that does nothing: for Docker hosts whose packet filter the platform cannot reach (say so in the logs). */
export class NoFirewall implements NodeNetworkFirewall {
  async isolate(): Promise<void> {}
  async release(): Promise<void> {}
  async isolated(): Promise<string[]> {
    return [];
  }
}

export class FirewallError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FirewallError';
  }
}

/** iptables' exit 1 for a rule that is not in the chain (any other failure is a real error). */
const noSuchRule = (err: unknown): boolean =>
  (err as { code?: unknown }).code === 1 && /does a matching rule exist|Bad rule/i.test(String((err as { stderr?: unknown }).stderr));

function firewallError(err: unknown, action: string): FirewallError {
  const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
  const reason = stderr || (err instanceof Error ? err.message : String(err));
  return new FirewallError(`${action}: ${reason}`, { cause: err });
}
