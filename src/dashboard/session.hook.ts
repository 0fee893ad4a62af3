/**
 * Dashboard sessions: an HttpOnly, SameSite=Lax cookie holding a 256-bit token (only its
 * SHA-256 is stored), and CSRF protection for state-changing calls.
 *
 * CSRF, two checks, both before the body is read:
 * - the request must come from this site: an `Origin` header naming another host, or
 *   `Sec-Fetch-Site: cross-site`, is refused (this also covers sign-in, which has no session);
 * - with a session, a synchronizer token: `x-csrf-token` must equal csrfTokenOf(session
 *   token), which GET /dashboard/api/session hands to the page. Another site can neither read
 *   it nor set a custom header on a form POST. The API takes only `application/json` bodies
 *   besides (a form body is a 415).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Errors } from '../http/errors.js';
import { hashToken } from '../users/tokens.js';
import type { WorkspaceModes } from '../keys/workspace-modes.js';
import type { SessionRecord, UserRecord, UserStore } from '../users/user-store.port.js';

export const SESSION_COOKIE = 'smashsend_session';
export const SESSION_TTL_MS = 7 * 24 * 3600_000;

declare module 'fastify' {
  interface FastifyRequest {
    /** The dashboard session of this request (null before the session hook ran, or without one). */
    dashboard: { token: string; session: SessionRecord; user: UserRecord } | null;
  }
  interface FastifyContextConfig {
    /** A dashboard API route that answers without a session (sign-in, first-start setup). */
    dashboardPublic?: boolean;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function readCookie(req: FastifyRequest, name: string): string | null {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return null;
}

/** Behind a TLS-terminating proxy the request says so; the cookie is then `Secure`. */
function isHttps(req: FastifyRequest): boolean {
  return req.protocol === 'https' || req.headers['x-forwarded-proto'] === 'https';
}

export function setSessionCookie(req: FastifyRequest, reply: FastifyReply, token: string | null): void {
  const value = token === null ? `${SESSION_COOKIE}=; Max-Age=0` : `${SESSION_COOKIE}=${token}; Max-Age=${SESSION_TTL_MS / 1000}`;
  reply.header('set-cookie', `${value}; Path=/; HttpOnly; SameSite=Lax${isHttps(req) ? '; Secure' : ''}`);
}

export function csrfTokenOf(sessionToken: string): string {
  return createHash('sha256').update(`csrf\0${sessionToken}`).digest('base64url');
}

function sameSite(req: FastifyRequest): boolean {
  if (req.headers['sec-fetch-site'] === 'cross-site') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true; // not a browser's cross-origin request (curl, tests, same-origin GET)
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * onRequest hook of every dashboard API route: session (401) and CSRF (403), in that order for
 * private routes. With the session's "Test mode" switch on, the request's workspace is the
 * test sibling of the session's workspace, so every page shows test mode's data.
 */
export function sessionHook(users: UserStore, clock: () => number, modes: Pick<WorkspaceModes, 'testWorkspaceOf'>) {
  return async function dashboardSession(req: FastifyRequest): Promise<void> {
    const unsafe = !SAFE_METHODS.has(req.method);
    if (unsafe && !sameSite(req)) throw Errors.csrf();
    const token = readCookie(req, SESSION_COOKIE);
    const found = token ? await users.findSession(hashToken(token), clock()) : null;
    req.dashboard = found && token ? { token, ...found } : null;
    if (req.routeOptions.config?.dashboardPublic) return;
    if (!req.dashboard) throw Errors.unauthenticated();
    if (unsafe) {
      const given = req.headers['x-csrf-token'];
      if (typeof given !== 'string' || !equal(given, csrfTokenOf(req.dashboard.token))) throw Errors.csrf();
    }
    const live = req.dashboard.session.workspaceId;
    req.workspaceId = req.dashboard.session.testMode ? await modes.testWorkspaceOf(live) : live;
  };
}
