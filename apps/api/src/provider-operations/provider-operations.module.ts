import { Module } from '@nestjs/common';
import { ProviderOperationsController } from './provider-operations.controller';

/** The resource provider's operations list (`Microsoft.ContainerService/operations`). */
@Module({
  controllers: [ProviderOperationsController],
})
export class ProviderOperationsModule {}
