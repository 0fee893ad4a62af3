/** The contacts API (the official SDK's shapes): routes over the ContactStore port. */
import type { FastifyPluginAsync } from 'fastify';
import { normalizeEmail } from '../core/email.js';
import { CONTACT_STATUSES, type ContactStatus, type JsonObject } from '../core/types.js';
import { checkPropertyBag, isPlainObject } from '../core/validate-properties.js';
import type { ContactMutation, ContactQuery, ContactStore } from './contact-store.port.js';
import { decodeContactCursor } from '../core/cursor.js';
import { Errors } from '../http/errors.js';
import type { Guard } from '../http/route-deps.js';
import { presentContact } from './present-contact.js';
import { page, queryLimit, singleQuery } from '../http/paging.js';
import { queryEmail } from '../http/query.js';
import type { RouteContract } from '../http/route-contract.js';
import {
  DELETE_CONTACT,
  DELETE_CONTACT_BY_EMAIL,
  GET_CONTACT,
  LIST_CONTACTS,
  LIST_PROPERTIES,
  SEARCH_CONTACT,
  UPDATE_CONTACT,
  UPSERT_CONTACT,
} from './contacts.docs.js';

const CONTACT_BODY_LIMIT = 256 * 1024;

/** Validates `{properties: {...}}` of POST/PUT; returns the properties with the email normalised. */
function contactProperties(body: unknown, emailRequired: boolean): JsonObject {
  if (!isPlainObject(body)) throw Errors.invalidBody();
  const props = body.properties;
  if (props === undefined || props === null) throw Errors.validation('INVALID_PROPERTIES', '"properties" is required');
  if (!isPlainObject(props)) throw Errors.validation('INVALID_PROPERTIES', '"properties" must be an object');
  const bagError = checkPropertyBag(props, 'Properties');
  if (bagError) throw Errors.validation(bagError.code, bagError.message);
  const out: JsonObject = { ...props };
  if (props.email !== undefined || emailRequired) {
    if (props.email === undefined || props.email === null || props.email === '') {
      throw Errors.validation('MISSING_EMAIL', '"properties.email" is required');
    }
    const email = typeof props.email === 'string' ? normalizeEmail(props.email) : null;
    if (email === null) throw Errors.validation('INVALID_EMAIL', '"properties.email" must be a valid email');
    out.email = email;
  }
  if (props.status !== undefined && props.status !== null && !(CONTACT_STATUSES as readonly unknown[]).includes(props.status)) {
    throw Errors.validation('INVALID_PROPERTIES', `"properties.status" must be one of ${CONTACT_STATUSES.join(', ')}`);
  }
  if (props.status === null) delete out.status;
  return out;
}

function mutationResult(m: ContactMutation) {
  if (m.kind === 'not_found') throw Errors.contactNotFound();
  if (m.kind === 'conflict') throw Errors.emailTaken();
  if (m.kind === 'invalid') throw Errors.validation('INVALID_PROPERTIES', m.message);
  if (m.kind === 'limit') throw Errors.contactLimit(m.code, m.message);
  return m;
}

export interface ContactsRoutesOptions {
  contacts: ContactStore;
  guard: Guard;
  clock: () => number;
  /**
   * After a write through this API (upsert, update: the property names sent; delete: null),
   * e.g. to re-evaluate segments; it should only enqueue durable work.
   */
  onContactWritten?: (workspaceId: string, contactId: string, propertyNames: string[] | null, now: number) => Promise<void>;
}

export const contactsRoutes: FastifyPluginAsync<ContactsRoutesOptions> = async (app, { contacts, guard, clock, onContactWritten }) => {
  const written = async (workspaceId: string, contactId: string, names: string[] | null): Promise<void> => {
    if (onContactWritten) await onContactWritten(workspaceId, contactId, names, clock());
  };
  const base = { onRequest: guard('api'), bodyLimit: CONTACT_BODY_LIMIT };
  const opts = (contract: RouteContract) => ({ ...base, config: { contract } });

  app.post('/v1/contacts', opts(UPSERT_CONTACT), async (req, reply) => {
    const props = contactProperties(req.body, true);
    const m = mutationResult(await contacts.upsert(req.workspaceId, props, clock()));
    if (m.kind !== 'ok') throw Errors.internal();
    await written(req.workspaceId, m.contact.id, m.created ? null : Object.keys(props));
    return reply.code(m.created ? 201 : 200).send({ contact: presentContact(m.contact) });
  });

  app.get<{ Querystring: { email?: string } }>('/v1/contacts/search', opts(SEARCH_CONTACT), async (req) => {
    const raw = singleQuery(req.query).email;
    if (raw === undefined || raw === '') throw Errors.invalidQuery('"email" is required');
    const c = await contacts.findByEmail(req.workspaceId, queryEmail(raw));
    return { contact: c ? presentContact(c) : null };
  });

  app.get('/v1/contacts/properties', opts(LIST_PROPERTIES), async (req) => {
    const q = singleQuery(req.query);
    if (q.type !== undefined && q.type !== 'CUSTOM') throw Errors.invalidQuery('"type" must be CUSTOM: only custom properties are listed');
    if (q.limit !== undefined) queryLimit(q.limit, 1000);
    return { properties: await contacts.listPropertyNames(req.workspaceId) };
  });

  app.get<{ Params: { id: string } }>('/v1/contacts/:id', opts(GET_CONTACT), async (req) => {
    const c = await contacts.get(req.workspaceId, req.params.id);
    if (!c) throw Errors.contactNotFound();
    return { contact: presentContact(c) };
  });

  app.put<{ Params: { id: string } }>('/v1/contacts/:id', opts(UPDATE_CONTACT), async (req) => {
    const props = contactProperties(req.body, false);
    const m = mutationResult(await contacts.update(req.workspaceId, req.params.id, props, clock()));
    if (m.kind !== 'ok') throw Errors.internal();
    await written(req.workspaceId, m.contact.id, Object.keys(props));
    return { contact: presentContact(m.contact) };
  });

  app.delete<{ Params: { id: string } }>('/v1/contacts/:id', opts(DELETE_CONTACT), async (req) => {
    const erased = await contacts.delete(req.workspaceId, { id: req.params.id });
    if (!erased?.contact) throw Errors.contactNotFound();
    await written(req.workspaceId, erased.contact.id, null);
    return { isDeleted: true, contact: presentContact(erased.contact) };
  });

  // An address with queued events but no contact yet is erased too: `contact: null`.
  app.delete<{ Params: { email: string } }>('/v1/contacts/by-email/:email', opts(DELETE_CONTACT_BY_EMAIL), async (req) => {
    const email = normalizeEmail(req.params.email);
    const erased = email === null ? null : await contacts.delete(req.workspaceId, { email });
    if (!erased) throw Errors.contactNotFound();
    if (erased.contact) await written(req.workspaceId, erased.contact.id, null);
    return { isDeleted: true, contact: erased.contact ? presentContact(erased.contact) : null };
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/v1/contacts', opts(LIST_CONTACTS), async (req) =>
    listContacts(contacts, req.workspaceId, req.query),
  );
};

/** GET /v1/contacts (and the dashboard's contact list): one page of the workspace's contacts. */
export async function listContacts(contacts: ContactStore, workspaceId: string, rawQuery: unknown) {
  const q = singleQuery(rawQuery);
  const query: ContactQuery = { workspaceId, limit: 50, sort: 'createdAt.desc' };
  if (q.limit !== undefined) query.limit = queryLimit(q.limit, 100);
  if (q.sort !== undefined) {
    if (q.sort !== 'createdAt.desc' && q.sort !== 'createdAt.asc') throw Errors.invalidQuery('"sort" must be createdAt.desc or createdAt.asc');
    query.sort = q.sort;
  }
  if (q.search !== undefined && q.search !== '') query.search = q.search.slice(0, 254);
  if (q.status !== undefined && q.status !== '') {
    if (!(CONTACT_STATUSES as readonly string[]).includes(q.status)) throw Errors.invalidQuery(`"status" must be one of ${CONTACT_STATUSES.join(', ')}`);
    query.status = q.status as ContactStatus;
  }
  if (q.cursor !== undefined && q.cursor !== '') {
    const after = decodeContactCursor(q.cursor);
    if (!after) throw Errors.invalidCursor();
    query.after = after;
  }
  const p = page(await contacts.list(query), (next) => [next.createdAt, next.id]);
  return { contacts: { ...p, items: p.items.map(presentContact) } };
}
