import { proxyTrust, publicBaseUrl, PublicAddressPolicy } from '@cerulean/arm';
import { Env, parseAddressRanges, platformBaseUrl } from '@cerulean/config';
import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { isIP } from 'node:net';

declare module 'fastify' {
  interface FastifyRequest {
    /** The public scheme and host of this request (R3.5), once worked out (`PublicAddress.baseOf`). */
    publicBaseUrl?: string;
  }
}

/**
 * Where the platform is, for the URLs it hands out: PUBLIC_BASE_URL, else the Host the client called, with
 * X-Forwarded-Host / X-Forwarded-Proto believed only from CERULEAN_TRUSTED_PROXIES (the socket's peer
 * address decides, never a header). Token issuers do not come from here: they are always `platformBase`.
 */
@Injectable()
export class PublicAddress {
  private readonly policy: PublicAddressPolicy;
  private readonly trusted: (address: string | undefined) => boolean;
  /** The configured public address, or where the API listens. */
  readonly platformBase: string;

  constructor(env: Env) {
    this.trusted = proxyTrust(parseAddressRanges(env.TRUSTED_PROXIES) ?? []);
    this.policy = { configured: env.PUBLIC_BASE_URL, trustProxy: this.trusted };
    this.platformBase = platformBaseUrl(env);
  }

  /** The request's public base URL; ArmError 400 when its Host, or a trusted proxy's forwarded header, is malformed. */
  baseOf(req: FastifyRequest): string {
    req.publicBaseUrl ??= publicBaseUrl({ headers: req.headers, protocol: req.protocol, remoteAddress: req.raw.socket?.remoteAddress }, this.policy);
    return req.publicBaseUrl;
  }

  /** The client's address: the socket peer, or what a trusted proxy says in X-Forwarded-For (its nearest entry). */
  clientAddress(req: FastifyRequest): string {
    const peer = req.raw.socket?.remoteAddress ?? 'unknown';
    if (!this.trusted(peer)) return peer;
    const xff = req.headers['x-forwarded-for'];
    const entries = (Array.isArray(xff) ? xff.join(',') : (xff ?? '')).split(',').map((e) => e.trim());
    const nearest = entries[entries.length - 1];
    return nearest && isIP(nearest) ? nearest : peer;
  }
}
