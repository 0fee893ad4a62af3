import type { ReadTrace } from '../read-bounds.js';
import type { PgDatabase, Queryable } from './database.postgres.js';

/** Runs read statements, each reported to `trace` when one is given (tests EXPLAIN them). */
export interface PgReader {
  query<R>(sql: string, params: unknown[], name?: string): Promise<{ rows: R[]; rowCount: number }>;
}

/** The read statements of the PostgreSQL stores. */
export class PgReads implements PgReader {
  constructor(
    private readonly db: PgDatabase,
    private readonly trace?: ReadTrace,
  ) {}

  query<R>(sql: string, params: unknown[], name?: string): Promise<{ rows: R[]; rowCount: number }> {
    this.trace?.(sql, params);
    return this.db.query<R>(sql, params, name);
  }

  /**
   * Several statements on one snapshot (a read-only REPEATABLE READ transaction: no locks,
   * no serialization failures for a reader), for a page merged from several indexes: an
   * event processed between two statements must not be seen twice or not at all.
   */
  snapshot<T>(fn: (r: PgReader) => Promise<T>): Promise<T> {
    return this.db.withClient(async (c: Queryable, markBroken) => {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        const out = await fn({
          query: <R>(sql: string, params: unknown[], name?: string) => {
            this.trace?.(sql, params);
            return c.query<R>(sql, params, name);
          },
        });
        await c.query('COMMIT');
        return out;
      } catch (err) {
        await c.query('ROLLBACK').catch(markBroken);
        throw err;
      }
    });
  }
}

/** `$n` placeholders for a statement built piece by piece: `arg(v)` adds `v` and returns its placeholder. */
export function placeholders(): { args: unknown[]; arg: (v: unknown) => string } {
  const args: unknown[] = [];
  return { args, arg: (v) => `$${args.push(v)}` };
}
