import { ByteLimit, CriLogDecoder, formatLine, LogOptionsError, parseContainerLogQuery, parseCriEntry, selectLines } from './cri-log';

describe('CRI log format', () => {
  it('parses an entry: time, stream, partial flag and the text with its spaces', () => {
    expect(parseCriEntry('2026-12-02T18:00:00.123456789Z stdout F hello  world ')).toEqual({
      time: '2026-12-02T18:00:00.123456789Z',
      ms: Date.parse('2026-12-02T18:00:00.123Z'),
      stream: 'stdout',
      partial: false,
      text: 'hello  world ',
    });
    expect(parseCriEntry('2026-12-02T18:00:00Z stderr P')?.text).toBe('');
    expect(parseCriEntry('2026-12-02T18:00:00Z stderr P')?.partial).toBe(true);
  });

  it('skips what is not an entry', () => {
    for (const bad of ['', 'hello', '2026-12-02T18:00:00Z stdin F x', 'yesterday stdout F x', '2026-12-02T18:00:00Z stdout X x']) {
      expect(parseCriEntry(bad)).toBeUndefined();
    }
  });

  it('joins partial entries of one stream, keeping the first piece time, while the other stream interleaves', () => {
    const d = new CriLogDecoder();
    const out = d.push(
      [
        '2026-12-02T18:00:01Z stdout P abc',
        '2026-12-02T18:00:02Z stderr F oops',
        '2026-12-02T18:00:03Z stdout P def',
        '2026-12-02T18:00:04Z stdout F ghi',
        '',
      ].join('\n'),
    );
    expect(out.map((l) => [l.time, l.stream, l.text])).toEqual([
      ['2026-12-02T18:00:02Z', 'stderr', 'oops'],
      ['2026-12-02T18:00:01Z', 'stdout', 'abcdefghi'],
    ]);
  });

  it('keeps a file line cut between chunks for the next chunk, and hands out the rest at the end', () => {
    const d = new CriLogDecoder();
    expect(d.push('2026-12-02T18:00:01Z stdout F one\n2026-12-02T18:00:02Z std')).toHaveLength(1);
    expect(d.push('out F two\n2026-12-02T18:00:03Z stdout P thr').map((l) => l.text)).toEqual(['two']);
    expect(d.end().map((l) => l.text)).toEqual(['thr']);
    expect(d.end()).toEqual([]);
  });

  it('prints lines with their newline, after their time when asked', () => {
    const line = { time: '2026-12-02T18:00:01.5Z', ms: 0, stream: 'stdout' as const, text: 'hi' };
    expect(formatLine(line, false)).toBe('hi\n');
    expect(formatLine(line, true)).toBe('2026-12-02T18:00:01.5Z hi\n');
  });
});

describe('log selection', () => {
  const lines = [1, 2, 3, 4, 5].map((s) => ({ time: `t${s}`, ms: s * 1000, stream: 'stdout' as const, text: `l${s}` }));

  it('keeps the last tailLines, none for 0, all without', () => {
    expect(selectLines(lines, { tailLines: 2 }).map((l) => l.text)).toEqual(['l4', 'l5']);
    expect(selectLines(lines, { tailLines: 0 })).toEqual([]);
    expect(selectLines(lines, { tailLines: 10 })).toHaveLength(5);
    expect(selectLines(lines, {})).toHaveLength(5);
  });

  it('drops lines before since, then applies the tail', () => {
    expect(selectLines(lines, { sinceMs: 3000 }).map((l) => l.text)).toEqual(['l3', 'l4', 'l5']);
    expect(selectLines(lines, { sinceMs: 3000, tailLines: 1 }).map((l) => l.text)).toEqual(['l5']);
  });

  it('cuts the output at limitBytes, inside a line if need be', () => {
    const limit = new ByteLimit(5);
    expect(limit.take('abc\n').toString()).toBe('abc\n');
    expect(limit.exhausted).toBe(false);
    expect(limit.take('def\n').toString()).toBe('d');
    expect(limit.exhausted).toBe(true);
    expect(limit.take('x').length).toBe(0);
    expect(new ByteLimit(undefined).take('a'.repeat(100000)).length).toBe(100000);
  });
});

describe('containerLogs query', () => {
  const parse = (q: string) => parseContainerLogQuery(new URLSearchParams(q), 1_000_000);

  it('reads booleans, numbers and since as kubelet does', () => {
    expect(parse('follow=true&previous=1&timestamps=T&tailLines=3&limitBytes=10&sinceSeconds=5')).toEqual({
      follow: true,
      previous: true,
      timestamps: true,
      tailLines: 3,
      limitBytes: 10,
      sinceMs: 995_000,
    });
    expect(parse('sinceTime=1970-01-01T00:00:02Z').sinceMs).toBe(2000);
    expect(parse('tail=7').tailLines).toBe(7);
    expect(parse('tail=all&tailLines=3').tailLines).toBeUndefined();
    expect(parse('')).toEqual({ follow: false, previous: false, timestamps: false, tailLines: undefined, limitBytes: undefined, sinceMs: undefined });
  });

  it.each([
    ['follow=yes', 400],
    ['tailLines=x', 400],
    ['sinceTime=yesterday', 400],
    ['tailLines=-1', 422],
    ['limitBytes=0', 422],
    ['sinceSeconds=0', 422],
    ['sinceSeconds=5&sinceTime=1970-01-01T00:00:02Z', 422],
  ])('refuses %s with %d', (q, status) => {
    let caught: unknown;
    try {
      parse(q);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(LogOptionsError);
    expect((caught as LogOptionsError).status).toBe(status);
  });
});
