import { randomBytes } from 'node:crypto';
import type { Workspace } from '../../keys/key-store.port.js';
import { PURGE_BATCH, type SessionRecord, type UserRecord, type UserStore } from '../../users/user-store.port.js';
import type { PgDatabase } from './database.postgres.js';

interface UserRow {
  id: string;
  email: string;
  password_hash: string | null;
  created_at: string | number;
  workspaces: Workspace[] | null;
}

// One round trip per read: the user and its workspaces (by name) as a JSON array.
const SELECT_USER = `SELECT u.id, u.email, u.password_hash, u.created_at,
  (SELECT json_agg(json_build_object('id', w.id, 'name', w.name) ORDER BY w.name, w.id)
     FROM user_workspaces uw JOIN workspaces w ON w.id = uw.workspace_id WHERE uw.user_id = u.id) AS workspaces
  FROM users u`;

function toUser(r: UserRow): UserRecord {
  return { id: r.id, email: r.email, passwordHash: r.password_hash, createdAt: Number(r.created_at), workspaces: r.workspaces ?? [] };
}

export class PostgresUserStore implements UserStore {
  constructor(private readonly db: PgDatabase) {}

  private async one(where: 'id' | 'email', value: string): Promise<UserRecord | null> {
    const { rows } = await this.db.query<UserRow>(`${SELECT_USER} WHERE u.${where} = $1`, [value]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async createUser(input: { email: string; passwordHash: string | null; workspaceIds: string[]; now: number }) {
    const id = `usr_${randomBytes(8).toString('hex')}`;
    // Two processes creating one email at once: the unique key lets one insert; the other reads it.
    const created = await this.db.transaction(async (tx) => {
      const ins = await tx.query(
        'INSERT INTO users (id, email, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) ON CONFLICT (email) DO NOTHING',
        [id, input.email, input.passwordHash, input.now],
      );
      if (ins.rowCount !== 1) return false;
      await tx.query(
        'INSERT INTO user_workspaces (user_id, workspace_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING',
        [id, input.workspaceIds],
      );
      return true;
    });
    const user = await this.one('email', input.email);
    return { user: user!, created };
  }

  async addMemberships(userId: string, workspaceIds: string[]): Promise<UserRecord | null> {
    await this.db.query(
      'INSERT INTO user_workspaces (user_id, workspace_id) SELECT u.id, w FROM users u, unnest($2::text[]) AS w WHERE u.id = $1 ON CONFLICT DO NOTHING',
      [userId, workspaceIds],
    );
    return this.one('id', userId);
  }

  getUser(id: string): Promise<UserRecord | null> {
    return this.one('id', id);
  }

  findUserByEmail(email: string): Promise<UserRecord | null> {
    return this.one('email', email);
  }

  async countUsers(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>('SELECT COUNT(*) AS n FROM users');
    return Number(rows[0]!.n);
  }

  async setPassword(userId: string, passwordHash: string, now: number): Promise<void> {
    await this.db.query('UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1', [userId, passwordHash, now]);
  }

  async createSession(input: { tokenHash: string; userId: string; workspaceId: string; now: number; expiresAt: number }): Promise<void> {
    await this.db.query('INSERT INTO sessions (token_hash, user_id, workspace_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      input.tokenHash,
      input.userId,
      input.workspaceId,
      input.now,
      input.expiresAt,
    ]);
  }

  async findSession(tokenHash: string, now: number): Promise<{ session: SessionRecord; user: UserRecord } | null> {
    // A session whose workspace membership was removed is no session: the join requires it.
    const { rows } = await this.db.query<{ user_id: string; workspace_id: string; created_at: string; expires_at: string; test_mode: boolean }>(
      `SELECT s.user_id, s.workspace_id, s.created_at, s.expires_at, s.test_mode FROM sessions s
       JOIN user_workspaces uw ON uw.user_id = s.user_id AND uw.workspace_id = s.workspace_id
       WHERE s.token_hash = $1 AND s.expires_at > $2`,
      [tokenHash, now],
      'session_by_hash',
    );
    const s = rows[0];
    if (!s) return null;
    const user = await this.one('id', s.user_id);
    if (!user) return null;
    const session: SessionRecord = { userId: s.user_id, workspaceId: s.workspace_id, createdAt: Number(s.created_at), expiresAt: Number(s.expires_at) };
    if (s.test_mode) session.testMode = true;
    return { session, user };
  }

  async switchWorkspace(tokenHash: string, workspaceId: string): Promise<boolean> {
    const r = await this.db.query(
      `UPDATE sessions s SET workspace_id = $2 WHERE s.token_hash = $1
         AND EXISTS (SELECT 1 FROM user_workspaces uw WHERE uw.user_id = s.user_id AND uw.workspace_id = $2)`,
      [tokenHash, workspaceId],
    );
    return r.rowCount === 1;
  }

  async setTestMode(tokenHash: string, on: boolean): Promise<boolean> {
    return (await this.db.query('UPDATE sessions SET test_mode = $2 WHERE token_hash = $1', [tokenHash, on])).rowCount === 1;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
  }

  async purgeExpired(now: number): Promise<{ sessions: number }> {
    // Through the expiry index, at most PURGE_BATCH rows. Two processes purging at once may
    // pick the same rows: the second's delete of a gone row is a no-op, not an error.
    const { rowCount } = await this.db.query(
      'DELETE FROM sessions WHERE token_hash IN (SELECT token_hash FROM sessions WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2)',
      [now, PURGE_BATCH],
    );
    // One row per `serve` start while no user exists: a handful, no index needed.
    await this.db.query('DELETE FROM setup_tokens WHERE expires_at <= $1', [now]);
    return { sessions: rowCount };
  }

  async createSetupToken(tokenHash: string, now: number, expiresAt: number): Promise<void> {
    await this.db.query('INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES ($1, $2, $3)', [tokenHash, now, expiresAt]);
  }

  async consumeSetupToken(tokenHash: string, now: number): Promise<boolean> {
    const r = await this.db.query('UPDATE setup_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2', [tokenHash, now]);
    return r.rowCount === 1;
  }
}
