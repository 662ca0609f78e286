import data from '../data/kubernetes-versions.json';

export interface KubernetesMinor {
  version: string;
  patches: string[];
  supportPlan: string[];
  isDefault?: boolean;
  isPreview?: boolean;
}

/** Parsed `major.minor.patch`; `patch` is undefined for a `major.minor` alias. */
export interface SemVer {
  major: number;
  minor: number;
  patch?: number;
}

const MINORS: KubernetesMinor[] = data.versions;

export function parseKubernetesVersion(v: string): SemVer | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(v.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: m[3] === undefined ? undefined : Number(m[3]) };
}

export function compareVersions(a: string, b: string): number {
  const x = parseKubernetesVersion(a);
  const y = parseKubernetesVersion(b);
  if (!x || !y) throw new Error(`not a Kubernetes version: ${!x ? a : b}`);
  return x.major - y.major || x.minor - y.minor || (x.patch ?? 0) - (y.patch ?? 0);
}

const minorOf = (v: string): string => {
  const p = parseKubernetesVersion(v);
  return p ? `${p.major}.${p.minor}` : v;
};

/** The versions catalog: what AKS's listKubernetesVersions serves, and the upgrade rules it implies. */
export class KubernetesVersionCatalog {
  constructor(private readonly minors: KubernetesMinor[] = MINORS) {}

  list(): KubernetesMinor[] {
    return this.minors;
  }

  defaultVersion(): string {
    const minor = this.minors.find((m) => m.isDefault) ?? this.minors[this.minors.length - 1];
    return minor.patches[minor.patches.length - 1];
  }

  /**
   * Resolves what a user asked for to a concrete patch version, as AKS does:
   * empty → default, `1.33` → newest 1.33 patch, `1.33.2` → itself. Undefined when not offered.
   */
  resolve(requested: string | undefined | null): string | undefined {
    if (requested === undefined || requested === null || requested.trim() === '') return this.defaultVersion();
    const p = parseKubernetesVersion(requested);
    if (!p) return undefined;
    const minor = this.minors.find((m) => m.version === `${p.major}.${p.minor}`);
    if (!minor) return undefined;
    if (p.patch === undefined) return minor.patches[minor.patches.length - 1];
    return minor.patches.includes(requested.trim()) ? requested.trim() : undefined;
  }

  allPatches(): string[] {
    return this.minors.flatMap((m) => m.patches);
  }

  /** Newer patches of the same minor, and every patch of the next minor (no minor may be skipped). */
  upgradesFrom(version: string): string[] {
    const from = parseKubernetesVersion(version);
    if (!from) return [];
    return this.allPatches().filter((candidate) => {
      const c = parseKubernetesVersion(candidate) as SemVer;
      if (c.major !== from.major) return false;
      if (c.minor === from.minor) return (c.patch ?? 0) > (from.patch ?? 0);
      return c.minor === from.minor + 1;
    });
  }

  /**
   * Whether `from` → `to` (both concrete patches) is an upgrade AKS allows: the same version, a newer patch,
   * or any patch of the next minor. Downgrades and skipped minors are not.
   */
  upgradeVerdict(from: string, to: string): 'same' | 'upgrade' | 'downgrade' | 'skips-minor' {
    const cmp = compareVersions(to, from);
    if (cmp === 0) return 'same';
    if (cmp < 0) return 'downgrade';
    const a = parseKubernetesVersion(from) as SemVer;
    const b = parseKubernetesVersion(to) as SemVer;
    return b.major === a.major && b.minor <= a.minor + 1 ? 'upgrade' : 'skips-minor';
  }

  isPreview(version: string): boolean {
    return this.minors.find((m) => m.version === minorOf(version))?.isPreview === true;
  }
}
