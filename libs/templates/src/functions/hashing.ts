import { createHash } from 'node:crypto';

// ARM's uniqueString(): the arguments joined with '-', hashed with the MurmurHash64 variant of Azure.Deployments
// (Microsoft.PowerPlatform.ResourceStack ComputeHash.MurmurHash64, seed 0, UTF-8 input), then the top 65 bits
// written as 13 characters of RFC 4648 base32 in lower case.
const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

const rotl = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0;
const mul = (a: number, b: number): number => Math.imul(a, b) >>> 0;
const le32 = (data: Uint8Array, at: number, count: number): number => {
  let v = 0;
  for (let i = 0; i < count; i++) v |= (data[at + i] as number) << (8 * i);
  return v >>> 0;
};
const fmix = (h: number): number => {
  h = mul(h ^ (h >>> 16), 0x85ebca6b);
  h = mul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

/** The 64-bit hash as [high, low] 32-bit halves. */
export function murmurHash64(data: Uint8Array): [number, number] {
  const length = data.length;
  let h1 = 0;
  let h2 = 0;
  let index = 0;
  for (; index + 7 < length; index += 8) {
    const k1 = mul(rotl(mul(le32(data, index, 4), C1), 15), C2);
    const k2 = mul(rotl(mul(le32(data, index + 4, 4), C2), 17), C1);
    h1 = (mul((rotl(h1 ^ k1, 19) + h2) >>> 0, 5) + 0x561ccd1b) >>> 0;
    h2 = (mul((rotl(h2 ^ k2, 13) + h1) >>> 0, 5) + 0x0bcaa747) >>> 0;
  }
  const tail = length - index;
  if (tail > 0) {
    h1 = (h1 ^ mul(rotl(mul(le32(data, index, Math.min(tail, 4)), C1), 15), C2)) >>> 0;
    if (tail > 4) {
      h2 = (h2 ^ mul(rotl(mul(le32(data, index + 4, tail - 4), C2), 17), C1)) >>> 0;
    }
  }
  h1 = (h1 ^ length) >>> 0;
  h2 = (h2 ^ length) >>> 0;
  h1 = (h1 + h2) >>> 0;
  h2 = (h2 + h1) >>> 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 = (h1 + h2) >>> 0;
  h2 = (h2 + h1) >>> 0;
  return [h2, h1];
}

export function uniqueString(parts: string[]): string {
  const [high, low] = murmurHash64(Buffer.from(parts.join('-'), 'utf8'));
  let value = (BigInt(high) << 32n) | BigInt(low);
  let out = '';
  for (let i = 0; i < 13; i++) {
    out += BASE32.charAt(Number(value >> 59n));
    value = (value << 5n) & 0xffffffffffffffffn;
  }
  return out;
}

/** The namespace of ARM's guid() (Azure.Deployments.Expression ExpressionBuiltInFunctions.ARMNamespaceGuid). */
export const ARM_GUID_NAMESPACE = '11fb06fb-712d-4ddd-98c7-e71bbd588830';

/** RFC 4122 name-based UUID, version 5 (SHA-1), as lower-case 8-4-4-4-12. */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(Buffer.from(name, 'utf8')).digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** ARM's guid(): a UUID v5 in the ARM namespace over the arguments joined with '-'. */
export const armGuid = (parts: string[]): string => uuidV5(ARM_GUID_NAMESPACE, parts.join('-'));
