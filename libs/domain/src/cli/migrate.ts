import { databaseUrl, loadEnv } from '@cerulean/config';
import { createDataSource } from '../data-source';

/** `npm run migration:run`: applies pending migrations, then exits. Run before api and worker start. */
async function main(): Promise<void> {
  const env = loadEnv();
  const ds = await createDataSource(databaseUrl(env), 'cerulean-migrate').initialize();
  try {
    const applied = await ds.runMigrations({ transaction: 'each' });
    console.log(applied.length ? `applied: ${applied.map((m) => m.name).join(', ')}` : 'schema is up to date');
  } finally {
    await ds.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
