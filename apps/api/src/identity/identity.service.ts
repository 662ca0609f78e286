import { Env } from '@cerulean/config';
import {
  acceptedAudiences, AccessTokenClaims, appTokenClaims, issuerV1, issuerV2, loadSigningKey, publicJwk, signJwt, SigningKey, VerifiedSignatures, verifyJwt,
} from '@cerulean/identity';
import { loadMasterKey, SecretBox } from '@cerulean/pki';
import { Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';

const hostnameOf = (base: string): string => {
  try {
    return new URL(base).hostname;
  } catch {
    return '';
  }
};

/**
 * The token authority's keys and rules, in the API process: mints the access tokens the token endpoint
 * returns and verifies the ones every ARM request carries. The signing key is made once per data folder.
 */
@Injectable()
export class IdentityService {
  private readonly key: SigningKey;
  private readonly keys: ReadonlyMap<string, KeyObject>;
  private readonly signatures = new VerifiedSignatures();

  constructor(private readonly env: Env) {
    const box = new SecretBox(loadMasterKey({ masterKey: env.MASTER_KEY, dataDir: env.DATA_DIR }));
    this.key = loadSigningKey(env.DATA_DIR, box);
    this.keys = new Map([[this.key.kid, this.key.publicKey]]);
  }

  get tenantId(): string {
    return this.env.TENANT_ID;
  }

  /** The bases a token's issuer may start with: the one the client used, and the configured public one. */
  private bases(requestBase: string): string[] {
    return [...new Set([requestBase, ...(this.env.PUBLIC_BASE_URL ? [this.env.PUBLIC_BASE_URL.replace(/\/+$/, '')] : [])])];
  }

  audiences(requestBase: string): string[] {
    return acceptedAudiences(this.bases(requestBase));
  }

  mint(input: { appId: string; objectId: string; resource: string; baseUrl: string; version: 1 | 2 }): { token: string; claims: AccessTokenClaims } {
    const tid = this.env.TENANT_ID;
    const claims = appTokenClaims({
      ...input,
      tenantId: tid,
      issuer: input.version === 2 ? issuerV2(input.baseUrl, tid) : issuerV1(input.baseUrl, tid),
    });
    return { token: signJwt(claims, this.key), claims };
  }

  /** Throws TokenError when the token is not one of ours, or not for ARM, or no longer valid. */
  verify(token: string, requestBase: string): AccessTokenClaims {
    const bases = this.bases(requestBase);
    const tid = this.env.TENANT_ID;
    const exact = new Set(bases.flatMap((b) => [issuerV2(b, tid), issuerV1(b, tid)]));
    // Several API processes of one installation (other ports on the same host) share the key and the tenant.
    const hosts = new Set(bases.map((b) => hostnameOf(b)));
    return verifyJwt(token, {
      keys: this.keys,
      signatures: this.signatures,
      audiences: acceptedAudiences(bases),
      issuers: (iss) => {
        if (exact.has(iss)) return true;
        const origin = /^(https:\/\/[^/]+)\/([^/]+)\/(v2\.0)?$/.exec(iss);
        return origin !== null && origin[2] === tid && hosts.has(hostnameOf(origin[1]));
      },
    });
  }

  jwks(): { keys: Record<string, unknown>[] } {
    return { keys: [publicJwk(this.key)] };
  }
}
