import { liveWorkspaceIdOf } from '../../keys/workspace-modes.js';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { catalogView } from '../../catalog/catalog.routes.js';
import { parseCommandArgs, requireName, UsageError } from '../args.js';
import { configFromEnv, openCliStore } from '../context.js';

export const CATALOG_HELP = `Usage:
  smashsend catalog export [--workspace NAME] [--out FILE]
      Writes the workspace's event catalogue as JSON, the body GET /v1/catalog/events answers
      ({"events": [{"name", "firstSeen", "lastSeen", "count", "propertiesTruncated",
      "properties": [{"path", "types"}]}]}): every event name processed, its volume, and the
      JSON types seen at each property path (more than one type is drift). To FILE (replaced if
      it exists; the path written is printed on stderr), or to stdout without --out.

The workspace defaults to "default". export never creates a store.`;

export async function catalog(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(CATALOG_HELP);
    return 0;
  }
  const spec = { workspace: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;
  const { values } = parseCommandArgs(rest, spec, 0);
  if (values.help) {
    console.log(CATALOG_HELP);
    return 0;
  }
  if (sub !== 'export') throw new UsageError(`unknown catalog command "${sub}"`);
  const wsName = requireName('workspace', values.workspace ?? 'default');
  if (values.out !== undefined && values.out === '') throw new UsageError('--out needs a file name');
  const store = await openCliStore(configFromEnv(), 'read');
  try {
    const found = (await store.keys.listKeys()).find((k) => k.workspaceName === wsName);
    if (!found) throw new Error(`no workspace "${wsName}" (it has no keys)`);
    const json = `${JSON.stringify(await catalogView(store.catalog, liveWorkspaceIdOf(found)), null, 2)}\n`;
    if (values.out === undefined) {
      process.stdout.write(json);
    } else {
      const path = resolve(values.out);
      writeFileSync(path, json);
      process.stderr.write(`Wrote the catalogue of "${wsName}" to ${path}\n`);
    }
    return 0;
  } finally {
    await store.close();
  }
}
