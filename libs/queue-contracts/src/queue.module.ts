import { Env } from '@cerulean/config';
import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { OperationQueue } from './operation-queue.service';
import { OperationStarter } from './operation-starter.service';
import { DEPLOYMENTS_QUEUE, OPERATIONS_QUEUE, SUBSCRIPTION_DEPLOYMENTS_QUEUE } from './operations-queue';
import { redisConnection } from './redis-connection';

/** Redis connection from Env, the operations and deployments queues, their producer, and the operation starter (needs DatabaseModule). */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [Env],
      useFactory: (env: Env) => redisConnection(env),
    }),
    BullModule.registerQueue({ name: OPERATIONS_QUEUE }, { name: DEPLOYMENTS_QUEUE }, { name: SUBSCRIPTION_DEPLOYMENTS_QUEUE }),
  ],
  providers: [OperationQueue, OperationStarter],
  exports: [OperationQueue, OperationStarter, BullModule],
})
export class QueueModule {}
