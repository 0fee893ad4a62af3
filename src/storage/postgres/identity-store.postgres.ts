import {
  ATTACH_HELD_KIND,
  type HeldEvent,
  type HeldEventInput,
  type HoldOutcome,
  type IdentityLink,
  type IdentityStore,
} from '../../ingest/segment/identity-store.port.js';
import { HELD_COLUMNS, resolveIdsAsync, toHeldEvent, walkAliasesAsync, type HeldRow, type LinkRow } from '../shared/identity-rows.js';
import { JOB_STATUS } from '../shared/job-rows.js';
import type { PgDatabase, Queryable } from './database.postgres.js';

/** Attempts of an attach job before it is dead (its work is a few statements; failures are outages). */
const ATTACH_MAX_ATTEMPTS = 20;

const links = async (q: Queryable, workspaceId: string, ids: string[]) =>
  (await q.query<LinkRow>('SELECT id, email, alias_of, linked_at FROM identity_links WHERE workspace_id = $1 AND id = ANY($2::text[])', [workspaceId, ids])).rows;

const aliasSources = async (q: Queryable, workspaceId: string, targets: string[]) =>
  (await q.query<{ id: string }>('SELECT id FROM identity_links WHERE workspace_id = $1 AND alias_of = ANY($2::text[])', [workspaceId, targets])).rows.map(
    (r) => r.id,
  );

/**
 * The identity tables on PostgreSQL. `record` takes a transaction-scoped advisory lock per
 * (workspace, id) it touches, in a fixed order: a link and a held event of two concurrent
 * requests (two processes, say) then commit one after the other, and the second sees the
 * first, so the attach job is never missed (READ COMMITTED alone would let both miss).
 */
export class PostgresIdentityStore implements IdentityStore {
  constructor(private readonly db: PgDatabase) {}

  async resolve(workspaceId: string, ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    return resolveIdsAsync(ids, (c) => links(this.db, workspaceId, c));
  }

  async record(input: { workspaceId: string; links: IdentityLink[]; held: HeldEventInput[]; now: number }): Promise<{ held: HoldOutcome[]; attachJobs: number }> {
    const { workspaceId, now } = input;
    const touched = new Set<string>();
    for (const l of input.links) touched.add(l.id);
    for (const h of input.held) {
      if (h.userId !== null) touched.add(h.userId);
      if (h.anonymousId !== null) touched.add(h.anonymousId);
    }
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended($1 || chr(1) || id, 0) AS k FROM unnest($2::text[]) AS id ORDER BY 1) s', [
        workspaceId,
        [...touched],
      ]);
      const candidates = new Set<string>();
      if (input.links.length > 0) {
        // An older call never replaces a newer link; an unchanged link writes nothing.
        const { rows } = await tx.query<{ id: string }>(
          `INSERT INTO identity_links (workspace_id, id, email, alias_of, linked_at)
           SELECT DISTINCT ON (id) $1, id, email, alias_of, at FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) WITH ORDINALITY AS t(id, email, alias_of, at, ord)
           ORDER BY id, at DESC, ord DESC
           ON CONFLICT (workspace_id, id) DO UPDATE SET email = excluded.email, alias_of = excluded.alias_of, linked_at = excluded.linked_at
           WHERE identity_links.linked_at <= excluded.linked_at
             AND (identity_links.email IS DISTINCT FROM excluded.email OR identity_links.alias_of IS DISTINCT FROM excluded.alias_of)
           RETURNING id`,
          [workspaceId, input.links.map((l) => l.id), input.links.map((l) => l.email), input.links.map((l) => l.aliasOf), input.links.map((l) => l.at)],
        );
        for (const r of rows) candidates.add(r.id);
      }
      const held: HoldOutcome[] = [];
      if (input.held.length > 0) {
        const h = input.held;
        const { rows } = await tx.query<{ ord: string; inserted: boolean }>(
          `WITH input AS (
             SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $10::text[]) WITH ORDINALITY
               AS t(message_id, event, properties, traits, ts, user_id, anonymous_id, violations, ord)
           ), ins AS (
             INSERT INTO held_events (workspace_id, message_id, event, properties, traits, ts, received_at, user_id, anonymous_id, violations)
             SELECT $1, message_id, event, properties, traits, ts, $9, user_id, anonymous_id, violations FROM input ORDER BY ord
             ON CONFLICT (workspace_id, message_id) DO NOTHING
             RETURNING message_id
           )
           SELECT input.ord, ins.message_id IS NOT NULL AS inserted FROM input LEFT JOIN ins USING (message_id) ORDER BY input.ord`,
          [
            workspaceId,
            h.map((e) => e.messageId),
            h.map((e) => e.event),
            h.map((e) => e.properties),
            h.map((e) => e.traits),
            h.map((e) => e.timestamp),
            h.map((e) => e.userId),
            h.map((e) => e.anonymousId),
            now,
            h.map((e) => e.violations ?? null),
          ],
        );
        // A messageId repeated within the call: the first is held, the rest are duplicates.
        const seen = new Set<string>();
        rows.forEach((r, i) => {
          const e = h[i]!;
          const first = r.inserted && !seen.has(e.messageId);
          seen.add(e.messageId);
          held.push(first ? 'held' : 'duplicate');
          if (first) {
            if (e.userId !== null) candidates.add(e.userId);
            if (e.anonymousId !== null) candidates.add(e.anonymousId);
          }
        });
      }
      let attachJobs = 0;
      if (candidates.size > 0) {
        const resolved = await resolveIdsAsync([...candidates], (c) => links(tx, workspaceId, c));
        const jobs: string[] = [];
        for (const id of candidates) {
          if (!resolved.has(id)) continue;
          const sources = [id, ...(await walkAliasesAsync(id, (t) => aliasSources(tx, workspaceId, t)))];
          const { rows } = await tx.query<{ any: boolean }>(
            `SELECT EXISTS (SELECT 1 FROM held_events WHERE workspace_id = $1 AND user_id = ANY($2::text[]))
                 OR EXISTS (SELECT 1 FROM held_events WHERE workspace_id = $1 AND anonymous_id = ANY($2::text[])) AS any`,
            [workspaceId, sources],
          );
          if (rows[0]?.any) jobs.push(JSON.stringify({ workspaceId, id }));
        }
        if (jobs.length > 0) {
          await tx.query(
            `INSERT INTO jobs (kind, key, payload, status, run_at, max_attempts, created_at)
             SELECT '${ATTACH_HELD_KIND}', NULL, payload, ${JOB_STATUS.queued}, $2, ${ATTACH_MAX_ATTEMPTS}, $2 FROM unnest($1::text[]) AS payload`,
            [jobs, now],
          );
          attachJobs = jobs.length;
        }
      }
      return { held, attachJobs };
    });
  }

  async heldFor(workspaceId: string, ids: string[], limit: number): Promise<HeldEvent[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.db.query<HeldRow>(
      `SELECT ${HELD_COLUMNS} FROM held_events WHERE workspace_id = $1 AND user_id = ANY($2::text[])
       UNION
       SELECT ${HELD_COLUMNS} FROM held_events WHERE workspace_id = $1 AND anonymous_id = ANY($2::text[])
       ORDER BY ts, seq LIMIT $3`,
      [workspaceId, ids, limit],
    );
    return rows.map(toHeldEvent);
  }

  async aliasesOf(workspaceId: string, id: string): Promise<string[]> {
    return walkAliasesAsync(id, (t) => aliasSources(this.db, workspaceId, t));
  }

  async release(seqs: number[]): Promise<number> {
    if (seqs.length === 0) return 0;
    return (await this.db.query('DELETE FROM held_events WHERE seq = ANY($1::bigint[])', [seqs])).rowCount;
  }

  async countHeld(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>('SELECT count(*) AS n FROM held_events');
    return Number(rows[0]?.n ?? 0);
  }

  async purgeHeld(cutoff: number): Promise<number> {
    return (await this.db.query('DELETE FROM held_events WHERE received_at <= $1', [cutoff])).rowCount;
  }
}
