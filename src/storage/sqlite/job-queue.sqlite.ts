import type Database from 'better-sqlite3';
import type { EnqueueResult, Job, JobInput, JobKindStats, JobQueue } from '../../processing/job-queue.port.js';
import { DEFAULT_MAX_ATTEMPTS, JOB_COLUMNS, JOB_STATUS, clipError, toJob, type JobRow } from '../shared/job-rows.js';
import { sqliteFailure } from './errors.sqlite.js';
import { Statements } from './statements.js';
import { SyncMode } from './sync-mode.sqlite.js';

const { queued: QUEUED, done: DONE, dead: DEAD } = JOB_STATUS;

/** Per-kind counts in stats() are exact up to this many rows (they run at every /metrics scrape). */
const COUNT_CAP = 10_000;

/**
 * The job queue on the embedded store. It runs on the writer thread (every method that writes
 * is sent there by message), so claims never race: one connection, synchronous statements.
 */
export class SqliteJobQueue implements JobQueue {
  private readonly insert: Database.Statement;
  private readonly byKey: Database.Statement;
  private readonly claimStmt: Database.Statement;
  private readonly completeStmt: Database.Statement;
  private readonly sync: SyncMode;
  private readonly st: Statements;

  constructor(private readonly db: Database.Database) {
    this.sync = new SyncMode(db);
    this.st = new Statements(db);
    this.insert = db.prepare(`INSERT INTO jobs (kind, key, payload, status, run_at, max_attempts, created_at)
      VALUES (?, ?, ?, ${QUEUED}, ?, ?, ?) ON CONFLICT DO NOTHING`);
    this.byKey = db.prepare('SELECT id FROM jobs WHERE kind = ? AND key = ?').pluck();
    // Walks jobs_due from its left edge (oldest run_at); leased rows are skipped by the filter.
    this.claimStmt = db.prepare(`UPDATE jobs SET lease_owner = ?, lease_until = ?
      WHERE id IN (SELECT id FROM jobs WHERE status = ${QUEUED} AND run_at <= ? AND lease_until <= ?
                     AND kind IN (SELECT value FROM json_each(?))
                   ORDER BY run_at, id LIMIT ?)
      RETURNING ${JOB_COLUMNS}`);
    this.completeStmt = db.prepare(`UPDATE jobs SET status = ${DONE}, finished_at = ?, lease_owner = NULL, lease_until = 0
      WHERE id = ? AND status = ${QUEUED} AND lease_owner = ?`);
  }

  async enqueue(jobs: JobInput[], now: number): Promise<EnqueueResult[]> {
    try {
      // Synced (FULL): an enqueue may be the answer to an API call (a retry asked for).
      return this.db.transaction(() =>
        jobs.map((j): EnqueueResult => {
          const key = j.key ?? null;
          const info = this.insert.run(j.kind, key, JSON.stringify(j.payload ?? null), j.runAt, j.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, now);
          if (info.changes === 1) return { id: Number(info.lastInsertRowid), created: true };
          return { id: this.byKey.get(j.kind, key) as number, created: false };
        }),
      ).immediate();
    } catch (err) {
      throw sqliteFailure(err);
    }
  }

  async claim(input: { workerId: string; kinds: string[]; limit: number; now: number; leaseMs: number }): Promise<Job[]> {
    if (input.kinds.length === 0 || input.limit <= 0) return [];
    try {
      // Claims, completions and failures skip the fsync (see SyncMode): losing one to a power
      // cut only makes a job run again, which every handler tolerates (at-least-once).
      const rows = this.sync.unsynced(() =>
        this.claimStmt.all(input.workerId, input.now + input.leaseMs, input.now, input.now, JSON.stringify(input.kinds), input.limit),
      ) as JobRow[];
      return rows.map(toJob).sort((a, b) => a.runAt - b.runAt || a.id - b.id);
    } catch (err) {
      throw sqliteFailure(err);
    }
  }

  async complete(input: { workerId: string; ids: number[]; now: number }): Promise<void> {
    if (input.ids.length === 0) return;
    try {
      this.sync.unsynced(() => this.db.transaction(() => {
        for (const id of input.ids) this.completeStmt.run(input.now, id, input.workerId);
      }).immediate());
    } catch (err) {
      throw sqliteFailure(err);
    }
  }

  async fail(input: { workerId: string; id: number; error: string; retryAt: number | null; now: number }): Promise<void> {
    try {
      this.sync.unsynced(() =>
        this.st.prepare(`UPDATE jobs SET attempts = attempts + 1, last_error = ?, status = ?, run_at = CASE WHEN ? IS NULL THEN run_at ELSE ? END,
              finished_at = ?, lease_owner = NULL, lease_until = 0
            WHERE id = ? AND status = ${QUEUED} AND lease_owner = ?`)
          .run(clipError(input.error), input.retryAt === null ? DEAD : QUEUED, input.retryAt, input.retryAt, input.retryAt === null ? input.now : null, input.id, input.workerId),
      );
    } catch (err) {
      throw sqliteFailure(err);
    }
  }

  async retry(id: number, now: number): Promise<boolean> {
    try {
      const info = this.st.prepare(`UPDATE jobs SET status = ${QUEUED}, run_at = ?, attempts = 0, finished_at = NULL, lease_owner = NULL, lease_until = 0
          WHERE id = ? AND status = ${DEAD}`)
        .run(now, id);
      return info.changes === 1;
    } catch (err) {
      throw sqliteFailure(err);
    }
  }

  async get(id: number): Promise<Job | null> {
    const r = this.st.prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`).get(id) as JobRow | undefined;
    return r ? toJob(r) : null;
  }

  async listDead(input: { kind?: string; limit: number }): Promise<Job[]> {
    const rows = (input.kind === undefined
      ? this.st.prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE status = ${DEAD} ORDER BY id DESC LIMIT ?`).all(input.limit)
      : this.st.prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE status = ${DEAD} AND kind = ? ORDER BY id DESC LIMIT ?`).all(input.kind, input.limit)) as JobRow[];
    return rows.map(toJob);
  }

  async stats(now: number): Promise<JobKindStats[]> {
    // Bounded in cost (it runs on a scrape): at most COUNT_CAP rows of each partial index.
    const queued = this.st.prepare(`SELECT kind, COUNT(*) AS n, SUM(run_at <= ?) AS due, MIN(CASE WHEN run_at <= ? THEN run_at END) AS oldest
        FROM (SELECT kind, run_at FROM jobs WHERE status = ${QUEUED} ORDER BY run_at LIMIT ?) GROUP BY kind`)
      .all(now, now, COUNT_CAP) as { kind: string; n: number; due: number; oldest: number | null }[];
    const dead = this.st.prepare(`SELECT kind, COUNT(*) AS n FROM (SELECT kind FROM jobs WHERE status = ${DEAD} LIMIT ?) GROUP BY kind`)
      .all(COUNT_CAP) as { kind: string; n: number }[];
    const out = new Map<string, JobKindStats>();
    for (const q of queued) out.set(q.kind, { kind: q.kind, queued: q.n, due: q.due ?? 0, oldestDueAt: q.oldest, dead: 0 });
    for (const d of dead) {
      const s = out.get(d.kind) ?? { kind: d.kind, queued: 0, due: 0, oldestDueAt: null, dead: 0 };
      s.dead = d.n;
      out.set(d.kind, s);
    }
    return [...out.values()].sort((a, b) => a.kind.localeCompare(b.kind));
  }

  async nextDueAt(kinds: string[]): Promise<number | null> {
    if (kinds.length === 0) return null;
    const v = this.st.prepare(`SELECT MIN(CASE WHEN lease_until > run_at THEN lease_until ELSE run_at END) FROM
        (SELECT run_at, lease_until FROM jobs WHERE status = ${QUEUED} AND kind IN (SELECT value FROM json_each(?)) ORDER BY run_at LIMIT 100)`)
      .pluck()
      .get(JSON.stringify(kinds)) as number | null;
    return v ?? null;
  }

  async purgeDone(cutoff: number): Promise<number> {
    try {
      return this.sync.unsynced(() => this.st.prepare(`DELETE FROM jobs WHERE status = ${DONE} AND finished_at <= ?`).run(cutoff).changes);
    } catch (err) {
      throw sqliteFailure(err);
    }
  }
}
