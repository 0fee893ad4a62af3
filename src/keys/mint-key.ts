/** Mints an API key: 192 random bits, shown once; only its SHA-256 is stored. */
import { randomBytes } from 'node:crypto';
import { hashKey } from './key-cache.js';
import type { ApiKeyRecord, KeyStore } from './key-store.port.js';

/**
 * A publishable key (`pk_…`) may only send events (SPEC.md); its kind is its prefix. A test
 * key (`sk_test_…`, `pk_test_…`) belongs to the live workspace's test sibling, created here
 * on first need, so authentication resolves it to test mode with no lookup of its own.
 * `workspaceId` is always the live workspace.
 */
export async function mintKeyIn(
  keys: KeyStore,
  workspaceId: string,
  name: string,
  now: number,
  opts: { publishable?: boolean; test?: boolean } = {},
): Promise<{ secret: string; record: ApiKeyRecord }> {
  const owner = opts.test ? (await keys.ensureTestWorkspace(workspaceId, now)).id : workspaceId;
  const secret = `${opts.publishable ? 'pk' : 'sk'}_${opts.test ? 'test' : 'live'}_${randomBytes(24).toString('base64url')}`;
  const record = await keys.createKey({ workspaceId: owner, name, hash: hashKey(secret), prefix: secret.slice(0, 12), now });
  return { secret, record };
}
