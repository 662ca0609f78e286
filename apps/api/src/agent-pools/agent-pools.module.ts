import { QueueModule } from '@cerulean/queue-contracts';
import { Module } from '@nestjs/common';
import { ClustersModule } from '../clusters/clusters.module';
import { AgentPoolsController } from './agent-pools.controller';
import { AgentPoolsService } from './agent-pools.service';

/** A cluster's agent pools. */
@Module({
  imports: [QueueModule, ClustersModule],
  controllers: [AgentPoolsController],
  providers: [AgentPoolsService],
  exports: [AgentPoolsService],
})
export class AgentPoolsModule {}
