import { DockerKeyring, keyringFromSecrets, locationKey, locationMatches, normalizedRepository, type PullSecret } from './pull-secrets';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const users = (k: DockerKeyring, image: string) => k.lookup(image).map((c) => `${c.username}:${c.password}`);

describe('normalizedRepository', () => {
  it('spells out Docker Hub and drops tag and digest, keeping a registry port', () => {
    expect(normalizedRepository('busybox')).toBe('docker.io/library/busybox');
    expect(normalizedRepository('busybox:1.36')).toBe('docker.io/library/busybox');
    expect(normalizedRepository('me/app:v1')).toBe('docker.io/me/app');
    expect(normalizedRepository('reg.example.com:5000/team/app:v1')).toBe('reg.example.com:5000/team/app');
    expect(normalizedRepository('localhost/app@sha256:abc')).toBe('localhost/app');
    expect(normalizedRepository('reg:5000/app')).toBe('reg:5000/app');
  });
});

describe('locationKey', () => {
  it('drops the scheme and /v1/ or /v2/, keeps a path prefix', () => {
    expect(locationKey('https://index.docker.io/v1/')).toBe('index.docker.io');
    expect(locationKey('http://reg.example.com:5000')).toBe('reg.example.com:5000');
    expect(locationKey('reg.example.com/v2/team')).toBe('reg.example.com/team');
    expect(locationKey('quay.io/coreos/')).toBe('quay.io/coreos/');
  });
});

describe('locationMatches', () => {
  it('needs the same port and host labels (globs allowed) and a path prefix', () => {
    expect(locationMatches('reg.example.com', 'reg.example.com/team/app')).toBe(true);
    expect(locationMatches('reg.example.com', 'reg.example.com:5000/app')).toBe(false);
    expect(locationMatches('reg.example.com:5000', 'reg.example.com:5000/app')).toBe(true);
    expect(locationMatches('*.example.com', 'reg.example.com/app')).toBe(true);
    expect(locationMatches('*.example.com', 'a.reg.example.com/app')).toBe(false);
    expect(locationMatches('reg.example.com/team', 'reg.example.com/team/app')).toBe(true);
    expect(locationMatches('reg.example.com/team', 'reg.example.com/other/app')).toBe(false);
    expect(locationMatches('example.com', 'reg.example.com/app')).toBe(false);
  });
});

describe('DockerKeyring', () => {
  it('returns every matching credential, the most specific location first', () => {
    const k = new DockerKeyring();
    k.add({ 'quay.io': { username: 'all', password: 'p1' }, 'quay.io/coreos': { username: 'coreos', password: 'p2' } }, 's1');
    expect(users(k, 'quay.io/coreos/etcd:v3')).toEqual(['coreos:p2', 'all:p1']);
    expect(users(k, 'quay.io/other/x')).toEqual(['all:p1']);
    expect(users(k, 'ghcr.io/x')).toEqual([]);
  });

  it('decodes auth (base64 user:password), which wins over username and password', () => {
    const k = new DockerKeyring();
    expect(k.add({ 'reg:5000': { username: 'ignored', password: 'ignored', auth: b64('alice:se:cret') } }, 's')).toEqual([]);
    expect(users(k, 'reg:5000/app:v1')).toEqual(['alice:se:cret']);
    expect(k.add({ 'bad:5000': { auth: b64('nocolon') } }, 's')[0]).toMatch(/user:password/);
    expect(users(k, 'bad:5000/app')).toEqual([]);
  });

  it('gives Docker Hub images the index.docker.io credentials', () => {
    const k = new DockerKeyring();
    k.add({ 'https://index.docker.io/v1/': { username: 'hub', password: 'p' } }, 's');
    expect(users(k, 'busybox')).toEqual(['hub:p']);
    expect(users(k, 'me/app:v1')).toEqual(['hub:p']);
    expect(users(k, 'docker.io/me/app')).toEqual(['hub:p']);
    expect(users(k, 'reg.example.com/me/app')).toEqual([]);
  });
});

describe('keyringFromSecrets', () => {
  const secret = (name: string, type: string, key: string, value: unknown): PullSecret => ({
    metadata: { name },
    type,
    data: { [key]: b64(typeof value === 'string' ? value : JSON.stringify(value)) },
  });

  it('reads dockerconfigjson auths and dockercfg, in the order of the secrets, and ignores other types', () => {
    const { keyring, problems } = keyringFromSecrets([
      secret('json', 'kubernetes.io/dockerconfigjson', '.dockerconfigjson', { auths: { 'reg:5000': { username: 'a', password: '1' } } }),
      secret('cfg', 'kubernetes.io/dockercfg', '.dockercfg', { 'http://reg:5000': { auth: b64('b:2') } }),
      secret('opaque', 'Opaque', '.dockerconfigjson', { auths: { 'reg:5000': { username: 'c', password: '3' } } }),
    ]);
    expect(problems).toEqual([]);
    expect(keyring.lookup('reg:5000/app').map((c) => [c.secret, c.username, c.password])).toEqual([
      ['json', 'a', '1'],
      ['cfg', 'b', '2'],
    ]);
  });

  it('reports a secret that is not JSON and keeps the others', () => {
    const { keyring, problems } = keyringFromSecrets([
      secret('broken', 'kubernetes.io/dockerconfigjson', '.dockerconfigjson', '{not json'),
      secret('ok', 'kubernetes.io/dockerconfigjson', '.dockerconfigjson', { auths: { 'reg:5000': { username: 'a', password: '1' } } }),
    ]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/secret broken/);
    expect(users(keyring, 'reg:5000/app')).toEqual(['a:1']);
  });
});
