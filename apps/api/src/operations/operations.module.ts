import { Module } from '@nestjs/common';
import { OperationsController } from './operations.controller';
import { OperationResults } from './operation-results';
import { OperationsService } from './operations.service';

/**
 * Long-running operations: status, result and list. Exports OperationsService (deployments answer their operation
 * URLs with it) and OperationResults, where clusters, deployments and run-command register how their results read.
 */
@Module({
  controllers: [OperationsController],
  providers: [OperationsService, OperationResults],
  exports: [OperationsService, OperationResults],
})
export class OperationsModule {}
