import { Env, redisUrl } from '@cerulean/config';
import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { OperationQueue } from './operation-queue.service';
import { DEPLOYMENTS_QUEUE, OPERATIONS_QUEUE, SUBSCRIPTION_DEPLOYMENTS_QUEUE } from './operations-queue';

/** Redis connection from Env, the operations and deployments queues, and their producer. */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [Env],
      useFactory: (env: Env) => ({
        connection: { url: redisUrl(env), maxRetriesPerRequest: null },
        prefix: env.QUEUE_PREFIX,
      }),
    }),
    BullModule.registerQueue({ name: OPERATIONS_QUEUE }, { name: DEPLOYMENTS_QUEUE }, { name: SUBSCRIPTION_DEPLOYMENTS_QUEUE }),
  ],
  providers: [OperationQueue],
  exports: [OperationQueue, BullModule],
})
export class QueueModule {}
