import { QueueModule } from '@cerulean/queue-contracts';
import { Module } from '@nestjs/common';
import { ClustersModule } from '../clusters/clusters.module';
import { CredentialsController } from './credentials.controller';
import { CredentialsService } from './credentials.service';

/** A cluster's kubeconfigs (admin, user, monitoring) and its certificate rotation request. */
@Module({
  imports: [QueueModule, ClustersModule],
  controllers: [CredentialsController],
  providers: [CredentialsService],
})
export class CredentialsModule {}
