/** How long a controller trusts its own unconfirmed creates and deletes before it looks at the world again. */
const EXPECTATIONS_TTL_MS = 5 * 60_000;

interface Expected {
  adds: number;
  deletes: Set<string>;
  since: number;
}

/**
 * Upstream's controller expectations: after a controller asks for N pods to be created (or named pods to be
 * deleted), it does not act on that owner again until the watch has shown those changes, so a slow watch never
 * makes it create the same replicas twice.
 */
export class Expectations {
  private readonly byOwner = new Map<string, Expected>();

  constructor(private readonly now: () => number = Date.now) {}

  expectCreates(owner: string, count: number): void {
    const e = this.entry(owner);
    e.adds += count;
  }

  expectDeletes(owner: string, podKeys: readonly string[]): void {
    const e = this.entry(owner);
    for (const k of podKeys) e.deletes.add(k);
  }

  /** The watch showed a pod of `owner` appear (or a create failed and will never show). */
  created(owner: string): void {
    const e = this.byOwner.get(owner);
    if (e && e.adds > 0) e.adds--;
  }

  deleted(owner: string, podKey: string): void {
    this.byOwner.get(owner)?.deletes.delete(podKey);
  }

  satisfied(owner: string): boolean {
    const e = this.byOwner.get(owner);
    if (!e) return true;
    if ((e.adds <= 0 && e.deletes.size === 0) || this.now() - e.since > EXPECTATIONS_TTL_MS) {
      this.byOwner.delete(owner);
      return true;
    }
    return false;
  }

  forget(owner: string): void {
    this.byOwner.delete(owner);
  }

  private entry(owner: string): Expected {
    let e = this.byOwner.get(owner);
    if (!e || (e.adds <= 0 && e.deletes.size === 0)) {
      e = { adds: 0, deletes: new Set(), since: this.now() };
      this.byOwner.set(owner, e);
    }
    return e;
  }
}
