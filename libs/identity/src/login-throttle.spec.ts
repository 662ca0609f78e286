import { LoginThrottle, sourceKey } from './login-throttle';

describe('login throttle (token endpoint)', () => {
  const specs = { client: { size: 3, refillPerSecond: 0.5 }, source: { size: 5, refillPerSecond: 1 } };

  it('refuses a client id after its bucket of attempts is spent, with the seconds until one is back', () => {
    let t = 0;
    const sut = new LoginThrottle(specs, () => t);
    expect([1, 2, 3].map(() => sut.attempt('app-a', '192.0.2.1').allowed)).toEqual([true, true, true]);
    expect(sut.attempt('APP-A', '192.0.2.2')).toEqual({ allowed: false, by: 'client', retryAfterSeconds: 2 });
    // Another client from the same source still gets its checks.
    expect(sut.attempt('app-b', '192.0.2.1').allowed).toBe(true);
    t = 2000;
    expect(sut.attempt('app-a', '192.0.2.3').allowed).toBe(true);
  });

  it('refuses a source that sprays client ids, whatever the client id', () => {
    const sut = new LoginThrottle(specs, () => 0);
    for (let i = 0; i < 5; i++) expect(sut.attempt(`app-${i}`, '192.0.2.9').allowed).toBe(true);
    expect(sut.attempt('app-new', '192.0.2.9')).toEqual({ allowed: false, by: 'source', retryAfterSeconds: 1 });
    expect(sut.attempt('app-new', '192.0.2.10').allowed).toBe(true);
  });

  it('a refused attempt takes nothing from the other bucket', () => {
    const sut = new LoginThrottle(specs, () => 0);
    for (let i = 0; i < 3; i++) sut.attempt('app-a', `192.0.2.${i}`);
    for (let i = 0; i < 10; i++) expect(sut.attempt('app-a', '198.51.100.1').allowed).toBe(false);
    for (let i = 0; i < 5; i++) expect(sut.attempt(`other-${i}`, '198.51.100.1').allowed).toBe(true);
  });

  it('gives successful checks back: only failures (and checks in flight) count', () => {
    const sut = new LoginThrottle(specs, () => 0);
    for (let i = 0; i < 20; i++) {
      expect(sut.attempt('app-a', '192.0.2.1').allowed).toBe(true);
      sut.succeeded('app-a', '192.0.2.1');
    }
    // In flight (not yet answered) they do count: a concurrent burst is cut at the bucket size.
    expect([1, 2, 3, 4].map(() => sut.attempt('app-a', '192.0.2.1').allowed)).toEqual([true, true, true, false]);
  });

  it('counts IPv6 sources by /64 and IPv4-mapped addresses as IPv4', () => {
    expect(sourceKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(sourceKey('192.0.2.1')).toBe('192.0.2.1');
  });
});
