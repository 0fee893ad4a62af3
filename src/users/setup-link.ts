/**
 * The one-time sign-in link `serve` prints while the store has no dashboard user: opening it
 * lets the first user choose an email and password (POST /dashboard/api/setup). The token
 * rides in the URL fragment, so it never reaches access logs or a Referer header.
 */
import type { UserStore } from './user-store.port.js';
import { hashToken, newToken } from './tokens.js';

export const SETUP_LINK_TTL_MS = 24 * 3600_000;

export async function mintSetupLink(users: UserStore, baseUrl: string, now: number): Promise<string | null> {
  if ((await users.countUsers()) > 0) return null;
  const token = newToken();
  await users.createSetupToken(hashToken(token), now, now + SETUP_LINK_TTL_MS);
  return `${baseUrl}/setup#token=${token}`;
}
