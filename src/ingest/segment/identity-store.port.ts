/**
 * The identity port of Segment-compatible ingestion (SPEC.md "Identity"): a durable link
 * table from a Segment `userId` / `anonymousId` to an email (fed by identify and alias), and
 * the events that arrived with no resolvable email, held until a link attaches them.
 *
 * Ids are one namespace (an anonymousId and a userId that are the same string are one id:
 * anonymousIds are random UUIDs, so they do not meet userIds in practice). A link points at
 * an email, or (an alias whose target has no email yet) at another id; resolution follows at
 * most MAX_ALIAS_HOPS such steps.
 *
 * Attaching is exactly-once and survives kill -9: `record` commits, in the same transaction
 * as the links and held events, one job of ATTACH_HELD_KIND for every id that has held events
 * and now resolves (or may, through an alias). The job appends the held events to the event
 * log (the messageId dedup makes a repeated attempt a no-op) and then releases them.
 */

/** The job kind `record` enqueues; payload `{workspaceId, id}`. */
export const ATTACH_HELD_KIND = 'segment.attach_held';

/** Alias steps followed when resolving an id (a chain longer than this, or a cycle, resolves to nothing). */
export const MAX_ALIAS_HOPS = 4;

export interface IdentityLink {
  id: string;
  /** The email (normalised), or null when the link is an alias to `aliasOf`. */
  email: string | null;
  aliasOf: string | null;
  /** Event time of the call that made it (Unix ms): an older call never replaces a newer link. */
  at: number;
}

/** A validated event waiting for its email (JSON columns already serialised). */
export interface HeldEventInput {
  messageId: string;
  event: string;
  properties: string | null;
  traits: string | null;
  /** Event time, Unix ms. */
  timestamp: number;
  userId: string | null;
  anonymousId: string | null;
  /** A warn-mode tracking plan's flags (AppendItem.violations), appended with the event when it is attached. */
  violations?: string | null;
}

export interface HeldEvent extends HeldEventInput {
  /** Order of arrival; what `release` takes. */
  seq: number;
  workspaceId: string;
  receivedAt: number;
}

export type HoldOutcome = 'held' | 'duplicate';

export interface IdentityStore {
  /** The email each id resolves to (ids without one are absent from the map). */
  resolve(workspaceId: string, ids: string[]): Promise<Map<string, string>>;
  /**
   * One transaction, durable when it resolves: upserts the links (a link whose `at` is older
   * than the stored one changes nothing), holds the events (a messageId already held in the
   * workspace is a duplicate), and enqueues the attach jobs described above. Outcomes of the
   * held events are in input order.
   */
  record(input: { workspaceId: string; links: IdentityLink[]; held: HeldEventInput[]; now: number }): Promise<{ held: HoldOutcome[]; attachJobs: number }>;
  /** Held events under any of these ids (userId or anonymousId), oldest event time first, at most `limit`. */
  heldFor(workspaceId: string, ids: string[], limit: number): Promise<HeldEvent[]>;
  /** Ids whose alias links lead to `id` (directly or through other aliases, bounded by MAX_ALIAS_HOPS). */
  aliasesOf(workspaceId: string, id: string): Promise<string[]>;
  /** Deletes held events (attached, or past retention); returns how many were still there. */
  release(seqs: number[]): Promise<number>;
  /** Held events in every workspace (the `/metrics` gauge). */
  countHeld(): Promise<number>;
  /** Deletes held events received at or before `cutoff` (UNIDENTIFIED_RETENTION_DAYS); returns how many. */
  purgeHeld(cutoff: number): Promise<number>;
}
