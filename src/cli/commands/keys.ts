import { hashKey, isPublishable } from '../../keys/key-cache.js';
import type { ApiKeyRecord } from '../../keys/key-store.port.js';
import { parseCommandArgs, requireName, UsageError } from '../args.js';
import { configFromEnv, mintKey, openCliStore } from '../context.js';
import { liveWorkspaceIdOf } from '../../keys/workspace-modes.js';

export const KEYS_HELP = `Usage:
  smashsend keys create [--workspace NAME] [--name LABEL] [--publishable] [--test]
      Creates a key (default workspace and label: "default"; the workspace is created if
      missing, and stderr says so). The secret is printed alone on the last stdout line; the
      key id goes to stderr. Creates the store if there is none. --publishable makes a
      pk_live_… key, safe in a browser: it may only send events (the Segment-compatible
      paths and POST /v1/events[/batch]); every other endpoint answers it 401. --test makes
      a test key (sk_test_…, or pk_test_… with --publishable): everything it sends or reads
      lives in the workspace's test mode, which no live key sees (and the reverse).
  smashsend keys list [--json]
      Lists keys: id, workspace, name, prefix, created, last used, revoked; a test key's
      workspace reads "NAME (test)" (with --json: "mode": "test"). Last use is
      recorded by the servers at most once a minute per key, so it may lag by that much.
      --json prints a JSON array instead (times as ISO 8601, null when unset).
  smashsend keys revoke KEY
      Revokes by key id (key_…) or by the secret itself (sk_live_…, pk_live_…, sk_test_…, pk_test_…). Every running server
      refuses it within KEY_REFRESH_MS (2 s by default). Revoking a key that is already
      revoked changes nothing, says so, and exits 0; a key that does not exist exits 1.

keys list and keys revoke never create a store: with no store at DATABASE_URL they exit 1.
Each prints the store it opened on stderr.`;

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

function keyJson(k: ApiKeyRecord) {
  return {
    id: k.id,
    workspace: k.workspaceName,
    workspaceId: k.workspaceId,
    name: k.name,
    kind: isPublishable(k.prefix) ? 'publishable' : 'secret',
    // Present on test keys only: a live key's fields are as they were before test mode.
    // workspaceId is where the key's data lives: for a test key, the test sibling of liveWorkspaceId.
    ...(k.liveWorkspaceId !== undefined ? { mode: 'test' as const, liveWorkspaceId: k.liveWorkspaceId } : {}),
    prefix: k.prefix,
    createdAt: iso(k.createdAt),
    lastUsedAt: iso(k.lastUsedAt),
    revokedAt: iso(k.revokedAt),
  };
}

export async function keys(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(KEYS_HELP);
    return 0;
  }
  switch (sub) {
    case 'create': {
      const { values } = parseCommandArgs(rest, {
        workspace: { type: 'string' },
        name: { type: 'string' },
        publishable: { type: 'boolean' },
        test: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      });
      if (values.help) return help();
      const workspace = requireName('workspace', values.workspace ?? 'default');
      const name = requireName('name', values.name ?? 'default');
      const store = await openCliStore(configFromEnv(), 'write');
      try {
        const test = values.test === true;
        const { secret, record, workspaceCreated } = await mintKey(store, workspace, name, { publishable: values.publishable === true, test });
        const liveId = liveWorkspaceIdOf(record);
        if (workspaceCreated) console.error(`Created workspace "${record.workspaceName}" (${liveId}).`);
        const kind = `${test ? 'test ' : ''}${values.publishable ? 'publishable key (events only)' : 'key'}`;
        const mode = test ? ` in test mode (${record.workspaceId})` : '';
        console.error(`Created ${kind} ${record.id} "${record.name}" for workspace "${record.workspaceName}" (${liveId})${mode}.`);
        console.log(secret);
        return 0;
      } finally {
        await store.close();
      }
    }
    case 'list': {
      const { values } = parseCommandArgs(rest, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
      if (values.help) return help();
      const store = await openCliStore(configFromEnv(), 'read');
      try {
        const all = await store.keys.listKeys();
        if (values.json) {
          console.log(JSON.stringify(all.map(keyJson), null, 2));
          return 0;
        }
        console.log(['ID', 'WORKSPACE', 'NAME', 'PREFIX', 'CREATED', 'LAST_USED', 'REVOKED'].join('\t'));
        for (const k of all) {
          const j = keyJson(k);
          console.log([j.id, j.mode === 'test' ? `${j.workspace} (test)` : j.workspace, j.name, `${j.prefix}…`, j.createdAt, j.lastUsedAt ?? '-', j.revokedAt ?? '-'].join('\t'));
        }
        return 0;
      } finally {
        await store.close();
      }
    }
    case 'revoke': {
      const { values, positionals } = parseCommandArgs(rest, { help: { type: 'boolean', short: 'h' } }, 1);
      if (values.help) return help();
      const target = positionals[0];
      if (!target) throw new UsageError('keys revoke needs a key id or secret: smashsend keys revoke KEY');
      const byHash = target.startsWith('sk_') || target.startsWith('pk_') ? hashKey(target) : null;
      const store = await openCliStore(configFromEnv(), 'read');
      try {
        const found = (await store.keys.listKeys()).find((k) => (byHash ? k.hash === byHash : k.id === target));
        if (!found) throw new Error(`no key matches ${byHash ? 'that secret' : target}`);
        const what = `${found.id} ("${found.name}", workspace "${found.workspaceName}")`;
        if (found.revokedAt !== null) {
          console.log(`Key ${what} was already revoked at ${iso(found.revokedAt)}; nothing changed.`);
          return 0;
        }
        await store.keys.revokeKey(found.id, Date.now());
        console.log(`Revoked ${what}.`);
        return 0;
      } finally {
        await store.close();
      }
    }
    default:
      throw new UsageError(`unknown keys command "${sub}"`);
  }
}

function help(): number {
  console.log(KEYS_HELP);
  return 0;
}
