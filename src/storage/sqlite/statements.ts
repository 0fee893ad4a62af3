import type Database from 'better-sqlite3';

/**
 * The prepared statements of one connection, by SQL text. better-sqlite3's `prepare`
 * compiles the SQL every time (tens of µs); the processing stores run the same few
 * statements per event and per job, so each is compiled once per connection.
 *
 * A statement's mode (`pluck`, `raw`) sticks to it: one SQL text must always be used in the
 * same mode (call `.pluck()` at every use, or never).
 */
export class Statements {
  private readonly cache = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  prepare(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }
}
