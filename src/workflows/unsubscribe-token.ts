/**
 * Unsubscribe tokens for List-Unsubscribe links: `<payload>.<mac>`, both base64url, where
 * payload is `1|workspaceId|contactId|runId` and mac the first 16 bytes (128 bits) of
 * HMAC-SHA256 over the payload text, keyed with the workspace's unsubscribe key
 * (WorkspaceSecretStore.unsubscribeKey). No expiry: RFC 8058 links must keep working for as
 * long as the mail sits in an inbox. Typically ~90 characters.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface UnsubscribeClaim {
  workspaceId: string;
  contactId: string;
  runId?: string;
}

const VERSION = '1';
const MAC_BYTES = 16;
/** Tokens longer than this are refused before any decoding (ids are well under 100 characters each). */
export const MAX_TOKEN_LENGTH = 512;
const ID = /^[A-Za-z0-9_-]{1,128}$/;

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(payload, 'utf8').digest().subarray(0, MAC_BYTES);
}

/** URL-safe, HMAC-SHA256, compact. Throws on an id outside [A-Za-z0-9_-]. */
export function signUnsubscribeToken(key: Buffer, claim: UnsubscribeClaim): string {
  for (const id of [claim.workspaceId, claim.contactId, ...(claim.runId !== undefined ? [claim.runId] : [])]) {
    if (!ID.test(id)) throw new Error(`cannot put ${JSON.stringify(id)} in an unsubscribe token`);
  }
  const payload = [VERSION, claim.workspaceId, claim.contactId, claim.runId ?? ''].join('|');
  return `${Buffer.from(payload, 'utf8').toString('base64url')}.${mac(key, payload).toString('base64url')}`;
}

function decode(token: string): { payload: string; parts: string[]; mac: Buffer } | null {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
  const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(token);
  if (!m) return null;
  const payload = Buffer.from(m[1]!, 'base64url').toString('utf8');
  const parts = payload.split('|');
  if (parts.length !== 4 || parts[0] !== VERSION || !ID.test(parts[1]!) || !ID.test(parts[2]!) || (parts[3] !== '' && !ID.test(parts[3]!))) return null;
  return { payload, parts, mac: Buffer.from(m[2]!, 'base64url') };
}

/** The workspace a token claims, unverified: which key to verify it with. Null for a malformed token. */
export function unsubscribeTokenWorkspace(token: string): string | null {
  return decode(token)?.parts[1] ?? null;
}

/** The claim when the token is well-formed and its MAC matches (constant-time compare, bounded length); null otherwise. */
export function verifyUnsubscribeToken(key: Buffer, token: string): UnsubscribeClaim | null {
  const d = decode(token);
  if (!d || d.mac.length !== MAC_BYTES) return null;
  // Re-encoding must give the token back: no second spelling of one token (padding bits, say).
  if (`${Buffer.from(d.payload, 'utf8').toString('base64url')}.${d.mac.toString('base64url')}` !== token) return null;
  if (!timingSafeEqual(d.mac, mac(key, d.payload))) return null;
  const [, workspaceId, contactId, runId] = d.parts as [string, string, string, string];
  return { workspaceId, contactId, ...(runId ? { runId } : {}) };
}
