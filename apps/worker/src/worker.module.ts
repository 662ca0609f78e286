import { ConfigModule } from '@cerulean/config';
import { ClusterCredentialRepository, DatabaseModule } from '@cerulean/domain';
import { QueueModule } from '@cerulean/queue-contracts';
import { Module } from '@nestjs/common';
import { OperationEngineModule } from './engine/operation-engine.module';
import { OperationsProcessor } from './processors/operations.processor';
import { RegistryBootstrap } from './registry/registry.bootstrap';
import { ControlPlaneMonitor } from './sweepers/control-plane.monitor';
import { NodeHealthMonitor } from './sweepers/node-health.monitor';
import { OperationSweeper } from './sweepers/operation.sweeper';
import { OrphanReaper } from './sweepers/orphan.reaper';
import { ServiceLoadBalancerController } from './sweepers/service-load-balancer.controller';

/** The worker process: the operation engine, fed by the queues, and the sweepers. */
@Module({
  imports: [ConfigModule, DatabaseModule, QueueModule, OperationEngineModule],
  providers: [
    OperationsProcessor,
    OperationSweeper,
    OrphanReaper,
    NodeHealthMonitor,
    ControlPlaneMonitor,
    ServiceLoadBalancerController,
    ClusterCredentialRepository,
    RegistryBootstrap,
  ],
})
export class WorkerModule {}
