/**
 * Segment-compatible ingestion, independent of HTTP: each call is mapped to our event
 * (core/segment/map-call.ts), its email resolved (SPEC.md "Identity"), validated with the
 * same validateEvent as our own endpoints, then either appended through IngestService (the
 * same dedup and durable append, one messageId space) or, with no email to be found, held in
 * the identity store until a link attaches it. Both are durable before the answer.
 */
import { normalizeEmail } from '../../core/email.js';
import { jsonByteLength } from '../../core/item-size.js';
import { mapSegmentCall, SEGMENT_LIMITS, type MappedCall, type SegmentCallType } from '../../core/segment/map-call.js';
import type { ItemCode, ValidEvent } from '../../core/types.js';
import { validateEvent } from '../../core/validate-event.js';
import type { IngestCounters, IngestService } from '../ingest.service.js';
import type { HeldEventInput, IdentityLink, IdentityStore } from './identity-store.port.js';

/** Validates an event that has no email yet: every other rule applies to it unchanged. */
const PLACEHOLDER_EMAIL = 'unidentified@segment.invalid';

export interface Rejected {
  index: number;
  code: ItemCode;
  message: string;
}

export interface SegmentCounters {
  /** Events held as unidentified. */
  held(n: number): void;
}

export interface SegmentRequest {
  workspaceId: string;
  calls: readonly unknown[];
  /** The path's call type for a single call; null for a batch (each item says). */
  type: SegmentCallType | null;
  /** A batch's `sentAt` and `context` (items without their own use them). */
  sentAt?: unknown;
  context?: unknown;
  now: number;
}

export interface SegmentResult {
  rejected: Rejected[];
  accepted: number;
  duplicate: number;
  held: number;
}

export class SegmentIngest {
  constructor(
    private readonly ingest: Pick<IngestService, 'appendValidated'> & Partial<Pick<IngestService, 'observeRejected' | 'plan' | 'verdict'>>,
    private readonly identity: Pick<IdentityStore, 'resolve' | 'record'>,
    private readonly counters: IngestCounters & SegmentCounters,
  ) {}

  async take(req: SegmentRequest): Promise<SegmentResult> {
    const { workspaceId, now } = req;
    const rejected: Rejected[] = [];
    const mapped: { index: number; call: MappedCall }[] = [];
    req.calls.forEach((raw, index) => {
      // A single call's size is bounded by the route's body limit; a batch item alone here.
      if (req.type === null && jsonByteLength(raw) > SEGMENT_LIMITS.maxEventBytes) {
        rejected.push({ index, code: 'PAYLOAD_TOO_LARGE', message: 'Event payload exceeds 32KB limit' });
        return;
      }
      const r = mapSegmentCall(raw, { receivedAt: now, type: req.type, sentAt: req.sentAt, context: req.context });
      if (r.ok) mapped.push({ index, call: r.value });
      else rejected.push({ index, ...r.error });
    });

    // Links this request makes itself (identify with an email): later calls of the same batch
    // resolve through them without a read.
    const local = new Map<string, string>();
    const links: IdentityLink[] = [];
    const link = (id: string, email: string | null, aliasOf: string | null, at: number) => {
      links.push({ id, email, aliasOf, at });
      if (email !== null) local.set(id, email);
    };
    for (const { call } of mapped) {
      if (call.type !== 'identify' || call.email === null) continue;
      const email = normalizeEmail(call.email);
      if (email === null) continue;
      if (call.userId !== null) link(call.userId, email, null, call.at);
      if (call.anonymousId !== null) link(call.anonymousId, email, null, call.at);
    }
    const unknown = new Set<string>();
    for (const { call } of mapped) {
      if (call.email !== null) continue;
      for (const id of [call.userId, call.anonymousId, call.previousId]) if (id !== null && !local.has(id)) unknown.add(id);
    }
    // The ids this request links are read too (the same query): analytics.js sends an identify
    // on every page load, and a link that is already there needs no write.
    for (const l of links) unknown.add(l.id);
    const stored = unknown.size > 0 ? await this.identity.resolve(workspaceId, [...unknown]) : new Map<string, string>();
    const known = (l: IdentityLink) => l.email !== null && stored.get(l.id) === l.email;
    const lookup = (id: string | null) => (id === null ? undefined : (local.get(id) ?? stored.get(id)));

    const valid: ValidEvent[] = [];
    const flagged: (string | null)[] = [];
    const held: HeldEventInput[] = [];
    // The workspace's tracking plan, the same check as our own endpoints (IngestService.verdict).
    const plan = this.ingest.plan ? await this.ingest.plan(workspaceId) : null;
    for (const { index, call } of mapped) {
      if (call.type === 'alias') {
        const previousId = call.previousId!;
        const userId = call.userId!;
        const target = lookup(userId) ?? normalizeEmail(userId);
        const previous = lookup(previousId);
        if (target) link(previousId, target, null, call.at);
        else if (previous) link(userId, previous, null, call.at);
        else link(previousId, null, userId, call.at);
        continue;
      }
      const body = call.body!;
      const email = call.email ?? lookup(call.userId) ?? lookup(call.anonymousId) ?? null;
      const r = validateEvent(
        { event: body.event, identify: { email: email ?? PLACEHOLDER_EMAIL, traits: body.traits }, properties: body.properties, timestamp: body.timestamp, messageId: body.messageId },
        now,
      );
      if (!r.ok) {
        rejected.push({ index, ...r.error[0]! });
        continue;
      }
      const verdict = plan !== null && this.ingest.verdict ? this.ingest.verdict(plan, r.value, 'segment') : null;
      if (verdict?.kind === 'block') {
        rejected.push({ index, ...verdict.error });
        continue;
      }
      if (email !== null) {
        valid.push(r.value);
        flagged.push(verdict?.kind === 'flag' ? verdict.violations : null);
        continue;
      }
      // Held (no email yet): its warn-mode flag is held with it and appended when it is attached.
      const v = r.value;
      held.push({
        messageId: v.messageId!,
        event: v.event,
        properties: v.properties === null ? null : JSON.stringify(v.properties),
        traits: v.traits === null ? null : JSON.stringify(v.traits),
        timestamp: v.timestamp,
        userId: call.userId,
        anonymousId: call.anonymousId,
        ...(verdict?.kind === 'flag' ? { violations: verdict.violations } : {}),
      });
    }

    const newLinks = links.filter((l) => !known(l));
    const [outcomes, recorded] = await Promise.all([
      this.ingest.appendValidated(workspaceId, valid, now, 'segment', flagged),
      newLinks.length > 0 || held.length > 0 ? this.identity.record({ workspaceId, links: newLinks, held, now }) : null,
    ]);
    let duplicate = 0;
    for (const o of outcomes) if (o === 'duplicate') duplicate++;
    let heldCount = 0;
    let heldDuplicates = 0;
    for (const o of recorded?.held ?? []) if (o === 'held') heldCount++;
    else heldDuplicates++;
    if (heldCount > 0) this.counters.held(heldCount);
    if (heldDuplicates > 0) this.counters.duplicate('segment', heldDuplicates, workspaceId);
    if (rejected.length > 0) {
      this.counters.rejected('segment', rejected.length);
      rejected.sort((a, b) => a.index - b.index);
      this.ingest.observeRejected?.(
        workspaceId,
        'segment',
        now,
        rejected.map((r) => ({ raw: req.calls[r.index], errors: [{ code: r.code, message: r.message }] })),
      );
    }
    return { rejected, accepted: outcomes.length - duplicate, duplicate: duplicate + heldDuplicates, held: heldCount };
  }
}
