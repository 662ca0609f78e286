import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where an integration run keeps its private Postgres, Redis, API data and state. */
export const IT_DIR = process.env.CERULEAN_IT_DIR ?? '/tmp/cerulean-it';
export const STATE_FILE = join(IT_DIR, 'state.json');

/** What global-setup started, for the tests and the teardown. */
export interface ItState {
  dir: string;
  apiUrl: string;
  caPath: string;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  subscriptionId: string;
  installationId: string;
  apiPid: number;
  pgData: string;
  redisPidFile: string;
  /** The bootstrap admin principal the API created at first start (Owner at the root scope). */
  bootstrap: { tenantId: string; clientId: string; clientSecret: string; objectId: string };
  /** Environment for any platform process a test starts (worker restarts). */
  platformEnv: Record<string, string>;
}

export function readItState(): ItState {
  if (!existsSync(STATE_FILE)) throw new Error(`${STATE_FILE} is missing: integration tests run through jest's globalSetup (npm test)`);
  return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as ItState;
}
