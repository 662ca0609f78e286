import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureMachineId, readMachineInfo } from './kube-node';

describe('the machine part of a Node’s nodeInfo', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'machine-id-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the machine ID where kubelet does, /etc/machine-id first, then dbus’s copy', () => {
    const etc = join(dir, 'etc/machine-id');
    const dbus = join(dir, 'dbus/machine-id');
    mkdirSync(join(dir, 'dbus'));
    writeFileSync(dbus, '0123456789abcdef0123456789abcdef\n');

    expect(ensureMachineId([etc, dbus])).toBe('0123456789abcdef0123456789abcdef');
  });

  it('writes one on first start when the image has none (as systemd does on a first boot), and keeps it', () => {
    const etc = join(dir, 'etc/machine-id');

    const first = ensureMachineId([etc]);

    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(readFileSync(etc, 'utf8')).toBe(`${first}\n`);
    expect(ensureMachineId([etc])).toBe(first);
  });

  it('gives the kernel release and boot ID of the kernel the node runs on', () => {
    const info = readMachineInfo([join(dir, 'etc/machine-id')]);

    expect(info.machineID).toMatch(/^[0-9a-f]{32}$/);
    expect(info.kernelVersion).toBe(release());
    expect(info.bootID).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  });
});
