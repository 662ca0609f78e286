import { Env } from '@cerulean/config';
import { ClusterCredentialRepository } from '@cerulean/domain';
import {
  DEFAULT_DOCKER_WAIT,
  DockerNodeProvider,
  imageNamespace,
  IptablesFirewall,
  LocalRegistry,
  NODE_PROVIDER,
  NodeAgentCredentials,
  NoFirewall,
  waitingForDaemon,
} from '@cerulean/node-provider';
import { loadNodeAgentKey } from '@cerulean/pki';
import { Logger, Module } from '@nestjs/common';
import Dockerode from 'dockerode';
import { ArmFrontDoor } from '../deployments/arm-front-door.service';
import { DeploymentHandler } from '../deployments/deployment.handler';
import { AbortHandler } from '../handlers/abort.handler';
import { ClusterConvergeHandler } from '../handlers/cluster-converge.handler';
import { ClusterDeleteHandler } from '../handlers/cluster-delete.handler';
import { ControlPlane } from '../handlers/control-plane.service';
import { InstallationService } from '../handlers/installation.service';
import { KubeApiClient } from '../handlers/kube-api.client';
import { NodeFleet } from '../handlers/node-fleet.service';
import { ResourceGroupDeleteHandler } from '../handlers/resource-group-delete.handler';
import { RotateCertificatesHandler } from '../handlers/rotate-certificates.handler';
import { RunCommandHandler } from '../handlers/run-command.handler';
import { ClusterLocks } from './cluster-locks.service';
import { OperationRunner } from './operation.runner';
import { OutcomeRecorder } from './outcome.recorder';

/**
 * Runs operations: the runner, the outcome recorder, the executor locks, every handler and the node provider they
 * drive. Needs Env and the database (ConfigModule, DatabaseModule); the queues that feed it are the WorkerModule's.
 */
@Module({
  providers: [
    {
      provide: LocalRegistry,
      inject: [Env, InstallationService],
      useFactory: (env: Env, installation: InstallationService) =>
        new LocalRegistry({
          docker: new Dockerode({ socketPath: env.DOCKER_SOCKET }),
          port: env.REGISTRY_PORT,
          installationId: () => installation.id(),
          imageRepository: `${imageNamespace(env.NODE_IMAGE_REPOSITORY)}/registry`,
        }),
    },
    {
      provide: NODE_PROVIDER,
      inject: [Env, LocalRegistry],
      useFactory: (env: Env, registry: LocalRegistry) => {
        const logger = new Logger('NodeProvider');
        if (env.NODE_FIREWALL === 'none') logger.warn('CERULEAN_NODE_FIREWALL=none: node containers can reach the host and beyond');
        // While the daemon restarts, requests wait for it (bounded) instead of failing the operation's attempts.
        const docker = waitingForDaemon(new Dockerode({ socketPath: env.DOCKER_SOCKET }), DEFAULT_DOCKER_WAIT, (err) =>
          logger.warn(
            `the Docker daemon is not answering (${err instanceof Error ? err.message : String(err)}): waiting up to ${DEFAULT_DOCKER_WAIT.budgetMs / 1000} s`,
          ),
        );
        return new DockerNodeProvider({
          docker,
          publishHost: env.NODE_PUBLISH_HOST,
          firewall: env.NODE_FIREWALL === 'none' ? new NoFirewall() : new IptablesFirewall(),
          // Every cluster network gets the installation registry (see RegistryBootstrap).
          networkPeers: env.REGISTRY_PORT ? [registry] : [],
        });
      },
    },
    // The key sits in DATA_DIR/secrets, created once: every worker sharing the folder computes the same credentials.
    { provide: NodeAgentCredentials, inject: [Env], useFactory: (env: Env) => new NodeAgentCredentials(loadNodeAgentKey(env.DATA_DIR)) },
    InstallationService,
    ClusterLocks,
    OutcomeRecorder,
    OperationRunner,
    NodeFleet,
    KubeApiClient,
    ClusterCredentialRepository,
    ControlPlane,
    ClusterConvergeHandler,
    AbortHandler,
    ClusterDeleteHandler,
    ResourceGroupDeleteHandler,
    RotateCertificatesHandler,
    RunCommandHandler,
    ArmFrontDoor,
    DeploymentHandler,
  ],
  exports: [NODE_PROVIDER, LocalRegistry, InstallationService, ClusterLocks, OutcomeRecorder, OperationRunner, NodeFleet, ControlPlane],
})
export class OperationEngineModule {}
