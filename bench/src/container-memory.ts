import type Dockerode from 'dockerode';

/** A container's memory as `docker stats` shows it, and what it is made of (cgroup v1 or v2 memory.stat). */
export interface ContainerMemory {
  /** usage − inactive_file: the figure `docker stats` prints. */
  mib: number;
  usageMiB: number;
  /** Anonymous memory: the heaps and stacks of the container's processes. */
  anonMiB: number;
  /**
   * Page cache still counted (active file pages): mostly the binaries' text. The kernel charges a file page to the
   * cgroup that first read it, so pages of binaries every node shares land on whichever node read them first.
   */
  fileMiB: number;
}

const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

export async function containerMemory(docker: Dockerode, id: string): Promise<ContainerMemory> {
  const stats = (await docker.getContainer(id).stats({ stream: false })) as unknown as {
    memory_stats: { usage?: number; stats?: Record<string, number> };
  };
  const s = stats.memory_stats.stats ?? {};
  const usage = stats.memory_stats.usage ?? 0;
  const inactive = s.inactive_file ?? s.total_inactive_file ?? 0;
  const anon = s.total_rss ?? s.anon ?? s.rss ?? 0;
  const counted = usage - inactive;
  return { mib: mib(counted), usageMiB: mib(usage), anonMiB: mib(anon), fileMiB: mib(Math.max(0, counted - anon)) };
}
