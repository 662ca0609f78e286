import { ConfigModule, Env } from '@cerulean/config';
import { ClusterCredentialRepository, DatabaseModule } from '@cerulean/domain';
import { DockerNodeProvider, IptablesFirewall, NODE_PROVIDER, NodeAgentCredentials, NoFirewall } from '@cerulean/node-provider';
import { loadNodeAgentKey } from '@cerulean/pki';
import { QueueModule } from '@cerulean/queue-contracts';
import { Logger, Module } from '@nestjs/common';
import Dockerode from 'dockerode';
import { ClusterLocks } from './engine/cluster-locks';
import { OperationRunner } from './engine/operation-runner';
import { AbortHandler } from './handlers/abort.handler';
import { ClusterConvergeHandler } from './handlers/cluster-converge.handler';
import { ClusterDeleteHandler } from './handlers/cluster-delete.handler';
import { ControlPlane } from './handlers/control-plane';
import { ArmFrontDoor } from './deployments/arm-front-door';
import { DeploymentHandler } from './deployments/deployment.handler';
import { InstallationService } from './handlers/installation.service';
import { NodeFleet } from './handlers/node-fleet';
import { ResourceGroupDeleteHandler } from './handlers/resource-group-delete.handler';
import { RotateCertificatesHandler } from './handlers/rotate-certificates.handler';
import { RunCommandHandler } from './handlers/run-command.handler';
import { DeploymentsProcessor, OperationsProcessor, SubscriptionDeploymentsProcessor } from './processors/operations.processor';
import { OperationSweeper } from './sweepers/operation-sweeper';
import { NodeHealthMonitor } from './sweepers/node-health-monitor';
import { OrphanReaper } from './sweepers/orphan-reaper';

@Module({
  imports: [ConfigModule, DatabaseModule, QueueModule],
  providers: [
    {
      provide: NODE_PROVIDER,
      inject: [Env],
      useFactory: (env: Env) => {
        if (env.NODE_FIREWALL === 'none') new Logger('NodeProvider').warn('CERULEAN_NODE_FIREWALL=none: node containers can reach the host and beyond');
        return new DockerNodeProvider({
          docker: new Dockerode({ socketPath: env.DOCKER_SOCKET }),
          publishHost: env.NODE_PUBLISH_HOST,
          firewall: env.NODE_FIREWALL === 'none' ? new NoFirewall() : new IptablesFirewall(),
        });
      },
    },
    // The key sits in DATA_DIR/secrets, created once: every worker sharing the folder computes the same credentials.
    { provide: NodeAgentCredentials, inject: [Env], useFactory: (env: Env) => new NodeAgentCredentials(loadNodeAgentKey(env.DATA_DIR)) },
    InstallationService,
    ClusterLocks,
    OperationRunner,
    NodeFleet,
    ClusterConvergeHandler,
    AbortHandler,
    ClusterDeleteHandler,
    ResourceGroupDeleteHandler,
    ClusterCredentialRepository,
    ControlPlane,
    RotateCertificatesHandler,
    RunCommandHandler,
    ArmFrontDoor,
    DeploymentHandler,
    OperationsProcessor,
    DeploymentsProcessor,
    SubscriptionDeploymentsProcessor,
    OperationSweeper,
    OrphanReaper,
    NodeHealthMonitor,
  ],
})
export class WorkerModule {}
