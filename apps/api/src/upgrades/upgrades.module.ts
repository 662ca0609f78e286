import { Module } from '@nestjs/common';
import { AgentPoolsModule } from '../agent-pools/agent-pools.module';
import { ClustersModule } from '../clusters/clusters.module';
import { UpgradeProfilesController } from './upgrade-profiles.controller';

/** The upgrade profiles of a cluster and of its pools (read only). */
@Module({
  imports: [ClustersModule, AgentPoolsModule],
  controllers: [UpgradeProfilesController],
})
export class UpgradesModule {}
