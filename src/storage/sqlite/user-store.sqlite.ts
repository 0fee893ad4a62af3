import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import type { Workspace } from '../../keys/key-store.port.js';
import { PURGE_BATCH, type SessionRecord, type UserRecord, type UserStore } from '../../users/user-store.port.js';

interface UserRow {
  id: string;
  email: string;
  password_hash: string | null;
  created_at: number;
}

export class SqliteUserStore implements UserStore {
  constructor(private readonly db: Database.Database) {}

  private withWorkspaces(r: UserRow): UserRecord {
    const workspaces = this.db
      .prepare('SELECT w.id, w.name FROM user_workspaces uw JOIN workspaces w ON w.id = uw.workspace_id WHERE uw.user_id = ? ORDER BY w.name, w.id')
      .all(r.id) as Workspace[];
    return { id: r.id, email: r.email, passwordHash: r.password_hash, createdAt: r.created_at, workspaces };
  }

  private row(where: 'id' | 'email', value: string): UserRecord | null {
    const r = this.db.prepare(`SELECT id, email, password_hash, created_at FROM users WHERE ${where} = ?`).get(value) as UserRow | undefined;
    return r ? this.withWorkspaces(r) : null;
  }

  async createUser(input: { email: string; passwordHash: string | null; workspaceIds: string[]; now: number }) {
    return this.db.transaction(() => {
      const found = this.row('email', input.email);
      if (found) return { user: found, created: false };
      const id = `usr_${randomBytes(8).toString('hex')}`;
      this.db
        .prepare('INSERT INTO users (id, email, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
        .run(id, input.email, input.passwordHash, input.now, input.now);
      this.insertMemberships(id, input.workspaceIds);
      return { user: this.row('id', id)!, created: true };
    })();
  }

  private insertMemberships(userId: string, workspaceIds: string[]): void {
    const stmt = this.db.prepare('INSERT INTO user_workspaces (user_id, workspace_id) VALUES (?, ?) ON CONFLICT DO NOTHING');
    for (const ws of workspaceIds) stmt.run(userId, ws);
  }

  async addMemberships(userId: string, workspaceIds: string[]): Promise<UserRecord | null> {
    return this.db.transaction(() => {
      if (!this.row('id', userId)) return null;
      this.insertMemberships(userId, workspaceIds);
      return this.row('id', userId);
    })();
  }

  async getUser(id: string): Promise<UserRecord | null> {
    return this.row('id', id);
  }

  async findUserByEmail(email: string): Promise<UserRecord | null> {
    return this.row('email', email);
  }

  async countUsers(): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
  }

  async setPassword(userId: string, passwordHash: string, now: number): Promise<void> {
    this.db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?').run(passwordHash, now, userId);
  }

  async createSession(input: { tokenHash: string; userId: string; workspaceId: string; now: number; expiresAt: number }): Promise<void> {
    this.db
      .prepare('INSERT INTO sessions (token_hash, user_id, workspace_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(input.tokenHash, input.userId, input.workspaceId, input.now, input.expiresAt);
  }

  async findSession(tokenHash: string, now: number): Promise<{ session: SessionRecord; user: UserRecord } | null> {
    // A session whose workspace membership was removed is no session: the join requires it.
    const s = this.db
      .prepare(
        `SELECT s.user_id, s.workspace_id, s.created_at, s.expires_at, s.test_mode FROM sessions s
         JOIN user_workspaces uw ON uw.user_id = s.user_id AND uw.workspace_id = s.workspace_id
         WHERE s.token_hash = ? AND s.expires_at > ?`,
      )
      .get(tokenHash, now) as { user_id: string; workspace_id: string; created_at: number; expires_at: number; test_mode: number } | undefined;
    if (!s) return null;
    const user = this.row('id', s.user_id);
    if (!user) return null;
    const session: SessionRecord = { userId: s.user_id, workspaceId: s.workspace_id, createdAt: s.created_at, expiresAt: s.expires_at };
    if (s.test_mode === 1) session.testMode = true;
    return { session, user };
  }

  async switchWorkspace(tokenHash: string, workspaceId: string): Promise<boolean> {
    const { changes } = this.db
      .prepare(
        `UPDATE sessions SET workspace_id = ? WHERE token_hash = ?
           AND EXISTS (SELECT 1 FROM user_workspaces uw WHERE uw.user_id = sessions.user_id AND uw.workspace_id = ?)`,
      )
      .run(workspaceId, tokenHash, workspaceId);
    return changes === 1;
  }

  async setTestMode(tokenHash: string, on: boolean): Promise<boolean> {
    return this.db.prepare('UPDATE sessions SET test_mode = ? WHERE token_hash = ?').run(on ? 1 : 0, tokenHash).changes === 1;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    this.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
  }

  async purgeExpired(now: number): Promise<{ sessions: number }> {
    return this.db.transaction(() => {
      // Through the expiry index, at most PURGE_BATCH rows (SQLite's DELETE has no LIMIT by default).
      const { changes } = this.db
        .prepare('DELETE FROM sessions WHERE token_hash IN (SELECT token_hash FROM sessions WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)')
        .run(now, PURGE_BATCH);
      // One row per `serve` start while no user exists: a handful, no index needed.
      this.db.prepare('DELETE FROM setup_tokens WHERE expires_at <= ?').run(now);
      return { sessions: changes };
    })();
  }

  async createSetupToken(tokenHash: string, now: number, expiresAt: number): Promise<void> {
    this.db.prepare('INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES (?, ?, ?)').run(tokenHash, now, expiresAt);
  }

  async consumeSetupToken(tokenHash: string, now: number): Promise<boolean> {
    const { changes } = this.db
      .prepare('UPDATE setup_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?')
      .run(now, tokenHash, now);
    return changes === 1;
  }
}
