/** The segments API (SPEC.md Part 2, "Segments"): routes over the SegmentStore port. */
import type { FastifyPluginAsync } from 'fastify';
import { InvalidConditionError } from '../core/conditions/condition.js';
import { isPlainObject } from '../core/validate-properties.js';
import type { ContactStore } from '../contacts/contact-store.port.js';
import { presentContact } from '../contacts/present-contact.js';
import { ApiError, Errors } from '../http/errors.js';
import { encodeCursor, iso, pageFromRows, queryLimit, singleQuery } from '../http/paging.js';
import type { Guard } from '../http/route-deps.js';
import type { JobQueue } from '../processing/job-queue.port.js';
import { createSegment, MAX_SEGMENT_NAME, updateSegment } from './segment-definitions.js';
import type { SegmentReferrer } from './segment-links.js';
import { compileSegment } from './segment-rules.js';
import type { SegmentRecord, SegmentStore } from './segment-store.port.js';
import { CONTACT_SEGMENTS, CREATE_SEGMENT, DELETE_SEGMENT, GET_SEGMENT, LIST_SEGMENTS, SEGMENT_MEMBERS, SEGMENT_TRANSITIONS, UPDATE_SEGMENT } from './segments.docs.js';

export interface SegmentsRoutesOptions {
  segments: SegmentStore;
  contacts: Pick<ContactStore, 'get'>;
  jobs: Pick<JobQueue, 'enqueue'>;
  guard: Guard;
  clock: () => number;
  /** Asked before a delete (workflows); the module's own segment-to-segment references are checked too. */
  referrers?: SegmentReferrer[];
}

const MAX_NAME = MAX_SEGMENT_NAME;
const BODY_LIMIT = 256 * 1024;

export function presentSegment(s: SegmentRecord): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    rule: s.rule,
    status: s.status,
    memberCount: s.memberCount,
    build: { processed: s.buildDone, total: s.buildTotal },
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}

const notFound = (): ApiError => new ApiError(404, 'NOT_FOUND', 'Segment not found');

function decodeIdCursor(raw: string): string | null {
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    return Array.isArray(v) && v.length === 1 && typeof v[0] === 'string' && v[0].length <= 200 ? v[0] : null;
  } catch {
    return null;
  }
}

/** A transitions cursor: `[id]`, the id of the last transition of the previous page. */
function decodeSeqCursor(raw: string): number | null {
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    return Array.isArray(v) && v.length === 1 && Number.isSafeInteger(v[0]) && (v[0] as number) > 0 ? (v[0] as number) : null;
  } catch {
    return null;
  }
}

/** `limit` (default 50, at most 100) and the decoded `cursor` of a list route. */
function pageParams<C>(query: unknown, decode: (raw: string) => C | null): { limit: number; after?: C } {
  const q = singleQuery(query);
  const out: { limit: number; after?: C } = { limit: q.limit === undefined ? 50 : queryLimit(q.limit, 100) };
  if (q.cursor !== undefined && q.cursor !== '') {
    const after = decode(q.cursor);
    if (after === null) throw Errors.invalidCursor();
    out.after = after;
  }
  return out;
}

/**
 * What the public read routes answer, as functions over the ports: the dashboard's API
 * (src/dashboard/dashboard-api.routes.ts) calls the same ones for the session's workspace.
 */
export async function listSegmentsPage(segments: SegmentStore, workspaceId: string, query: unknown) {
  const { limit, after } = pageParams(query, decodeIdCursor);
  // Segments of a workspace are few (each costs work on every event); paged by id here.
  const all = (await segments.listSegments(workspaceId, { memberCounts: true })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rest = after === undefined ? all : all.filter((s) => s.id > after);
  const items = rest.slice(0, limit);
  const hasMore = rest.length > limit;
  return { segments: { items: items.map(presentSegment), cursor: hasMore ? encodeCursor([items[items.length - 1]!.id]) : null, hasMore } };
}

export async function getSegmentView(segments: SegmentStore, workspaceId: string, id: string) {
  const s = await segments.getSegment(workspaceId, id);
  if (!s) throw notFound();
  return { segment: presentSegment(s) };
}

export async function listSegmentMembersPage(segments: SegmentStore, contacts: Pick<ContactStore, 'get'>, workspaceId: string, id: string, query: unknown) {
  const { limit, after } = pageParams(query, decodeIdCursor);
  const s = await segments.getSegment(workspaceId, id);
  if (!s) throw notFound();
  const rows = await segments.listMembers(s.id, { limit: limit + 1, ...(after !== undefined ? { after } : {}) });
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const found = await Promise.all(pageRows.map((r) => contacts.get(workspaceId, r.contactId)));
  const items = found.flatMap((c) => (c ? [presentContact(c)] : []));
  return { contacts: { items, cursor: hasMore ? encodeCursor([pageRows[pageRows.length - 1]!.contactId]) : null, hasMore } };
}

export async function listSegmentTransitionsPage(segments: SegmentStore, workspaceId: string, id: string, query: unknown) {
  const { limit, after } = pageParams(query, decodeSeqCursor);
  const s = await segments.getSegment(workspaceId, id);
  if (!s) throw notFound();
  const rows = await segments.listTransitions(s.id, { limit: limit + 1, ...(after !== undefined ? { before: after } : {}) });
  const p = pageFromRows(rows, limit, (last) => [last.id]);
  return { transitions: { ...p, items: p.items.map((t) => ({ contact: { id: t.contactId, email: t.email }, on: t.on, at: iso(t.at) })) } };
}

export const segmentsRoutes: FastifyPluginAsync<SegmentsRoutesOptions> = async (app, o) => {
  const { segments, guard, clock } = o;
  const opts = (contract: typeof CREATE_SEGMENT) => ({ onRequest: guard('api'), bodyLimit: BODY_LIMIT, config: { contract } });

  const conditionError = (e: unknown): unknown => (e instanceof InvalidConditionError ? Errors.invalidCondition(e.message) : e);

  function checkedName(v: unknown): string {
    if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_NAME) throw Errors.invalidBody(`"name" must be a string of 1 to ${MAX_NAME} characters`);
    return v;
  }

  function checkFields(body: Record<string, unknown>): void {
    for (const k of Object.keys(body)) if (k !== 'name' && k !== 'rule') throw Errors.invalidBody(`Unknown field "${k.slice(0, 60)}": a segment has "name" and "rule"`);
  }

  app.post('/v1/segments', opts(CREATE_SEGMENT), async (req, reply) => {
    const body = req.body;
    if (!isPlainObject(body)) throw Errors.invalidBody();
    checkFields(body);
    const name = checkedName(body.name);
    const s = await createSegment({ segments, jobs: o.jobs }, req.workspaceId, { name, rule: body.rule }, clock()).catch((e) => {
      throw conditionError(e);
    });
    return reply.code(201).send({ segment: presentSegment(s) });
  });

  app.get('/v1/segments', opts(LIST_SEGMENTS), async (req) => listSegmentsPage(segments, req.workspaceId, req.query));

  app.get<{ Params: { id: string } }>('/v1/segments/:id', opts(GET_SEGMENT), async (req) => getSegmentView(segments, req.workspaceId, req.params.id));

  app.put<{ Params: { id: string } }>('/v1/segments/:id', opts(UPDATE_SEGMENT), async (req) => {
    const body = req.body;
    if (!isPlainObject(body)) throw Errors.invalidBody();
    checkFields(body);
    const existing = await segments.getSegment(req.workspaceId, req.params.id);
    if (!existing) throw notFound();
    const name = body.name === undefined ? undefined : checkedName(body.name);
    const s = await updateSegment({ segments, jobs: o.jobs }, req.workspaceId, existing.id, { ...(name !== undefined ? { name } : {}), ...(body.rule !== undefined ? { rule: body.rule } : {}) }, clock()).catch((e) => {
      throw conditionError(e);
    });
    if (!s) throw notFound();
    return { segment: presentSegment(s) };
  });

  app.delete<{ Params: { id: string } }>('/v1/segments/:id', opts(DELETE_SEGMENT), async (req) => {
    const s = await segments.getSegment(req.workspaceId, req.params.id);
    if (!s) throw notFound();
    const referrers: string[] = [];
    for (const other of await segments.listSegments(req.workspaceId)) {
      if (other.id === s.id) continue;
      try {
        if (compileSegment(other).refs.segments.has(s.id)) referrers.push(other.id);
      } catch {
        // an unparseable stored rule references nothing
      }
    }
    for (const r of o.referrers ?? []) referrers.push(...(await r.referencing(req.workspaceId, s.id)));
    if (referrers.length) throw Errors.segmentInUse(referrers);
    if (!(await segments.deleteSegment(req.workspaceId, s.id))) throw notFound();
    return { isDeleted: true, segment: presentSegment(s) };
  });

  app.get<{ Params: { id: string } }>('/v1/segments/:id/contacts', opts(SEGMENT_MEMBERS), async (req) => listSegmentMembersPage(segments, o.contacts, req.workspaceId, req.params.id, req.query));

  app.get<{ Params: { id: string } }>('/v1/segments/:id/transitions', opts(SEGMENT_TRANSITIONS), async (req) => listSegmentTransitionsPage(segments, req.workspaceId, req.params.id, req.query));

  app.get<{ Params: { id: string } }>('/v1/contacts/:id/segments', opts(CONTACT_SEGMENTS), async (req) => {
    const c = await o.contacts.get(req.workspaceId, req.params.id);
    if (!c) throw Errors.contactNotFound();
    const m = await segments.contactMembership(c.id);
    const defs = new Map((await segments.listSegments(req.workspaceId)).map((s) => [s.id, s]));
    return {
      segments: m.members.flatMap((x) => {
        const s = defs.get(x.segmentId);
        return s ? [{ id: s.id, name: s.name, enteredAt: iso(x.enteredAt) }] : [];
      }),
    };
  });
};
