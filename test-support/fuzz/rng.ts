/** A small seeded PRNG (mulberry32) and the draws the fuzz test makes with it. Same seed, same sequence. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** One generator per request index, so a request replays alone (whatever ran before it or beside it). */
  static forIndex(seed: number, index: number): Rng {
    return new Rng(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
  }

  /** [0, 1) */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)];
  }

  /** One of the weighted choices: `[[weight, value], ...]`. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((n, [w]) => n + w, 0);
    let r = this.next() * total;
    for (const [w, v] of choices) {
      if ((r -= w) < 0) return v;
    }
    return choices[choices.length - 1][1];
  }
}

/** The seed of a run: CERULEAN_FUZZ_SEED (decimal or 0x hex) or the fixed default. */
export function fuzzSeed(env: NodeJS.ProcessEnv, fallback: number): number {
  const raw = env.CERULEAN_FUZZ_SEED;
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = raw.trim().startsWith('0x') ? parseInt(raw.trim().slice(2), 16) : Number(raw.trim());
  if (!Number.isFinite(n)) throw new Error(`CERULEAN_FUZZ_SEED must be a number, not '${raw}'`);
  return n >>> 0;
}
