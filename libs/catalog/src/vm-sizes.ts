import data from '../data/vm-sizes.json';

export interface VmSize {
  name: string;
  vCPUs: number;
  memoryMiB: number;
  maxPods: number;
}

export interface ContainerLimits {
  nanoCpus: number;
  memoryBytes: number;
}

// Docker refuses a memory limit below 6 MiB; the agent needs ~10 MiB to boot.
const MIN_MEMORY_BYTES = 32 * 1024 * 1024;
const MIN_NANO_CPUS = 10_000_000;

export class VmSizeCatalog {
  private readonly byLowerName = new Map<string, VmSize>();

  constructor(sizes: VmSize[] = data.sizes) {
    for (const s of sizes) this.byLowerName.set(s.name.toLowerCase(), s);
  }

  list(): VmSize[] {
    return [...this.byLowerName.values()];
  }

  /** VM size names are case-insensitive in ARM. */
  find(name: string): VmSize | undefined {
    return this.byLowerName.get(name.toLowerCase());
  }

  /**
   * The container limits for a size: its nominal vCPU and memory times the scale factors,
   * so that a 2-core machine can host tens of "Standard_D4s_v3" nodes.
   */
  limitsFor(size: VmSize, cpuFactor: number, memoryFactor: number): ContainerLimits {
    return {
      nanoCpus: Math.max(MIN_NANO_CPUS, Math.round(size.vCPUs * cpuFactor * 1e9)),
      memoryBytes: Math.max(MIN_MEMORY_BYTES, Math.round(size.memoryMiB * 1024 * 1024 * memoryFactor)),
    };
  }
}
