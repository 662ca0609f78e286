import { loadEnv, parseAddressRanges, platformBaseUrl } from './env';

describe('loadEnv', () => {
  it('uses defaults when nothing is set', () => {
    const sut = loadEnv({});
    expect(sut.API_PORT).toBe(8443);
    expect(sut.API_HOST).toBe('127.0.0.1');
  });

  it('reads CERULEAN_-prefixed values and converts numbers', () => {
    const sut = loadEnv({ CERULEAN_API_PORT: '9443', CERULEAN_NODE_CPU_FACTOR: '0.1', DATABASE_URL: 'postgres://x@y/z' });
    expect(sut.API_PORT).toBe(9443);
    expect(sut.NODE_CPU_FACTOR).toBe(0.1);
    expect(sut.DATABASE_URL).toBe('postgres://x@y/z');
  });

  it('refuses an invalid value at boot with the variable name', () => {
    expect(() => loadEnv({ CERULEAN_API_PORT: 'abc' })).toThrow(/CERULEAN_API_PORT/);
    expect(() => loadEnv({ CERULEAN_SUBSCRIPTION_ID: 'not-a-guid' })).toThrow(/CERULEAN_SUBSCRIPTION_ID/);
  });

  it('checks the API server port range and the master key encoding', () => {
    expect(loadEnv({}).API_SERVER_PORTS).toBe('20000-29999');
    expect(loadEnv({ CERULEAN_API_SERVER_PORTS: '30000-30009' }).API_SERVER_PORTS).toBe('30000-30009');
    expect(() => loadEnv({ CERULEAN_API_SERVER_PORTS: '30009-30000' })).toThrow(/CERULEAN_API_SERVER_PORTS/);
    expect(() => loadEnv({ CERULEAN_API_SERVER_PORTS: '80-90' })).toThrow(/CERULEAN_API_SERVER_PORTS/);
    expect(() => loadEnv({ CERULEAN_MASTER_KEY: 'not base64!' })).toThrow(/CERULEAN_MASTER_KEY/);
  });

  it('reads the trusted proxies as IPs and CIDR ranges, none by default, and refuses anything else', () => {
    expect(loadEnv({}).TRUSTED_PROXIES).toBe('');
    expect(loadEnv({ CERULEAN_TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1 ::1,fd00::/8' }).TRUSTED_PROXIES).toBe('10.0.0.0/8, 127.0.0.1 ::1,fd00::/8');
    for (const bad of ['10.0.0.0/33', 'proxy.example', '10.0.0.1/', '::1/129', '1.2.3', '*', '10.0.0.0/8;']) {
      expect(() => loadEnv({ CERULEAN_TRUSTED_PROXIES: bad })).toThrow(/CERULEAN_TRUSTED_PROXIES/);
    }
  });
});

describe('parseAddressRanges', () => {
  it('parses addresses (whole address) and ranges, IPv4-mapped IPv6 as IPv4', () => {
    expect(parseAddressRanges('')).toEqual([]);
    expect(parseAddressRanges('127.0.0.1, 10.0.0.0/8 ::1 fd00::/8 ::ffff:192.168.1.0/120')).toEqual([
      { address: '127.0.0.1', prefix: 32, family: 'ipv4' },
      { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
      { address: '::1', prefix: 128, family: 'ipv6' },
      { address: 'fd00::', prefix: 8, family: 'ipv6' },
      { address: '192.168.1.0', prefix: 24, family: 'ipv4' },
    ]);
  });

  it('is undefined when one entry is not an address or range', () => {
    expect(parseAddressRanges('127.0.0.1, nope')).toBeUndefined();
    expect(parseAddressRanges('256.0.0.1')).toBeUndefined();
    expect(parseAddressRanges('::ffff:1.2.3.4/95')).toBeUndefined();
  });
});

describe('platformBaseUrl', () => {
  it('is the configured public address, else the listening one (IPv6 in brackets)', () => {
    expect(platformBaseUrl({ PUBLIC_BASE_URL: 'https://arm.example.test/', API_HOST: '127.0.0.1', API_PORT: 8443 })).toBe('https://arm.example.test');
    expect(platformBaseUrl({ API_HOST: '127.0.0.1', API_PORT: 9443 })).toBe('https://127.0.0.1:9443');
    expect(platformBaseUrl({ API_HOST: '::1', API_PORT: 9443 })).toBe('https://[::1]:9443');
  });
});
