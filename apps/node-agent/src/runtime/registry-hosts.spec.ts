import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRegistryMirrors, renderHostsToml, writeRegistryHosts } from './registry-hosts';

describe('parseRegistryMirrors', () => {
  it('reads host → endpoint pairs', () => {
    const raw = JSON.stringify({ '127.0.0.1:5000': 'http://cerulean-registry:5000', 'localhost:5000': 'http://cerulean-registry:5000' });
    expect(parseRegistryMirrors(raw)).toEqual({
      mirrors: { '127.0.0.1:5000': 'http://cerulean-registry:5000', 'localhost:5000': 'http://cerulean-registry:5000' },
      problems: [],
    });
  });

  it('is empty without the variable', () => {
    expect(parseRegistryMirrors(undefined)).toEqual({ mirrors: {}, problems: [] });
    expect(parseRegistryMirrors('  ')).toEqual({ mirrors: {}, problems: [] });
  });

  it('reports what it skips: bad JSON, a host that would leave the folder, an endpoint that is no URL', () => {
    expect(parseRegistryMirrors('{').problems).toEqual(['CERULEAN_REGISTRY_MIRRORS is not valid JSON']);
    expect(parseRegistryMirrors('["a"]').problems).toEqual(['CERULEAN_REGISTRY_MIRRORS is not an object']);
    const { mirrors, problems } = parseRegistryMirrors(
      JSON.stringify({ '../etc:1': 'http://x:1', '..': 'http://x:1', 'ok:5000': 'ftp://x', 'good:5000': 'http://reg:5000', 'x:1': 5 }),
    );
    expect(mirrors).toEqual({ 'good:5000': 'http://reg:5000' });
    expect(problems).toHaveLength(4);
  });
});

describe('renderHostsToml', () => {
  it('sends resolve and pull for the host to the endpoint, over the endpoint scheme, with the host table containerd 1.6 needs', () => {
    expect(renderHostsToml('http://cerulean-registry:5000')).toBe(
      'server = "http://cerulean-registry:5000"\n\n[host."http://cerulean-registry:5000"]\n  capabilities = ["pull", "resolve"]\n',
    );
  });
});

describe('writeRegistryHosts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'certs-d-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes <host>/hosts.toml per mirror, the port in the folder name as containerd looks it up', async () => {
    const files = await writeRegistryHosts({ '127.0.0.1:5000': 'http://r:5000', 'localhost:5000': 'http://r:5000' }, dir);
    expect(files).toEqual([join(dir, '127.0.0.1:5000/hosts.toml'), join(dir, 'localhost:5000/hosts.toml')]);
    expect(readdirSync(dir).sort()).toEqual(['127.0.0.1:5000', 'localhost:5000']);
    expect(readFileSync(files[0], 'utf8')).toBe(renderHostsToml('http://r:5000'));
  });
});
