import { randomInt } from 'node:crypto';

// Upstream's generateName alphabet: no vowels (no accidental words) and no confusable characters.
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** `generateName` plus upstream's 5-character random suffix (the base is cut so the result fits 63 characters). */
export function generatedName(base: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += ALPHABET[randomInt(ALPHABET.length)];
  return `${base.length > 58 ? base.slice(0, 58) : base}${suffix}`;
}
