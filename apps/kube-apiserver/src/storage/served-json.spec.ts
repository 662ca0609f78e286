import { servedJson, servedJsonParts } from './etcd-storage';

describe('servedJson', () => {
  const bytes = (o: unknown) => Buffer.from(JSON.stringify(o));

  it('puts the resourceVersion first in metadata of the stored layout, the rest byte for byte', () => {
    const stored = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'ü"' } }, spec: { template: { metadata: { name: 'x' } } } };
    const out = servedJson(bytes(stored), 42) as Buffer;
    expect(JSON.parse(out.toString('utf8'))).toEqual({ ...stored, metadata: { resourceVersion: '42', ...stored.metadata } });
  });

  it('handles empty metadata', () => {
    expect(JSON.parse((servedJson(bytes({ apiVersion: 'apps/v1', kind: 'X', metadata: {} }), 7) as Buffer).toString())).toEqual({
      apiVersion: 'apps/v1',
      kind: 'X',
      metadata: { resourceVersion: '7' },
    });
  });

  it('gives the same bytes as three pieces that slice the stored buffer, for a list to join in one allocation', () => {
    const raw = bytes({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'v' } });
    const parts = servedJsonParts(raw, 9) as Buffer[];
    expect(parts).toHaveLength(3);
    expect(Buffer.concat(parts).equals(servedJson(raw, 9) as Buffer)).toBe(true);
    expect(parts[0].buffer).toBe(raw.buffer);
    expect(parts[2].buffer).toBe(raw.buffer);
    expect(servedJsonParts(bytes({ kind: 'Pod', apiVersion: 'v1', metadata: {} }), 1)).toBeUndefined();
  });

  it('declines any other layout, so the caller parses', () => {
    expect(servedJson(bytes({ kind: 'Pod', apiVersion: 'v1', metadata: {} }), 1)).toBeUndefined();
    expect(servedJson(bytes({ metadata: { name: 'a' }, apiVersion: 'v1', kind: 'Pod' }), 1)).toBeUndefined();
    expect(servedJson(bytes({ apiVersion: 'v1', kind: 'Pod', spec: {}, metadata: {} }), 1)).toBeUndefined();
    expect(servedJson(bytes({ apiVersion: 'v\\1', kind: 'Pod', metadata: {} }), 1)).toBeUndefined();
    expect(servedJson(Buffer.from('{"apiVersion":"v1","kind":"Po'), 1)).toBeUndefined();
    expect(servedJson(Buffer.from(''), 1)).toBeUndefined();
  });
});
