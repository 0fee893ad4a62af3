/**
 * The event log port: the hot path's only storage dependency (validate → dedup → durable
 * append → respond). Ingest knows nothing else of the store.
 */

/** One validated event ready to be stored (JSON columns already serialised). */
export interface AppendItem {
  workspaceId: string;
  messageId: string;
  event: string;
  email: string;
  /** Compact JSON text, or null. */
  properties: string | null;
  traits: string | null;
  /** Event time, Unix ms. */
  timestamp: number;
  /** `segment`: taken by the Segment-compatible paths; absent: our own API (storage/shared/source.ts). */
  source?: 'segment';
  /** What a warn-mode tracking plan found wrong with it (JSON `[{rule, path, message}]`); absent or null for none. */
  violations?: string | null;
}

export type AppendOutcome = 'accepted' | 'duplicate';

export interface EventLog {
  /**
   * The hot path: dedup and durably append. Resolves only once every accepted item is
   * committed to disk. Outcomes are in input order; a messageId repeated inside `items`
   * is accepted once, then a duplicate.
   */
  append(items: AppendItem[], now: number, dedupWindowMs: number): Promise<AppendOutcome[]>;
  /**
   * When the messageId's current dedup entry was accepted (Unix ms), or null if it has none.
   * Read only to explain a duplicate answer: one keyed lookup in the ledger, which also
   * knows messageIds whose events were erased with their contact.
   */
  firstAcceptedAt(workspaceId: string, messageId: string): Promise<number | null>;
  /** Drops dedup entries accepted at or before `cutoff` (Unix ms): past the window, they reserve nothing. Returns how many. */
  purgeDedup(cutoff: number): Promise<number>;
}
