import { QueueModule } from '@cerulean/queue-contracts';
import { Module } from '@nestjs/common';
import { AgentPoolsModule } from '../agent-pools/agent-pools.module';
import { ClustersModule } from '../clusters/clusters.module';
import { DeleteMachinesController } from './delete-machines.controller';
import { DeleteMachinesService } from './delete-machines.service';
import { MachinesController } from './machines.controller';
import { MachinesService } from './machines.service';

/**
 * The machines of an agent pool, read from the cluster's control plane (ClustersModule lends the credentials), and
 * deleteMachines, which removes some of them through the pool's operation.
 */
@Module({
  imports: [AgentPoolsModule, ClustersModule, QueueModule],
  controllers: [MachinesController, DeleteMachinesController],
  providers: [MachinesService, DeleteMachinesService],
})
export class MachinesModule {}
