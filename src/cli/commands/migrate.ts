import { openStore, storeOptionsOf } from '../../storage/open-store.js';
import { configFromEnv } from '../context.js';

export const MIGRATE_HELP = `Usage: smashsend migrate

Applies pending schema migrations to the store of DATABASE_URL (serve and worker also do
this at start). Refuses a database whose schema is newer than this build.`;

export async function migrate(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(MIGRATE_HELP);
    return 0;
  }
  const config = configFromEnv();
  const store = await openStore(config.databaseUrl, storeOptionsOf(config));
  try {
    const { applied } = await store.migrate();
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Schema is up to date.');
    return 0;
  } finally {
    await store.close();
  }
}
