/**
 * Pure planning: which node names a pool should have, given what exists. The same input always gives
 * the same plan, so a worker that died half-way re-plans from what it observes and finishes the job.
 */

const INDEX_WIDTH = 6;

/** AKS's VMSS instance name: `aks-<pool>-<8 digits>-vmss` + instance index in base 36, 6 wide. */
export function nodeName(pool: string, vmssSuffix: string, index: number): string {
  return `aks-${pool}-${vmssSuffix}-vmss${index.toString(36).padStart(INDEX_WIDTH, '0')}`;
}

/** The instance index of a node of this pool, or undefined for a name that is not one of its instances. */
export function parseNodeIndex(name: string, pool: string, vmssSuffix: string): number | undefined {
  const prefix = `aks-${pool}-${vmssSuffix}-vmss`;
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  if (!/^[0-9a-z]{6}$/.test(rest)) return undefined;
  return parseInt(rest, 36);
}

export interface PoolPlan {
  /** Indices of nodes that stay (they must be running and Ready). */
  keep: number[];
  /** Indices of nodes to create: the lowest free ones. */
  create: number[];
  /** Existing node names to remove: the chosen ones, then the highest-numbered, then strays. */
  remove: string[];
}

/**
 * `reserved` are nodes that exist but are no member of the pool's count (nodes an upgrade quarantined): they are
 * neither kept nor removed here, and their indices are never given to new nodes.
 *
 * `chosen` are members the user picked for removal (AKS deleteMachines): while the pool has more members than it
 * wants they go before the usual choice (the highest-numbered). They only ever fill the surplus: named machines the
 * count still wants (a later scale-up) stay, so the plan never drops the pool below its count.
 */
export function planPool(pool: string, vmssSuffix: string, desiredCount: number, observed: string[], reserved: string[] = [], chosen: string[] = []): PoolPlan {
  const indexed: { name: string; index: number }[] = [];
  const strays: string[] = [];
  const set = new Set(reserved);
  const taken = new Set(reserved.map((name) => parseNodeIndex(name, pool, vmssSuffix)).filter((i): i is number => i !== undefined));
  for (const name of observed) {
    if (set.has(name)) continue;
    const index = parseNodeIndex(name, pool, vmssSuffix);
    if (index === undefined) strays.push(name);
    else indexed.push({ name, index });
  }
  indexed.sort((a, b) => a.index - b.index);
  const surplus = Math.max(0, indexed.length - desiredCount);
  const picked = new Set(
    indexed
      .filter((n) => chosen.includes(n.name))
      .slice(0, surplus)
      .map((n) => n.name),
  );
  const rest = indexed.filter((n) => !picked.has(n.name));
  const keep = rest.slice(0, desiredCount).map((n) => n.index);
  const remove = [
    ...indexed.filter((n) => picked.has(n.name)).map((n) => n.name),
    ...rest
      .slice(desiredCount)
      .reverse()
      .map((n) => n.name),
  ];
  for (const i of keep) taken.add(i);
  const create: number[] = [];
  for (let i = 0; keep.length + create.length < desiredCount; i++) {
    if (!taken.has(i)) create.push(i);
  }
  return { keep, create, remove: [...remove, ...strays.sort()] };
}

/** Zone of an instance: the pool's zones in turn, as VMSS spreads instances; '' for a pool without zones. */
export function zoneFor(index: number, zones: string[]): string {
  return zones.length === 0 ? '' : zones[index % zones.length];
}
