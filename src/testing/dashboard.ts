/** Dashboard helpers for tests: a user made through the port, a signed-in session over HTTP. */
import { randomBytes } from 'node:crypto';
import { hashPassword } from '../users/password.js';
import type { Store } from '../storage/ports.js';
import { call } from './http.js';

export const PASSWORD = 'correct horse battery';

/** A user with a random email in these workspaces (created if missing). */
export async function createUser(store: Store, workspaces: string[]): Promise<{ email: string; id: string }> {
  const email = `u${randomBytes(6).toString('hex')}@example.com`;
  const ids = [];
  for (const w of workspaces) ids.push((await store.keys.ensureWorkspace(w, Date.now())).id);
  const { user } = await store.users.createUser({ email, passwordHash: await hashPassword(PASSWORD), workspaceIds: ids, now: Date.now() });
  return { email, id: user.id };
}

export interface Session {
  cookie: string;
  csrf: string;
  body: any;
}

export async function signIn(url: string, email: string, password = PASSWORD): Promise<Session> {
  const r = await call(`${url}/dashboard/api/sign-in`, { body: { email, password } });
  if (r.status !== 200) throw new Error(`sign-in answered ${r.status}: ${r.text}`);
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]!;
  return { cookie, csrf: r.body.csrfToken, body: r.body };
}

/** A dashboard API call with the session's cookie (and its CSRF token on anything but GET). */
export function dash(url: string, s: Session, path: string, opts: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const method = opts.method ?? (opts.body !== undefined ? 'POST' : 'GET');
  const headers: Record<string, string> = { cookie: s.cookie, ...(method === 'GET' ? {} : { 'x-csrf-token': s.csrf }), ...opts.headers };
  return call(`${url}/dashboard/api${path}`, { method, body: opts.body, headers });
}
