import { servedJson } from './etcd-storage';

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

  it('declines any other layout, so the caller parses', () => {
    expect(servedJson(bytes({ kind: 'Pod', apiVersion: 'v1', metadata: {} }), 1)).toBeUndefined();
    expect(servedJson(bytes({ metadata: { name: 'a' }, apiVersion: 'v1', kind: 'Pod' }), 1)).toBeUndefined();
    expect(servedJson(bytes({ apiVersion: 'v1', kind: 'Pod', spec: {}, metadata: {} }), 1)).toBeUndefined();
    expect(servedJson(bytes({ apiVersion: 'v\\1', kind: 'Pod', metadata: {} }), 1)).toBeUndefined();
    expect(servedJson(Buffer.from('{"apiVersion":"v1","kind":"Po'), 1)).toBeUndefined();
    expect(servedJson(Buffer.from(''), 1)).toBeUndefined();
  });
});
