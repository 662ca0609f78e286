import { createHash, createPrivateKey, createPublicKey, KeyObject, sign, verify } from 'node:crypto';

/**
 * Compact JWS (RFC 7515) signing and verification with the service-account key, on node:crypto (jose is ESM-only and
 * the CommonJS test runtime cannot load it). The algorithm follows the key as upstream's signer picks it: RS256 for
 * RSA, ES256/ES384/ES512 for P-256/P-384/P-521; the key id is upstream's (base64url SHA-256 of the public key's DER).
 */
export class JwtKey {
  readonly alg: 'RS256' | 'ES256' | 'ES384' | 'ES512';
  readonly kid: string;
  private readonly priv: KeyObject;
  readonly pub: KeyObject;

  constructor(privateKeyPem: string) {
    this.priv = createPrivateKey(privateKeyPem);
    this.pub = createPublicKey(this.priv);
    if (this.priv.asymmetricKeyType === 'rsa') this.alg = 'RS256';
    else if (this.priv.asymmetricKeyType === 'ec') {
      const curve = this.priv.asymmetricKeyDetails?.namedCurve;
      const alg = ({ prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' } as const)[curve as 'prime256v1'];
      if (!alg) throw new Error(`service-account key: unsupported EC curve ${curve}`);
      this.alg = alg;
    } else throw new Error(`service-account key: unsupported key type ${this.priv.asymmetricKeyType}`);
    this.kid = createHash('sha256')
      .update(this.pub.export({ type: 'spki', format: 'der' }))
      .digest('base64url');
  }

  private get hash(): string {
    return `sha${this.alg.slice(2)}`;
  }

  private get dsaEncoding() {
    return this.alg.startsWith('ES') ? ('ieee-p1363' as const) : undefined;
  }

  /** The public key as a JWK for /openid/v1/jwks. */
  jwk(): Record<string, unknown> {
    return { use: 'sig', ...this.pub.export({ format: 'jwk' }), kid: this.kid, alg: this.alg };
  }

  sign(claims: Record<string, unknown>): string {
    const header = b64json({ alg: this.alg, kid: this.kid });
    const payload = b64json(claims);
    const sig = sign(this.hash, Buffer.from(`${header}.${payload}`), { key: this.priv, dsaEncoding: this.dsaEncoding });
    return `${header}.${payload}.${sig.toString('base64url')}`;
  }

  /** The claims of a token this key signed, or undefined for anything else (malformed, other algorithm, bad signature). */
  verify(token: string): Record<string, unknown> | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const header = parseB64Json(parts[0]);
    if (!header || header.alg !== this.alg) return undefined;
    let ok: boolean;
    try {
      ok = verify(this.hash, Buffer.from(`${parts[0]}.${parts[1]}`), { key: this.pub, dsaEncoding: this.dsaEncoding }, Buffer.from(parts[2], 'base64url'));
    } catch {
      return undefined;
    }
    return ok ? parseB64Json(parts[1]) : undefined;
  }
}

const b64json = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function parseB64Json(s: string): Record<string, unknown> | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(s)) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
