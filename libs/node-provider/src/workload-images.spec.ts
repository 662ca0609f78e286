import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { BUSYBOX_IMAGE, BUSYBOX_IMAGE_APPLETS, dockerArchive, hostFile, PAUSE_IMAGE, workloadImages } from './workload-images';

describe('workload images', () => {
  it('links each busybox applet once, tar among them (kubectl cp runs it in the container)', () => {
    expect(new Set(BUSYBOX_IMAGE_APPLETS).size).toBe(BUSYBOX_IMAGE_APPLETS.length);
    expect(BUSYBOX_IMAGE_APPLETS).toEqual(expect.arrayContaining(['sh', 'tar', 'httpd', 'nslookup', 'wget']));
  });

  it('writes one docker-save archive whose manifest, configs and layers agree', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'workload-images-'));
    try {
      // Any host file stands in for busybox here.
      writeFileSync(path.join(dir, 'busybox'), Buffer.alloc(3000, 1), { mode: 0o755 });
      const busybox = await hostFile(path.join(dir, 'busybox'));
      const images = workloadImages(busybox);
      expect(images.map((i) => i.ref)).toEqual([PAUSE_IMAGE, BUSYBOX_IMAGE]);
      const archive = await dockerArchive(images, 'amd64');
      expect(spawnSync('tar', ['-xf', '-', '-C', dir], { input: archive }).status).toBe(0);
      const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { Config: string; RepoTags: string[]; Layers: string[] }[];
      expect(manifest.map((m) => m.RepoTags)).toEqual([[PAUSE_IMAGE], [BUSYBOX_IMAGE]]);
      for (const m of manifest) {
        const configBytes = readFileSync(path.join(dir, m.Config));
        expect(m.Config).toBe(`${createHash('sha256').update(configBytes).digest('hex')}.json`);
        const config = JSON.parse(configBytes.toString('utf8')) as {
          os: string;
          architecture: string;
          rootfs: { diff_ids: string[] };
          config: { Cmd: string[] };
        };
        expect(config).toMatchObject({ os: 'linux', architecture: 'amd64' });
        const layer = readFileSync(path.join(dir, m.Layers[0]));
        expect(config.rootfs.diff_ids).toEqual([`sha256:${createHash('sha256').update(layer).digest('hex')}`]);
        const listed = spawnSync('tar', ['-tvf', '-'], { input: layer, encoding: 'utf8' }).stdout;
        expect(listed).toMatch(/^-rwxr-xr-x .* \.\/bin\/busybox$/m);
        expect(listed).toContain(`./bin/${path.basename(config.config.Cmd[0])} -> busybox`);
      }
      // The same inputs give the same bytes: the node image is rebuilt only when something changed.
      expect((await dockerArchive(workloadImages(busybox), 'amd64')).equals(archive)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
