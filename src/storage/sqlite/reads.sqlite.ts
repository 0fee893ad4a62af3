import type Database from 'better-sqlite3';
import type { ReadTrace } from '../read-bounds.js';
import { Statements } from './statements.js';

/**
 * The read statements of one connection: prepared once per SQL text (the filtered reads
 * build a handful of shapes), each reported to `trace` when one is given (tests EXPLAIN
 * them), and `snapshot` for reads of several statements that must see one state of the
 * database (a deferred transaction: on a WAL reader, one snapshot, and no lock taken).
 */
export class SqliteReads {
  private readonly statements: Statements;

  constructor(
    private readonly db: Database.Database,
    private readonly trace?: ReadTrace,
  ) {
    this.statements = new Statements(db);
  }

  private statement(sql: string): Database.Statement {
    return this.statements.prepare(sql);
  }

  all<T>(sql: string, params: unknown[]): T[] {
    this.trace?.(sql, params);
    return this.statement(sql).all(...params) as T[];
  }

  get<T>(sql: string, params: unknown[]): T | undefined {
    this.trace?.(sql, params);
    return this.statement(sql).get(...params) as T | undefined;
  }

  /** Rows one by one: a scan that stops early reads no further. No other statement may run until it ends. */
  iterate<T>(sql: string, params: unknown[]): IterableIterator<T> {
    this.trace?.(sql, params);
    return this.statement(sql).iterate(...params) as IterableIterator<T>;
  }

  snapshot<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
