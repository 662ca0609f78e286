import { Env } from '@cerulean/config';
import { LoginThrottle, VerifiedSecrets } from '@cerulean/identity';
import { Injectable } from '@nestjs/common';
import { AuthenticationResult, PrincipalsService } from './principals.service';

export type ClientAuthentication = AuthenticationResult | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

/**
 * Client credentials check of the token endpoint, with its defences against secret guessing: a client's
 * secret that this process has verified before is confirmed without scrypt (and is never throttled); any
 * other check needs an attempt from the client id's and the source's buckets (LoginThrottle), and runs with
 * the other secret checks of the process through PrincipalsService's concurrency limit.
 */
@Injectable()
export class ClientAuthenticator {
  private readonly throttle: LoginThrottle;
  private readonly verified = new VerifiedSecrets();

  constructor(
    private readonly principals: PrincipalsService,
    env: Env,
  ) {
    this.throttle = new LoginThrottle({
      client: { size: env.TOKEN_THROTTLE_CLIENT_BUCKET, refillPerSecond: env.TOKEN_THROTTLE_CLIENT_REFILL_PER_SECOND },
      source: { size: env.TOKEN_THROTTLE_SOURCE_BUCKET, refillPerSecond: env.TOKEN_THROTTLE_SOURCE_REFILL_PER_SECOND },
    });
  }

  async authenticate(clientId: string, secret: string, source: string): Promise<ClientAuthentication> {
    const known = this.verified.get(clientId, secret);
    if (known !== undefined) {
      const again = await this.principals.authenticateVerified(clientId, known);
      if (again) return again;
      this.verified.forget(clientId, secret);
    }
    const attempt = this.throttle.attempt(clientId, source);
    if (!attempt.allowed) return { ok: false, reason: 'throttled', retryAfterSeconds: attempt.retryAfterSeconds };
    const result = await this.principals.authenticate(clientId, secret);
    if (result.ok) {
      this.throttle.succeeded(clientId, source);
      this.verified.remember(clientId, secret, result.secretHash);
    }
    return result;
  }
}
