import { spawnSync } from 'node:child_process';
import { CGROUP_MOUNT_ATTEMPTS, cgroupMountScript, containerdConfig, parseMountInfo, planCgroups, prepareCgroups } from './containerd';

// Lines as a node container's /proc/self/mountinfo shows them under Docker on a cgroup v1 host.
const DOCKER_V1 = [
  '611 590 0:52 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755',
  '612 611 0:30 / /sys/fs/cgroup/systemd ro,nosuid,nodev,noexec,relatime master:11 - cgroup cgroup rw,xattr,name=systemd',
  '613 611 0:33 / /sys/fs/cgroup/cpu ro,nosuid,nodev,noexec,relatime master:16 - cgroup cgroup rw,cpu',
  '614 611 0:34 / /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime master:17 - cgroup cgroup rw,memory',
  '615 611 0:35 / /sys/fs/cgroup/unified ro,nosuid,nodev,noexec,relatime master:10 - cgroup2 cgroup2 rw',
  '620 590 0:60 / /run rw,nosuid - tmpfs tmpfs rw,size=65536k',
].join('\n');

// The tree the agent mounts itself, as the mount table shows it afterwards.
const OURS = [
  '700 590 0:70 / /sys/fs/cgroup rw,relatime - tmpfs cgroup_root rw,mode=755',
  ...['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids'].map(
    (c, i) => `${701 + i} 700 0:${80 + i} / /sys/fs/cgroup/${c} rw,relatime - cgroup cgroup rw,${c}`,
  ),
].join('\n');

describe('parseMountInfo', () => {
  it('reads the mount point, type and per-mount options, unescaping octal escapes', () => {
    const [root, , , , , run] = parseMountInfo(DOCKER_V1);
    expect(root).toEqual({ mountPoint: '/sys/fs/cgroup', fsType: 'tmpfs', options: ['ro', 'nosuid', 'nodev', 'noexec', 'relatime'] });
    expect(run.mountPoint).toBe('/run');
    expect(parseMountInfo('1 2 0:1 / /mnt/a\\040b rw - ext4 /dev/x rw')[0].mountPoint).toBe('/mnt/a b');
  });
});

describe('planCgroups', () => {
  it('remounts a read-only v1 hierarchy, deepest mounts first and the root last', () => {
    const plan = planCgroups(parseMountInfo(DOCKER_V1));
    expect(plan.kind).toBe('remount-v1');
    const unmount = (plan as { unmount: string[] }).unmount;
    expect(unmount[unmount.length - 1]).toBe('/sys/fs/cgroup');
    expect(unmount).toEqual(expect.arrayContaining(['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/memory', '/sys/fs/cgroup/unified', '/sys/fs/cgroup/systemd']));
    expect(unmount).not.toContain('/run');
  });

  it('leaves a tree it mounted before alone (the agent restarted in the same container)', () => {
    expect(planCgroups(parseMountInfo(OURS))).toEqual({ kind: 'ready' });
  });

  it('says plainly that a cgroup v2-only host is not supported yet', () => {
    const plan = planCgroups(parseMountInfo('611 590 0:52 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw'));
    expect(plan).toEqual({ kind: 'unsupported', reason: expect.stringContaining('cgroup v2') });
  });
});

describe('prepareCgroups', () => {
  // The submounts went before the root refused: what the mount table shows after such a failure.
  const ROOT_ONLY = '611 590 0:52 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755';
  const busy = new Error("sh -c <script>: umount: can't unmount /sys/fs/cgroup: Device or resource busy");

  it('plans again from the mount table and tries again when umount finds the tree busy', async () => {
    const tables = [DOCKER_V1, ROOT_ONLY, OURS];
    const scripts: string[] = [];
    const pauses: number[] = [];
    const logged: unknown[] = [];
    await prepareCgroups((line) => logged.push(line), {
      mountInfo: () => tables[scripts.length],
      run: async (argv) => {
        scripts.push(argv[2]);
        if (scripts.length === 1) throw busy;
      },
      pause: async (ms) => void pauses.push(ms),
    });
    expect(scripts).toHaveLength(2);
    expect(scripts[0]).toContain("umount '/sys/fs/cgroup/memory'");
    // The second plan unmounts only what is left: the read-only root.
    expect(scripts[1]).not.toContain("umount '/sys/fs/cgroup/memory'");
    expect(scripts[1]).toContain("umount '/sys/fs/cgroup'");
    expect(pauses).toEqual([100]);
    expect(logged).toEqual([
      expect.objectContaining({ msg: 'cgroup hierarchy not remounted, trying again', attempt: 1, error: busy.message }),
      expect.objectContaining({ msg: 'cgroup hierarchy mounted for containers' }),
    ]);
  });

  it('gives up with the last error after its attempts', async () => {
    const run = jest.fn(() => Promise.reject(busy));
    await expect(prepareCgroups(() => undefined, { mountInfo: () => ROOT_ONLY, run, pause: async () => undefined })).rejects.toThrow('Device or resource busy');
    expect(run).toHaveBeenCalledTimes(CGROUP_MOUNT_ATTEMPTS);
  });

  it('does nothing on a tree it mounted before', async () => {
    const run = jest.fn();
    await prepareCgroups(() => undefined, { mountInfo: () => OURS, run, pause: async () => undefined });
    expect(run).not.toHaveBeenCalled();
  });
});

describe('cgroupMountScript', () => {
  it('is one valid shell script that mounts every controller on its own', () => {
    const script = cgroupMountScript(['/sys/fs/cgroup/cpu', "/sys/fs/cgroup/we'ird", '/sys/fs/cgroup']);
    expect(spawnSync('sh', ['-n', '-c', script]).status).toBe(0);
    expect(script).toContain("umount '/sys/fs/cgroup/we'\\''ird'");
    for (const c of ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids']) {
      expect(script).toContain(`mount -t cgroup -o ${c} cgroup /sys/fs/cgroup/${c}`);
    }
    expect(script.indexOf('umount')).toBeLessThan(script.indexOf('mount -t tmpfs'));
  });
});

describe('containerdConfig', () => {
  it('configures CRI with runc on cgroupfs, the CNI plugins and the local sandbox image', () => {
    const toml = containerdConfig();
    expect(toml).toMatch(/^version = 2$/m);
    expect(toml).toContain('sandbox_image = "cerulean.local/pause:3.10"');
    expect(toml).toContain('SystemdCgroup = false');
    expect(toml).toContain('restrict_oom_score_adj = true');
    expect(toml).toContain('bin_dir = "/usr/lib/cni"');
    expect(toml).toContain('conf_dir = "/etc/cni/net.d"');
    expect(toml).toMatch(/\[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\]\n {2}config_path = "\/etc\/containerd\/certs\.d"/);
    expect(containerdConfig({ sandboxImage: 'x/pause:1' })).toContain('sandbox_image = "x/pause:1"');
  });
});
