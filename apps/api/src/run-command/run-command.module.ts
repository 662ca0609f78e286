import { QueueModule } from '@cerulean/queue-contracts';
import { Module } from '@nestjs/common';
import { ClustersModule } from '../clusters/clusters.module';
import { RunCommandController } from './run-command.controller';
import { RunCommandService } from './run-command.service';

/** `runCommand` on a cluster and its command results. */
@Module({
  imports: [QueueModule, ClustersModule],
  controllers: [RunCommandController],
  providers: [RunCommandService],
})
export class RunCommandModule {}
