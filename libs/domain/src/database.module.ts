import { databaseUrl, Env } from '@cerulean/config';
import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ENTITIES } from './entities';
import { OperationRepository } from './operation.repository';

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
        extra: { max: 20 },
      }),
    }),
  ],
  providers: [OperationRepository],
  exports: [OperationRepository],
})
export class DatabaseModule {}
