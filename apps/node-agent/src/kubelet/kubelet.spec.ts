import { defaultPullPolicy } from './kubelet';

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
