import { Module } from '@nestjs/common';
import { AgentPoolsModule } from '../agent-pools/agent-pools.module';
import { ClustersModule } from '../clusters/clusters.module';
import { MachinesController } from './machines.controller';
import { MachinesService } from './machines.service';

/** The machines of an agent pool, read from the cluster's control plane (ClustersModule lends the credentials). */
@Module({
  imports: [AgentPoolsModule, ClustersModule],
  controllers: [MachinesController],
  providers: [MachinesService],
})
export class MachinesModule {}
