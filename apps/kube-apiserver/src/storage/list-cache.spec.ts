import { collectionOf, lowerBound } from './list-cache';

describe('list cache keys', () => {
  it('files a key, a collection prefix and a namespace prefix under their collection', () => {
    expect(collectionOf('/registry/', '/registry/core/pods/default/web-1')).toBe('/registry/core/pods/');
    expect(collectionOf('/registry/', '/registry/core/nodes/n1')).toBe('/registry/core/nodes/');
    expect(collectionOf('/registry/', '/registry/apps/deployments/')).toBe('/registry/apps/deployments/');
    expect(collectionOf('/registry/', '/registry/apps/deployments/ns/')).toBe('/registry/apps/deployments/');
    expect(collectionOf('/registry/', '/registry/core')).toBeUndefined();
    expect(collectionOf('/registry/', '/elsewhere/core/pods/x')).toBeUndefined();
  });

  it('finds the first key not below the one asked for, in byte order', () => {
    const keys = ['/r/core/pods/a/p0', '/r/core/pods/a/p1', '/r/core/pods/a/p10', '/r/core/pods/b/q'];
    expect(lowerBound(keys, '/r/core/pods/a/')).toBe(0);
    expect(lowerBound(keys, '/r/core/pods/a/p1')).toBe(1);
    expect(lowerBound(keys, '/r/core/pods/a/p2')).toBe(3);
    expect(lowerBound(keys, '/r/core/pods/a0')).toBe(3);
    expect(lowerBound(keys, '/r/core/pods/c/')).toBe(4);
    expect(lowerBound([], 'x')).toBe(0);
  });
});
