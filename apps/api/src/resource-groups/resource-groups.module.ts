import { QueueModule } from '@cerulean/queue-contracts';
import { Module } from '@nestjs/common';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { ResourceGroupsController } from './resource-groups.controller';
import { ResourceGroupsService } from './resource-groups.service';

/** Resource groups (their delete is an operation on the queue). */
@Module({
  imports: [QueueModule, SubscriptionsModule],
  controllers: [ResourceGroupsController],
  providers: [ResourceGroupsService],
  exports: [ResourceGroupsService],
})
export class ResourceGroupsModule {}
