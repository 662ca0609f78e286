import { median, percentile, ratio, summarize } from './stats';

describe('bench statistics', () => {
  it('takes nearest-rank percentiles and a two-middle median', () => {
    const sorted = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(10);
    expect(percentile(sorted, 95)).toBe(19);
    expect(percentile(sorted, 100)).toBe(20);
    expect(percentile([7], 99)).toBe(7);
    expect(median([1, 2, 3, 10])).toBe(2.5);
    expect(median([1, 2, 10])).toBe(2);
  });

  it('reports p99 only from 100 samples on, and sorts what it is given', () => {
    expect(summarize([3, 1, 2])).toEqual({ n: 3, median: 2, p95: 3, min: 1, max: 3 });
    const many = Array.from({ length: 200 }, (_, i) => 200 - i);
    expect(summarize(many).p99).toBe(198);
  });

  it('refuses empty samples and non-positive floors', () => {
    expect(() => summarize([])).toThrow('empty');
    expect(ratio(13, 10)).toBe(1.3);
    expect(ratio(1, 0)).toBeUndefined();
  });
});
