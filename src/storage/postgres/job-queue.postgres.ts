import type { EnqueueResult, Job, JobInput, JobKindStats, JobQueue } from '../../processing/job-queue.port.js';
import { DEFAULT_MAX_ATTEMPTS, JOB_COLUMNS, JOB_STATUS, clipError, toJob, type JobRow } from '../shared/job-rows.js';
import type { PgDatabase } from './database.postgres.js';

const { queued: QUEUED, done: DONE, dead: DEAD } = JOB_STATUS;

/** Per-kind counts in stats() are exact up to this many rows (they run at every /metrics scrape). */
const COUNT_CAP = 10_000;

/**
 * Leases the oldest due jobs of some kinds. FOR UPDATE SKIP LOCKED: rows another worker is
 * claiming right now are passed over instead of waited for, so any number of workers claim
 * disjoint sets without queueing on each other; a row whose claim committed just before is
 * re-checked against its new version (lease_until now in the future) and dropped, so it is
 * never handed out twice. jobs_due holds only queued rows, ordered by due time.
 * MATERIALIZED: the LIMITed, locking selection must run exactly once.
 */
const CLAIM_SQL = `
WITH due AS MATERIALIZED (
  SELECT id FROM jobs
  WHERE status = ${QUEUED} AND run_at <= $3 AND lease_until <= $3 AND kind = ANY($4::text[])
  ORDER BY run_at, id LIMIT $5
  FOR UPDATE SKIP LOCKED
)
UPDATE jobs j SET lease_owner = $1, lease_until = $2
FROM due WHERE j.id = due.id
RETURNING ${JOB_COLUMNS.split(', ').map((c) => `j.${c}`).join(', ')}`;

/** Inserts what is new; for an existing (kind, key) returns the existing id (created = false). */
const ENQUEUE_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::int[]) WITH ORDINALITY
    AS t(kind, key, payload, run_at, max_attempts, ord)
), ins AS (
  INSERT INTO jobs (kind, key, payload, status, run_at, max_attempts, created_at)
  SELECT kind, key, payload, ${QUEUED}, run_at, max_attempts, $6 FROM input ORDER BY ord
  ON CONFLICT (kind, key) WHERE key IS NOT NULL DO NOTHING
  RETURNING id, kind, key
)
SELECT input.ord, COALESCE(ins.id, existing.id) AS id, ins.id IS NOT NULL AS created
FROM input
LEFT JOIN ins ON ins.kind = input.kind AND ins.key IS NOT DISTINCT FROM input.key
LEFT JOIN jobs existing ON ins.id IS NULL AND existing.kind = input.kind AND existing.key = input.key
ORDER BY input.ord`;

export class PostgresJobQueue implements JobQueue {
  constructor(private readonly db: PgDatabase) {}

  async enqueue(jobs: JobInput[], now: number): Promise<EnqueueResult[]> {
    if (jobs.length === 0) return [];
    const keyless = jobs.filter((j) => j.key === undefined);
    if (keyless.length > 0 && keyless.length !== jobs.length) {
      // Keyless rows cannot be matched back by (kind, key): enqueue the two groups apart, in order.
      const out: EnqueueResult[] = [];
      for (const j of jobs) out.push(...(await this.enqueue([j], now)));
      return out;
    }
    if (keyless.length > 0) {
      const { rows } = await this.db.query<{ id: number }>(
        `INSERT INTO jobs (kind, key, payload, status, run_at, max_attempts, created_at)
         SELECT kind, NULL, payload, ${QUEUED}, run_at, max_attempts, $5
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[]) WITH ORDINALITY AS t(kind, payload, run_at, max_attempts, ord)
         ORDER BY ord RETURNING id`,
        [jobs.map((j) => j.kind), jobs.map((j) => JSON.stringify(j.payload ?? null)), jobs.map((j) => j.runAt), jobs.map((j) => j.maxAttempts ?? DEFAULT_MAX_ATTEMPTS), now],
      );
      return rows.map((r) => ({ id: Number(r.id), created: true }));
    }
    // A (kind, key) repeated within the call is enqueued once; the repeats report created: false.
    const firstOf = new Map<string, number>();
    const unique: JobInput[] = [];
    const slot = jobs.map((j) => {
      const k = `${j.kind}\u0000${j.key}`;
      const seen = firstOf.get(k);
      if (seen !== undefined) return -1 - seen;
      firstOf.set(k, unique.length);
      unique.push(j);
      return unique.length - 1;
    });
    const { rows } = await this.db.query<{ ord: number; id: number | null; created: boolean }>(ENQUEUE_SQL, [
      unique.map((j) => j.kind),
      unique.map((j) => j.key!),
      unique.map((j) => JSON.stringify(j.payload ?? null)),
      unique.map((j) => j.runAt),
      unique.map((j) => j.maxAttempts ?? DEFAULT_MAX_ATTEMPTS),
      now,
    ]);
    const results = rows.map((r) => ({ id: r.id === null ? null : Number(r.id), created: r.created }));
    // A row another transaction committed during this statement conflicts (so is not
    // inserted) but is not in this statement's snapshot: read its id afterwards.
    const missing = results.flatMap((r, i) => (r.id === null ? [i] : []));
    if (missing.length > 0) {
      const found = await this.db.query<{ kind: string; key: string; id: number }>(
        'SELECT kind, key, id FROM jobs WHERE (kind, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))',
        [missing.map((i) => unique[i]!.kind), missing.map((i) => unique[i]!.key!)],
      );
      const ids = new Map(found.rows.map((r) => [`${r.kind}\u0000${r.key}`, Number(r.id)]));
      for (const i of missing) results[i] = { id: ids.get(`${unique[i]!.kind}\u0000${unique[i]!.key}`) ?? 0, created: false };
    }
    return slot.map((s) => (s >= 0 ? (results[s] as EnqueueResult) : { id: results[-1 - s]!.id as number, created: false }));
  }

  async claim(input: { workerId: string; kinds: string[]; limit: number; now: number; leaseMs: number }): Promise<Job[]> {
    if (input.kinds.length === 0 || input.limit <= 0) return [];
    const { rows } = await this.db.query<JobRow>(
      CLAIM_SQL,
      [input.workerId, input.now + input.leaseMs, input.now, input.kinds, input.limit],
      'jobs_claim',
    );
    return rows.map(toJob).sort((a, b) => a.runAt - b.runAt || a.id - b.id);
  }

  async complete(input: { workerId: string; ids: number[]; now: number }): Promise<void> {
    if (input.ids.length === 0) return;
    await this.db.query(
      `UPDATE jobs SET status = ${DONE}, finished_at = $1, lease_owner = NULL, lease_until = 0
       WHERE id = ANY($2::bigint[]) AND status = ${QUEUED} AND lease_owner = $3`,
      [input.now, input.ids, input.workerId],
      'jobs_complete',
    );
  }

  async fail(input: { workerId: string; id: number; error: string; retryAt: number | null; now: number }): Promise<void> {
    await this.db.query(
      `UPDATE jobs SET attempts = attempts + 1, last_error = $1, status = $2, run_at = COALESCE($3::bigint, run_at),
         finished_at = $4, lease_owner = NULL, lease_until = 0
       WHERE id = $5 AND status = ${QUEUED} AND lease_owner = $6`,
      [clipError(input.error), input.retryAt === null ? DEAD : QUEUED, input.retryAt, input.retryAt === null ? input.now : null, input.id, input.workerId],
    );
  }

  async retry(id: number, now: number): Promise<boolean> {
    const r = await this.db.query(
      `UPDATE jobs SET status = ${QUEUED}, run_at = $1, attempts = 0, finished_at = NULL, lease_owner = NULL, lease_until = 0
       WHERE id = $2 AND status = ${DEAD}`,
      [now, id],
    );
    return r.rowCount === 1;
  }

  async get(id: number): Promise<Job | null> {
    if (!Number.isSafeInteger(id) || id < 1) return null;
    const { rows } = await this.db.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1`, [id]);
    return rows[0] ? toJob(rows[0]) : null;
  }

  async listDead(input: { kind?: string; limit: number }): Promise<Job[]> {
    const { rows } =
      input.kind === undefined
        ? await this.db.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE status = ${DEAD} ORDER BY id DESC LIMIT $1`, [input.limit])
        : await this.db.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE status = ${DEAD} AND kind = $1 ORDER BY id DESC LIMIT $2`, [input.kind, input.limit]);
    return rows.map(toJob);
  }

  async stats(now: number): Promise<JobKindStats[]> {
    const [queued, dead] = await Promise.all([
      this.db.query<{ kind: string; n: number; due: number; oldest: number | null }>(
        `SELECT kind, COUNT(*)::int AS n, COUNT(*) FILTER (WHERE run_at <= $1)::int AS due, MIN(run_at) FILTER (WHERE run_at <= $1) AS oldest
         FROM (SELECT kind, run_at FROM jobs WHERE status = ${QUEUED} ORDER BY run_at LIMIT $2) q GROUP BY kind`,
        [now, COUNT_CAP],
      ),
      this.db.query<{ kind: string; n: number }>(
        `SELECT kind, COUNT(*)::int AS n FROM (SELECT kind FROM jobs WHERE status = ${DEAD} LIMIT $1) d GROUP BY kind`,
        [COUNT_CAP],
      ),
    ]);
    const out = new Map<string, JobKindStats>();
    for (const q of queued.rows) out.set(q.kind, { kind: q.kind, queued: q.n, due: q.due, oldestDueAt: q.oldest === null ? null : Number(q.oldest), dead: 0 });
    for (const d of dead.rows) {
      const s = out.get(d.kind) ?? { kind: d.kind, queued: 0, due: 0, oldestDueAt: null, dead: 0 };
      s.dead = d.n;
      out.set(d.kind, s);
    }
    return [...out.values()].sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  }

  async nextDueAt(kinds: string[]): Promise<number | null> {
    if (kinds.length === 0) return null;
    const { rows } = await this.db.query<{ at: number | null }>(
      `SELECT MIN(GREATEST(run_at, lease_until)) AS at FROM
         (SELECT run_at, lease_until FROM jobs WHERE status = ${QUEUED} AND kind = ANY($1::text[]) ORDER BY run_at LIMIT 100) q`,
      [kinds],
    );
    const at = rows[0]?.at;
    return at === null || at === undefined ? null : Number(at);
  }

  async purgeDone(cutoff: number): Promise<number> {
    const r = await this.db.query(`DELETE FROM jobs WHERE status = ${DONE} AND finished_at <= $1`, [cutoff]);
    return r.rowCount;
  }
}
