import { ConfigModule, Env, loadEnv } from '@cerulean/config';
import { DatabaseModule } from '@cerulean/domain';
import { NODE_PROVIDER, NodeProvider } from '@cerulean/node-provider';
import { Logger } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { DataSource, EntityManager } from 'typeorm';
import { OperationEngineModule } from '../src/engine/operation-engine.module';
import { startTestDatabase } from '../../../test-support/database';

export { aCluster, anOperation, aPool, aResourceGroup, KUBERNETES_VERSION, RESOLVED_KUBERNETES_VERSION, truncateAll } from '../../../test-support/database';

/**
 * The worker's operation engine as WorkerModule wires it (OperationEngineModule), on a Postgres of its own (migrated)
 * and the given NodeProvider: no Redis, no Docker, no HTTP. For handler and engine tests that run in seconds.
 */
export interface EngineTestBed {
  module: TestingModule;
  db: EntityManager;
  env: Env;
  close(): Promise<void>;
}

/** `settings`: extra CERULEAN_* variables (e.g. a longer node Ready timeout than the bed's 1 s). */
export async function startEngineTestBed(name: string, provider: NodeProvider, settings: Record<string, string> = {}): Promise<EngineTestBed> {
  const database = await startTestDatabase(`engine-${name}`);
  try {
    const env = loadEnv({
      CERULEAN_DATABASE_URL: database.databaseUrl,
      CERULEAN_DATA_DIR: database.dataDir,
      CERULEAN_NODE_READY_TIMEOUT_SECONDS: '1',
      ...settings,
    });
    Logger.overrideLogger(['error']);
    const module = await Test.createTestingModule({ imports: [ConfigModule, DatabaseModule, OperationEngineModule] })
      .overrideProvider(Env)
      .useValue(env)
      .overrideProvider(NODE_PROVIDER)
      .useValue(provider)
      .compile();
    await module.init();
    return {
      module,
      db: module.get(DataSource).manager,
      env,
      close: async () => {
        await module.close();
        database.stop();
      },
    };
  } catch (err) {
    database.stop();
    throw err;
  }
}
