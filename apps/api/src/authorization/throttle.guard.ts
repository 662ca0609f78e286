import { ArmError } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { BucketSpec, TokenBuckets } from '@cerulean/identity';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

type Kind = 'reads' | 'writes' | 'deletes';
const kindOf = (method: string): Kind => (method === 'GET' || method === 'HEAD' ? 'reads' : method === 'DELETE' ? 'deletes' : 'writes');
const OPERATION_TYPE: Record<Kind, string> = { reads: 'Read', writes: 'Write', deletes: 'Delete' };

/**
 * ARM's throttling: one token bucket per principal, subscription and kind (reads, writes, deletes). Every
 * authenticated answer carries `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}`; an empty
 * bucket answers 429 TooManyRequests with Retry-After. Buckets live in this API process (ARM's are per
 * instance too). Runs after authentication (it needs the principal), before authorization.
 */
@Injectable()
export class ThrottleGuard implements CanActivate {
  private readonly buckets = new TokenBuckets();
  private readonly specs: Record<Kind, BucketSpec>;

  constructor(env: Env) {
    this.specs = {
      reads: { size: env.THROTTLE_READ_BUCKET, refillPerSecond: env.THROTTLE_READ_REFILL_PER_SECOND },
      writes: { size: env.THROTTLE_WRITE_BUCKET, refillPerSecond: env.THROTTLE_WRITE_REFILL_PER_SECOND },
      deletes: { size: env.THROTTLE_DELETE_BUCKET, refillPerSecond: env.THROTTLE_DELETE_REFILL_PER_SECOND },
    };
  }

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const principal = req.principal;
    if (!principal) return true; // public routes (the token authority has no bearer to throttle by)
    const reply = ctx.switchToHttp().getResponse<FastifyReply>();
    const sub = /^\/subscriptions\/([^/?]+)/i.exec(req.url)?.[1]?.toLowerCase() ?? 'tenant';
    const key = (k: Kind) => `${principal.objectId}|${sub}|${k}`;
    const kind = kindOf(req.method.toUpperCase());
    const taken = this.buckets.take(key(kind), this.specs[kind]);
    const scopeWord = sub === 'tenant' ? 'tenant' : 'subscription';
    for (const k of ['reads', 'writes', 'deletes'] as Kind[]) {
      void reply.header(`x-ms-ratelimit-remaining-${scopeWord}-${k}`, String(k === kind ? taken.remaining : this.buckets.peek(key(k), this.specs[k])));
    }
    if (!taken.allowed) {
      void reply.header('retry-after', String(taken.retryAfterSeconds));
      throw new ArmError(
        429,
        'TooManyRequests',
        `The request is being throttled as the limit has been reached for operation type - ${OPERATION_TYPE[kind]}. Retry after ${taken.retryAfterSeconds} second(s). For more information, see - https://aka.ms/armthrottling`,
      );
    }
    return true;
  }
}
