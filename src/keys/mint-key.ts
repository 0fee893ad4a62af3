/** Mints an API key: 192 random bits, shown once; only its SHA-256 is stored. */
import { randomBytes } from 'node:crypto';
import { hashKey } from './key-cache.js';
import type { ApiKeyRecord, KeyStore } from './key-store.port.js';

/** A publishable key (`pk_live_…`) may only send events (SPEC.md); its kind is its prefix. */
export async function mintKeyIn(
  keys: KeyStore,
  workspaceId: string,
  name: string,
  now: number,
  opts: { publishable?: boolean } = {},
): Promise<{ secret: string; record: ApiKeyRecord }> {
  const secret = `${opts.publishable ? 'pk' : 'sk'}_live_${randomBytes(24).toString('base64url')}`;
  const record = await keys.createKey({ workspaceId, name, hash: hashKey(secret), prefix: secret.slice(0, 12), now });
  return { secret, record };
}
