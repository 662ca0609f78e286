import { imageContentHash, imageNamespace, registryConfig, registryMirrors, REGISTRY_ALIAS } from './local-registry';
import type { RootfsEntry } from './tar';

describe('registryMirrors', () => {
  it('maps both names a user pushes to onto the registry alias on the cluster network, over HTTP', () => {
    expect(registryMirrors(5123)).toEqual({
      '127.0.0.1:5123': `http://${REGISTRY_ALIAS}:5000`,
      'localhost:5123': `http://${REGISTRY_ALIAS}:5000`,
    });
  });
});

describe('registryConfig', () => {
  it('serves plain HTTP on 5000 from the volume, deletes allowed, no auth', () => {
    const yml = registryConfig();
    expect(yml).toMatch(/^http:\n {2}addr: :5000$/m);
    expect(yml).toMatch(/^ {4}rootdirectory: \/var\/lib\/registry$/m);
    expect(yml).toMatch(/^ {2}delete:\n {4}enabled: true$/m);
    expect(yml).not.toContain('auth:');
  });
});

describe('imageNamespace', () => {
  it('puts the registry images next to the node images', () => {
    expect(imageNamespace('cerulean/node')).toBe('cerulean');
    expect(imageNamespace('hr/cerulean-node')).toBe('hr');
    expect(imageNamespace('reg.example:5000/team/node')).toBe('reg.example:5000/team');
    expect(imageNamespace('node')).toBe('node');
  });
});

describe('imageContentHash', () => {
  const entries: RootfsEntry[] = [
    { type: 'dir', path: '/tmp', mode: 0o1777 },
    { type: 'file', path: '/var/www/index.html', mode: 0o644, content: Buffer.from('hi') },
    { type: 'file', path: '/bin/busybox', mode: 0o755, source: '/bin/busybox', size: 10, mtimeMs: 1 },
  ];
  const meta = { cmd: ['httpd'] };

  it('is the same for the same inputs', () => {
    expect(imageContentHash(entries, meta)).toBe(imageContentHash([...entries], { cmd: ['httpd'] }));
  });

  it('changes with a file content, a host file, or the metadata', () => {
    const base = imageContentHash(entries, meta);
    expect(imageContentHash([entries[0], { ...entries[1], content: Buffer.from('ho') } as RootfsEntry, entries[2]], meta)).not.toBe(base);
    expect(imageContentHash([entries[0], entries[1], { ...entries[2], mtimeMs: 2 } as RootfsEntry], meta)).not.toBe(base);
    expect(imageContentHash(entries, { cmd: ['sh'] })).not.toBe(base);
  });
});
