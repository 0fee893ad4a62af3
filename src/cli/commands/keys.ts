import { parseArgs } from 'node:util';
import { hashKey } from '../../keys/key-cache.js';
import { configFromEnv, mintKey, openMigratedStore } from '../context.js';

export const KEYS_HELP = `Usage:
  smashsend keys create [--workspace NAME] [--name LABEL]
      Creates a key (workspace created if missing; default "default"). The secret is printed
      alone on the last stdout line; the key id goes to stderr.
  smashsend keys list
      Lists keys: id, workspace, name, prefix, created, revoked.
  smashsend keys revoke KEY
      Revokes by key id (key_…) or by the secret itself (sk_live_…). Every running server
      refuses it within KEY_REFRESH_MS (2 s by default).`;

export async function keys(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === 'help') {
    console.log(KEYS_HELP);
    return sub ? 0 : 1;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { workspace: { type: 'string', default: 'default' }, name: { type: 'string', default: 'default' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(KEYS_HELP);
    return 0;
  }
  const store = await openMigratedStore(configFromEnv());
  try {
    switch (sub) {
      case 'create': {
        const { secret, record } = await mintKey(store, values.workspace!, values.name!);
        console.error(`Created key ${record.id} "${record.name}" for workspace "${record.workspaceName}" (${record.workspaceId}).`);
        console.log(secret);
        return 0;
      }
      case 'list': {
        const all = await store.keys.listKeys();
        console.log(['ID', 'WORKSPACE', 'NAME', 'PREFIX', 'CREATED', 'REVOKED'].join('\t'));
        for (const k of all) {
          console.log(
            [k.id, k.workspaceName, k.name, `${k.prefix}…`, new Date(k.createdAt).toISOString(), k.revokedAt ? new Date(k.revokedAt).toISOString() : '-'].join('\t'),
          );
        }
        return 0;
      }
      case 'revoke': {
        const target = positionals[0];
        if (!target) throw new Error('keys revoke needs a key id or secret: smashsend keys revoke KEY');
        const r = await store.keys.revokeKey(target.startsWith('sk_') ? hashKey(target) : target, Date.now());
        if (!r) throw new Error(`no key matches ${target.startsWith('sk_') ? 'that secret' : target}`);
        console.log(`Revoked ${r.id} ("${r.name}", workspace "${r.workspaceName}").`);
        return 0;
      }
      default:
        throw new Error(`unknown keys command "${sub}"; see smashsend keys --help`);
    }
  } finally {
    await store.close();
  }
}
