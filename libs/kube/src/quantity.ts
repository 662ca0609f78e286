/** Kubernetes resource quantities (`2`, `1500m`, `7168Mi`, `8G`): what requests, limits and capacities are written in. */
const SUFFIX: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

/** Parses a Kubernetes quantity (`2`, `1500m`, `7168Mi`, `8G`) to base units; undefined when malformed or negative. */
export function parseQuantity(quantity: string): number | undefined {
  const m = QUANTITY.exec(quantity.trim());
  if (!m) return undefined;
  const exponent = m[2] === undefined ? 0 : Number(m[2]);
  return Number(m[1]) * 10 ** exponent * SUFFIX[m[3] ?? ''];
}

/**
 * A value in milli-units as resource.NewMilliQuantity(v, DecimalSI) prints it: the largest decimal suffix that keeps
 * it whole (`250m`, `1`, `1500m`, `52428800`, `3k`).
 */
export function formatMilliQuantity(milli: number): string {
  let n = BigInt(Math.max(0, Math.round(milli)));
  if (n === 0n) return '0';
  const suffixes = ['m', '', 'k', 'M', 'G', 'T', 'P', 'E'];
  let i = 0;
  while (i < suffixes.length - 1 && n % 1000n === 0n) {
    n /= 1000n;
    i++;
  }
  return `${n}${suffixes[i]}`;
}

/** resource.NewQuantity(bytes, BinarySI) in canonical form: the largest power-of-1024 suffix that divides it ("12345Ki"), else plain bytes. */
export function formatBinaryQuantity(bytes: number): string {
  let n = BigInt(Math.max(0, Math.round(bytes)));
  if (n === 0n) return '0';
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  let i = 0;
  while (i < suffixes.length - 1 && n % 1024n === 0n) {
    n /= 1024n;
    i++;
  }
  return `${n}${suffixes[i]}`;
}

/** A value in milli-units as a Quantity of that format prints it: BinarySI when the first term was (`1200Mi`), else DecimalSI (`1500m`). */
export function formatQuantityLike(milli: number, binary: boolean): string {
  return binary && milli % 1000 === 0 ? formatBinaryQuantity(milli / 1000) : formatMilliQuantity(milli);
}

/** Whether a quantity is written with a binary suffix (its sums print in BinarySI). */
export const isBinaryQuantity = (q: string): boolean => /[KMGTPE]i$/.test(q.trim());

/** A quantity in milli-units (what sums and comparisons of quantities use here); 0 when malformed. */
export const milliOf = (q: string): number => Math.round((parseQuantity(q) ?? 0) * 1000);

/** A quantity as resource.Quantity's String() prints it: canonical form, its sign kept (`1024Mi` → `1Gi`, `-1e3` → `-1k`). */
export function canonicalQuantity(q: string): string {
  const text = q.trim();
  const sign = text.startsWith('-') ? '-' : '';
  const magnitude = text.replace(/^[+-]/, '');
  const value = formatQuantityLike(milliOf(magnitude), isBinaryQuantity(magnitude));
  return value === '0' ? '0' : `${sign}${value}`;
}

/** A quantity's sign: -1, 0 or 1 (0 for a malformed one too). */
export function quantitySign(q: string): number {
  const text = q.trim();
  const m = milliOf(text.replace(/^[+-]/, ''));
  return m === 0 ? 0 : text.startsWith('-') ? -1 : 1;
}

/** Whether a string parses as a quantity at all, signed or not (what decoding a Quantity from JSON accepts). */
export const isQuantity = (q: string): boolean => parseQuantity(q.trim().replace(/^[+-]/, '')) !== undefined;
