/** The segments API (SPEC.md Part 2, "Segments"): routes over the SegmentStore port. */
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { conditionToJson, InvalidConditionError, parseCondition } from '../core/conditions/condition.js';
import { references } from '../core/conditions/references.js';
import { isPlainObject } from '../core/validate-properties.js';
import type { ContactStore } from '../contacts/contact-store.port.js';
import { presentContact } from '../contacts/present-contact.js';
import { ApiError, Errors } from '../http/errors.js';
import { encodeCursor, iso, queryLimit, singleQuery } from '../http/paging.js';
import type { Guard } from '../http/route-deps.js';
import type { JobQueue } from '../processing/job-queue.port.js';
import { backfillJob } from './segment-jobs.js';
import type { SegmentReferrer } from './segment-links.js';
import { compileSegment, makesCycle } from './segment-rules.js';
import type { SegmentRecord, SegmentStore } from './segment-store.port.js';
import { CONTACT_SEGMENTS, CREATE_SEGMENT, DELETE_SEGMENT, GET_SEGMENT, LIST_SEGMENTS, SEGMENT_MEMBERS, UPDATE_SEGMENT } from './segments.docs.js';

export interface SegmentsRoutesOptions {
  segments: SegmentStore;
  contacts: Pick<ContactStore, 'get'>;
  jobs: Pick<JobQueue, 'enqueue'>;
  guard: Guard;
  clock: () => number;
  /** Asked before a delete (workflows); the module's own segment-to-segment references are checked too. */
  referrers?: SegmentReferrer[];
}

const MAX_NAME = 200;
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

function pageParams(query: unknown): { limit: number; after?: string } {
  const q = singleQuery(query);
  const out: { limit: number; after?: string } = { limit: q.limit === undefined ? 50 : queryLimit(q.limit, 100) };
  if (q.cursor !== undefined && q.cursor !== '') {
    const after = decodeIdCursor(q.cursor);
    if (after === null) throw Errors.invalidCursor();
    out.after = after;
  }
  return out;
}

export const segmentsRoutes: FastifyPluginAsync<SegmentsRoutesOptions> = async (app, o) => {
  const { segments, guard, clock } = o;
  const opts = (contract: typeof CREATE_SEGMENT) => ({ onRequest: guard('api'), bodyLimit: BODY_LIMIT, config: { contract } });

  /** The rule, parsed and checked against the workspace's other segments (unknown ids, cycles). */
  async function checkedRule(workspaceId: string, id: string, raw: unknown): Promise<unknown> {
    let rule;
    try {
      rule = parseCondition(raw, { scope: 'segment', basePath: 'rule' });
    } catch (e) {
      if (e instanceof InvalidConditionError) throw Errors.invalidCondition(e.message);
      throw e;
    }
    const refs = references(rule);
    if (refs.segments.size) {
      const others = (await segments.listSegments(workspaceId)).filter((s) => s.id !== id);
      const known = new Set(others.map((s) => s.id));
      for (const ref of refs.segments) {
        if (ref === id) throw Errors.invalidCondition(`rule: inSegment "${ref}" is this segment: a segment cannot contain itself`);
        if (!known.has(ref)) throw Errors.invalidCondition(`rule: inSegment "${ref}" is not a segment of this workspace`);
      }
      const compiled = others.flatMap((s) => {
        try {
          return [compileSegment(s)];
        } catch {
          return [];
        }
      });
      if (makesCycle(id, refs, compiled)) throw Errors.invalidCondition('rule: inSegment references make a cycle back to this segment');
    }
    return conditionToJson(rule);
  }

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
    if (body.rule === undefined) throw Errors.invalidCondition('rule: is required');
    const id = `seg_${randomBytes(12).toString('base64url')}`;
    const rule = await checkedRule(req.workspaceId, id, body.rule);
    const now = clock();
    const total = await segments.countContacts(req.workspaceId);
    await segments.createSegment({ id, workspaceId: req.workspaceId, name, rule, version: 1, status: total === 0 ? 'ready' : 'building', buildDone: 0, buildTotal: total, createdAt: now, updatedAt: now });
    if (total > 0) await o.jobs.enqueue([backfillJob(req.workspaceId, id, 1, null, now)], now);
    const s = await segments.getSegment(req.workspaceId, id);
    return reply.code(201).send({ segment: presentSegment(s!) });
  });

  app.get('/v1/segments', opts(LIST_SEGMENTS), async (req) => {
    const { limit, after } = pageParams(req.query);
    // Segments of a workspace are few (each costs work on every event); paged by id here.
    const all = (await segments.listSegments(req.workspaceId)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const rest = after === undefined ? all : all.filter((s) => s.id > after);
    const items = rest.slice(0, limit);
    const hasMore = rest.length > limit;
    return { segments: { items: items.map(presentSegment), cursor: hasMore ? encodeCursor([items[items.length - 1]!.id]) : null, hasMore } };
  });

  app.get<{ Params: { id: string } }>('/v1/segments/:id', opts(GET_SEGMENT), async (req) => {
    const s = await segments.getSegment(req.workspaceId, req.params.id);
    if (!s) throw notFound();
    return { segment: presentSegment(s) };
  });

  app.put<{ Params: { id: string } }>('/v1/segments/:id', opts(UPDATE_SEGMENT), async (req) => {
    const body = req.body;
    if (!isPlainObject(body)) throw Errors.invalidBody();
    checkFields(body);
    const existing = await segments.getSegment(req.workspaceId, req.params.id);
    if (!existing) throw notFound();
    const name = body.name === undefined ? undefined : checkedName(body.name);
    const rule = body.rule === undefined ? undefined : await checkedRule(req.workspaceId, existing.id, body.rule);
    const now = clock();
    const total = rule === undefined ? undefined : await segments.countContacts(req.workspaceId);
    const s = await segments.updateSegment(req.workspaceId, existing.id, { ...(name !== undefined ? { name } : {}), ...(rule !== undefined ? { rule, buildTotal: total } : {}), now });
    if (!s) throw notFound();
    if (rule !== undefined) await o.jobs.enqueue([backfillJob(req.workspaceId, s.id, s.version, null, now)], now);
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

  app.get<{ Params: { id: string } }>('/v1/segments/:id/contacts', opts(SEGMENT_MEMBERS), async (req) => {
    const { limit, after } = pageParams(req.query);
    const s = await segments.getSegment(req.workspaceId, req.params.id);
    if (!s) throw notFound();
    const rows = await segments.listMembers(s.id, { limit: limit + 1, ...(after !== undefined ? { after } : {}) });
    const hasMore = rows.length > limit;
    const pageRows = hasMore ? rows.slice(0, limit) : rows;
    const contacts = await Promise.all(pageRows.map((r) => o.contacts.get(req.workspaceId, r.contactId)));
    const items = contacts.flatMap((c) => (c ? [presentContact(c)] : []));
    return { contacts: { items, cursor: hasMore ? encodeCursor([pageRows[pageRows.length - 1]!.contactId]) : null, hasMore } };
  });

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
