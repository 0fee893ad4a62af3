import { parseCommandArgs } from '../args.js';
import { configFromEnv, openCliStore } from '../context.js';

export const MIGRATE_HELP = `Usage: smashsend migrate

Applies pending schema migrations to the store of DATABASE_URL (serve and worker also do
this at start), creating a SQLite store if there is none. Refuses a database whose schema
is newer than this build.`;

export async function migrate(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(MIGRATE_HELP);
    return 0;
  }
  let applied: string[] = [];
  const store = await openCliStore(configFromEnv(), 'write', undefined, (r) => (applied = r.applied));
  try {
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Schema is up to date.');
    return 0;
  } finally {
    await store.close();
  }
}
