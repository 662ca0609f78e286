import { formatCpu, formatMemory, parseQuantity } from './quantity';

describe('parseQuantity', () => {
  it.each([
    ['2', 2],
    ['1500m', 1.5],
    ['0.5', 0.5],
    ['7168Mi', 7168 * 2 ** 20],
    ['8Gi', 8 * 2 ** 30],
    ['1k', 1000],
    ['2G', 2e9],
    ['1e3', 1000],
    ['1E', 1e18],
  ])('parses %s', (q, expected) => {
    expect(parseQuantity(q)).toBeCloseTo(expected);
  });

  it.each(['', 'abc', '-1', '1.2.3', '5 Mi', '10Xi'])('rejects %p', (q) => {
    expect(parseQuantity(q)).toBeUndefined();
  });
});

describe('formatCpu / formatMemory', () => {
  it('prints whole cores plainly and fractions as millicores', () => {
    expect(formatCpu(2)).toBe('2');
    expect(formatCpu(1.9)).toBe('1900m');
    expect(formatCpu(-1)).toBe('0');
  });

  it('prints memory in whole KiB', () => {
    expect(formatMemory(2 ** 20 + 1023)).toBe('1024Ki');
    expect(formatMemory(-5)).toBe('0Ki');
  });
});
