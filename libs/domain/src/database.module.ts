import { databaseUrl, Env } from '@cerulean/config';
import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ENTITIES } from './entities';
import { AgentPoolRepository } from './agent-pool.repository';
import { ClusterRepository } from './cluster.repository';
import { OperationRepository } from './operation.repository';
import { ResourceGroupRepository } from './resource-group.repository';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [Env],
      useFactory: (env: Env) => ({
        type: 'postgres' as const,
        url: databaseUrl(env),
        entities: ENTITIES,
        synchronize: false,
        migrationsRun: false,
        // A Postgres that does not answer a connect (restarting, frozen) is an error within 5 s, not a hang.
        extra: { max: 20, connectionTimeoutMillis: 5_000 },
      }),
    }),
  ],
  providers: [OperationRepository, ResourceGroupRepository, ClusterRepository, AgentPoolRepository],
  exports: [OperationRepository, ResourceGroupRepository, ClusterRepository, AgentPoolRepository],
})
export class DatabaseModule {}
