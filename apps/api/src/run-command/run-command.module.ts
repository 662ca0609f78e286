import { QueueModule } from '@cerulean/queue-contracts';
import { Module } from '@nestjs/common';
import { ClustersModule } from '../clusters/clusters.module';
import { OperationsModule } from '../operations/operations.module';
import { CommandOperationResults } from './command-operation-results';
import { RunCommandController } from './run-command.controller';
import { RunCommandService } from './run-command.service';

/** `runCommand` on a cluster and its command results. */
@Module({
  imports: [QueueModule, ClustersModule, OperationsModule],
  controllers: [RunCommandController],
  providers: [RunCommandService, CommandOperationResults],
})
export class RunCommandModule {}
