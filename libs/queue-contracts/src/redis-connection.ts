import { Env, redisUrl } from '@cerulean/config';
import { RedisOptions } from 'bullmq';

/** How every queue and worker of an installation reaches Redis (with its password: redisUrl): one connection setting and key prefix, from Env. */
export function redisConnection(env: Env): { connection: RedisOptions; prefix: string } {
  // Workers block on Redis: BullMQ requires maxRetriesPerRequest null for their connections.
  return { connection: { url: redisUrl(env), maxRetriesPerRequest: null }, prefix: env.QUEUE_PREFIX };
}
