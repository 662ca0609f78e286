import { Env, platformBaseUrl } from '@cerulean/config';
import {
  acceptedAudiences,
  AccessTokenClaims,
  appTokenClaims,
  issuerV1,
  issuerV2,
  loadSigningKey,
  publicJwk,
  signJwt,
  SigningKey,
  VerifiedSignatures,
  verifyJwt,
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

  /** Every token's issuer is under this (PUBLIC_BASE_URL, or where the API listens): never a request header. */
  readonly issuerBase: string;

  constructor(private readonly env: Env) {
    this.issuerBase = platformBaseUrl(env);
    const box = new SecretBox(loadMasterKey({ masterKey: env.MASTER_KEY, dataDir: env.DATA_DIR }));
    this.key = loadSigningKey(env.DATA_DIR, box);
    this.keys = new Map([[this.key.kid, this.key.publicKey]]);
  }

  get tenantId(): string {
    return this.env.TENANT_ID;
  }

  /**
   * Resources a token may be for: ARM's names, the platform's own address and the public address the client
   * used (`requestBase` comes from PublicAddress: forwarded headers count only from trusted proxies).
   */
  audiences(requestBase: string): string[] {
    return acceptedAudiences([...new Set([requestBase, this.issuerBase])]);
  }

  mint(input: { appId: string; objectId: string; resource: string; version: 1 | 2 }): { token: string; claims: AccessTokenClaims } {
    const tid = this.env.TENANT_ID;
    const claims = appTokenClaims({
      ...input,
      tenantId: tid,
      issuer: input.version === 2 ? issuerV2(this.issuerBase, tid) : issuerV1(this.issuerBase, tid),
    });
    return { token: signJwt(claims, this.key), claims };
  }

  /** Throws TokenError when the token is not one of ours, or not for ARM, or not for this tenant, or no longer valid. */
  verify(token: string, requestBase: string): AccessTokenClaims {
    const tid = this.env.TENANT_ID;
    return verifyJwt(token, {
      keys: this.keys,
      signatures: this.signatures,
      audiences: this.audiences(requestBase),
      tenantId: tid,
      issuers: (iss) => {
        if (iss === issuerV2(this.issuerBase, tid) || iss === issuerV1(this.issuerBase, tid)) return true;
        // Several API processes of one installation (other ports on the same host) share the key and the tenant.
        const origin = /^(https:\/\/[^/]+)\/([^/]+)\/(v2\.0)?$/.exec(iss);
        return origin !== null && origin[2] === tid && hostnameOf(origin[1]) === this.issuerHost;
      },
    });
  }

  private get issuerHost(): string {
    return hostnameOf(this.issuerBase);
  }

  jwks(): { keys: Record<string, unknown>[] } {
    return { keys: [publicJwk(this.key)] };
  }
}
