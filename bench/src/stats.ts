/** Summary statistics of a sample (milliseconds unless the scenario says otherwise). */
export interface Summary {
  n: number;
  median: number;
  p95: number;
  /** Only with at least 100 samples: below that the largest sample is all a p99 could say. */
  p99?: number;
  min: number;
  max: number;
}

/** Nearest-rank percentile of sorted values (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of an empty sample');
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** The median: the mean of the two middle values for an even count. */
export function median(sorted: readonly number[]): number {
  if (sorted.length === 0) throw new Error('median of an empty sample');
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const P99_MIN_SAMPLES = 100;

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    n: sorted.length,
    median: round(median(sorted)),
    p95: round(percentile(sorted, 95)),
    ...(sorted.length >= P99_MIN_SAMPLES ? { p99: round(percentile(sorted, 99)) } : {}),
    min: round(sorted[0]),
    max: round(sorted[sorted.length - 1]),
  };
}

/** value / floor, rounded to 2 decimals; undefined when the floor is not positive. */
export function ratio(value: number, floor: number): number | undefined {
  return floor > 0 ? Math.round((value / floor) * 100) / 100 : undefined;
}
