import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { findRepoRoot, parseLddOutput, tarHeader, tarStream, withParentDirs, type RootfsEntry } from './node-image.builder';

async function collect(entries: RootfsEntry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of tarStream(entries)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('parseLddOutput', () => {
  it('lists resolved libraries and the dynamic loader, skipping the vDSO', () => {
    const out = [
      '\tlinux-vdso.so.1 (0x00007ffc2a5f9000)',
      '\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f01eebbd000)',
      '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f01ee800000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f01ee61e000)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f01eebd5000)',
      '',
    ].join('\n');
    expect(parseLddOutput(out)).toEqual([
      '/lib/x86_64-linux-gnu/libdl.so.2',
      '/lib/x86_64-linux-gnu/libstdc++.so.6',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it('fails on a library that is not found', () => {
    expect(() => parseLddOutput('\tlibfoo.so.1 => not found\n')).toThrow('missing shared library');
  });
});

describe('withParentDirs', () => {
  it('adds missing parents and sorts parents first', () => {
    const sut = withParentDirs([
      { type: 'symlink', path: '/bin/sh', target: 'busybox' },
      { type: 'dir', path: '/tmp', mode: 0o1777 },
      { type: 'file', path: '/opt/cerulean/agent/main.js', mode: 0o644, content: Buffer.from('') },
    ]);
    expect(sut.map((e) => `${e.type} ${e.path}`)).toEqual([
      'dir /bin',
      'symlink /bin/sh',
      'dir /opt',
      'dir /opt/cerulean',
      'dir /opt/cerulean/agent',
      'file /opt/cerulean/agent/main.js',
      'dir /tmp',
    ]);
  });
});

describe('tar writer', () => {
  it('writes a valid checksum and ustar magic', () => {
    const h = tarHeader({ type: 'file', path: '/etc/passwd', mode: 0o644, content: Buffer.from('x') }, 1);
    const stored = parseInt(h.subarray(148, 154).toString('ascii'), 8);
    const copy = Buffer.from(h);
    copy.fill(' ', 148, 156);
    expect(stored).toBe(copy.reduce((s, b) => s + b, 0));
    expect(h.subarray(257, 263).toString('ascii')).toBe('ustar\0');
  });

  it('splits long paths into prefix and name', () => {
    const long = `/opt/${'a'.repeat(60)}/${'b'.repeat(60)}.js`;
    const h = tarHeader({ type: 'file', path: long, mode: 0o644, content: Buffer.alloc(0) }, 0);
    expect(h.subarray(345, 345 + 66).toString('utf8')).toBe(`./opt/${'a'.repeat(60)}`);
  });

  it('produces an archive GNU tar lists and extracts identically', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tar-spec-'));
    try {
      const hostFile = path.join(dir, 'host.bin');
      writeFileSync(hostFile, Buffer.alloc(1500, 7));
      const archive = await collect(
        withParentDirs([
          { type: 'dir', path: '/tmp', mode: 0o1777 },
          { type: 'file', path: '/etc/hosts', mode: 0o644, content: Buffer.from('127.0.0.1 localhost\n') },
          { type: 'file', path: '/usr/local/bin/tool', mode: 0o755, source: hostFile, size: 1500, mtimeMs: 0 },
          { type: 'symlink', path: '/bin/sh', target: 'busybox' },
        ]),
      );
      expect(archive.length % 512).toBe(0);

      const list = spawnSync('tar', ['-tvf', '-'], { input: archive, encoding: 'utf8' });
      expect(list.status).toBe(0);
      expect(list.stdout).toMatch(/^drwxrwxrwt .* \.\/tmp\/$/m);
      expect(list.stdout).toMatch(/^-rwxr-xr-x .* 1500 .* \.\/usr\/local\/bin\/tool$/m);
      expect(list.stdout).toMatch(/^lrwxrwxrwx .* \.\/bin\/sh -> busybox$/m);

      const out = path.join(dir, 'out');
      spawnSync('mkdir', [out]);
      const extract = spawnSync('tar', ['-xf', '-', '-C', out], { input: archive });
      expect(extract.status).toBe(0);
      expect(spawnSync('cmp', [hostFile, path.join(out, 'usr/local/bin/tool')]).status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails when a host file changed size since it was listed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tar-spec-'));
    try {
      const hostFile = path.join(dir, 'f');
      writeFileSync(hostFile, 'abc');
      await expect(collect([{ type: 'file', path: '/f', mode: 0o644, source: hostFile, size: 10, mtimeMs: 0 }])).rejects.toThrow('changed size');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('findRepoRoot', () => {
  it('finds the folder holding package.json', () => {
    expect(findRepoRoot(__dirname)).toBe(path.resolve(__dirname, '../../..'));
  });
});
