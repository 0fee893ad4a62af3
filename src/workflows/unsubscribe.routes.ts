/**
 * The List-Unsubscribe target (SPEC.md, "Email step"; RFC 8058). Unauthenticated: the token
 * (unsubscribe-token.ts, keyed per workspace) is the authority.
 *
 * - `POST /unsubscribe/:token`: one-click. Unsubscribes at once and answers 200 with a tiny
 *   body (JSON; a small HTML note when a browser submits the confirm page's form). Any body
 *   is accepted (mail providers send `List-Unsubscribe=One-Click` form-encoded or multipart).
 * - `GET /unsubscribe/:token`: a confirm page whose form POSTs the same URL. A GET never
 *   unsubscribes: link scanners and prefetchers fetch every URL in a mail.
 * - A malformed or forged token: 404 (JSON for POST, an HTML page for GET).
 *
 * Already unsubscribed: nothing is written. BANNED contacts stay BANNED (they get no mail
 * either). A contact erased since: 200 all the same (they will get no mail).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ContactStore } from '../contacts/contact-store.port.js';
import { Errors } from '../http/errors.js';
import type { RouteContract } from '../http/route-contract.js';
import { unsubscribeTokenWorkspace, verifyUnsubscribeToken, type UnsubscribeClaim } from './unsubscribe-token.js';
import type { WorkspaceSecretStore } from './workspace-secrets.port.js';

export interface UnsubscribeRoutesOptions {
  contacts: ContactStore;
  secrets: WorkspaceSecretStore;
  clock: () => number;
}

const ONE_CLICK: RouteContract = {
  summary: 'One-click unsubscribe (RFC 8058)',
  description: 'The List-Unsubscribe-Post target: sets the contact\'s status to UNSUBSCRIBED at once. No API key: the token authorises it.',
  tags: ['Unsubscribe'],
  auth: false,
  responses: {
    200: { description: 'Unsubscribed (or already)', schema: { type: 'object', properties: { unsubscribed: { type: 'boolean', const: true } } } },
  },
  errors: ['NOT_FOUND'],
};

const CONFIRM_PAGE: RouteContract = {
  summary: 'Unsubscribe confirm page',
  description: 'An HTML page with a button that POSTs the same URL. Opening it changes nothing.',
  tags: ['Unsubscribe'],
  auth: false,
  responses: { 200: { description: 'HTML page', schema: { type: 'string' } } },
  errors: ['NOT_FOUND'],
};

/** The token, the mail and this page stay out of caches, frames and Referer headers. */
const PAGE_HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
};

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}button{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>
`;
}

function sendPage(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(page(title, body));
}

function wantsHtml(req: FastifyRequest): boolean {
  return /\btext\/html\b/.test(String(req.headers.accept ?? ''));
}

export const unsubscribeRoutes: FastifyPluginAsync<UnsubscribeRoutesOptions> = async (app, { contacts, secrets, clock }) => {
  // Only this plugin's routes: any content type, read as bytes and ignored.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, _body, done) => done(null, undefined));

  async function verify(token: string): Promise<UnsubscribeClaim | null> {
    const ws = unsubscribeTokenWorkspace(token);
    if (!ws) return null;
    const key = await secrets.findUnsubscribeKey(ws);
    return key ? verifyUnsubscribeToken(key, token) : null;
  }

  app.get<{ Params: { token: string } }>(
    '/unsubscribe/:token',
    { config: { contract: CONFIRM_PAGE } },
    async (req, reply) => {
      const claim = await verify(req.params.token);
      if (!claim) return sendPage(reply, 404, 'Link not valid', '<p>This unsubscribe link is not valid. Use the link from a more recent email.</p>');
      // A relative action (resolves to this very URL): works behind a proxy's path prefix too.
      return sendPage(
        reply,
        200,
        'Unsubscribe',
        `<p>Stop receiving these emails?</p>
<form method="post" action="${escapeHtml(encodeURIComponent(req.params.token))}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
      );
    },
  );

  app.post<{ Params: { token: string } }>('/unsubscribe/:token', { bodyLimit: 4096, config: { contract: ONE_CLICK } }, async (req, reply) => {
    const claim = await verify(req.params.token);
    if (!claim) throw Errors.unsubscribeLinkNotFound();
    const contact = await contacts.get(claim.workspaceId, claim.contactId);
    const status = contact?.properties.status;
    if (contact && status !== 'UNSUBSCRIBED' && status !== 'BANNED') {
      const m = await contacts.update(claim.workspaceId, claim.contactId, { status: 'UNSUBSCRIBED' }, clock());
      if (m.kind !== 'ok' && m.kind !== 'not_found') throw Errors.internal();
      req.log.info({ workspaceId: claim.workspaceId, contactId: claim.contactId, runId: claim.runId }, 'contact unsubscribed by link');
    }
    if (wantsHtml(req)) return sendPage(reply, 200, 'Unsubscribed', '<p>You will not receive these emails any more.</p>');
    return reply.headers({ 'cache-control': 'no-store' }).send({ unsubscribed: true });
  });
};
