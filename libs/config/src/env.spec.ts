import { loadEnv } from './env';

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
});
