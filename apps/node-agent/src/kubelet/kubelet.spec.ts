import { defaultPullPolicy, goDuration } from './kubelet';

describe('defaultPullPolicy', () => {
  it('is Always for no tag or :latest, IfNotPresent for other tags and digests', () => {
    expect(['busybox', 'busybox:latest', 'localhost:5000/team/app', 'localhost:5000/team/app:latest'].map(defaultPullPolicy)).toEqual([
      'Always',
      'Always',
      'Always',
      'Always',
    ]);
    expect(['busybox:1.36', 'localhost:5000/app:v2', 'busybox@sha256:abc'].map(defaultPullPolicy)).toEqual(['IfNotPresent', 'IfNotPresent', 'IfNotPresent']);
  });
});

describe('goDuration', () => {
  it('prints a millisecond duration as Go does, for the Pulled event', () => {
    expect([0, 523, 1000, 1234, 1500, 61_234, 3_600_000 + 5_000].map(goDuration)).toEqual(['0s', '523ms', '1s', '1.234s', '1.5s', '1m1.234s', '1h0m5s']);
  });
});
