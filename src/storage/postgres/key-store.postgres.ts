import { randomBytes } from 'node:crypto';
import type { ApiKeyRecord, KeyStore, Workspace } from '../../keys/key-store.port.js';
import { KEY_COLUMNS, KEY_JOINS, SELECT_KEY, testWorkspaceName, toKeyRecord as toRecord, type KeyRow } from '../rows.js';
import type { PgDatabase } from './database.postgres.js';

export class PostgresKeyStore implements KeyStore {
  constructor(private readonly db: PgDatabase) {}

  async ensureWorkspace(name: string, now: number): Promise<Workspace & { created: boolean }> {
    // Live workspaces only: a name never finds a test sibling.
    const byName = 'SELECT id, name FROM workspaces WHERE name = $1 AND live_workspace_id IS NULL';
    const found = await this.db.query<Workspace>(byName, [name]);
    if (found.rows[0]) return { ...found.rows[0], created: false };
    // Two processes creating one workspace at once: the loser's insert does nothing and it
    // reads the winner's row (READ COMMITTED: the SELECT sees the committed insert).
    const id = `ws_${randomBytes(8).toString('hex')}`;
    const inserted = await this.db.query('INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [
      id,
      name,
      now,
    ]);
    const { rows } = await this.db.query<Workspace>(byName, [name]);
    if (!rows[0]) throw new Error(`workspace name ${JSON.stringify(name)} is reserved`);
    return { ...rows[0], created: inserted.rowCount === 1 };
  }

  async ensureTestWorkspace(liveWorkspaceId: string, now: number): Promise<Workspace & { created: boolean }> {
    const bySibling = 'SELECT id, name FROM workspaces WHERE live_workspace_id = $1';
    const found = await this.db.query<Workspace>(bySibling, [liveWorkspaceId]);
    if (found.rows[0]) return { ...found.rows[0], created: false };
    // Racing creators: the unique index on live_workspace_id (or the name) lets one insert win.
    const id = `ws_${randomBytes(8).toString('hex')}`;
    const inserted = await this.db.query(
      'INSERT INTO workspaces (id, name, created_at, live_workspace_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [id, testWorkspaceName(liveWorkspaceId), now, liveWorkspaceId],
    );
    const { rows } = await this.db.query<Workspace>(bySibling, [liveWorkspaceId]);
    return { ...rows[0]!, created: inserted.rowCount === 1 };
  }

  async findWorkspace(id: string): Promise<(Workspace & { liveWorkspaceId: string | null }) | null> {
    const { rows } = await this.db.query<{ id: string; name: string; live_workspace_id: string | null }>(
      'SELECT id, name, live_workspace_id FROM workspaces WHERE id = $1',
      [id],
    );
    const r = rows[0];
    return r ? { id: r.id, name: r.name, liveWorkspaceId: r.live_workspace_id } : null;
  }

  async createKey(input: { workspaceId: string; name: string; hash: string; prefix: string; now: number }): Promise<ApiKeyRecord> {
    const id = `key_${randomBytes(8).toString('hex')}`;
    // Insert and read back with the workspace name in one round trip.
    const { rows } = await this.db.query<KeyRow>(
      `WITH k AS (
         INSERT INTO api_keys (id, workspace_id, name, key_prefix, key_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *)
       SELECT ${KEY_COLUMNS} FROM k ${KEY_JOINS}`,
      [id, input.workspaceId, input.name, input.prefix, input.hash, input.now],
    );
    return toRecord(rows[0]!);
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return (await this.db.query<KeyRow>(`${SELECT_KEY} ORDER BY k.created_at, k.id`)).rows.map(toRecord);
  }

  async listActiveKeys(): Promise<ApiKeyRecord[]> {
    return (await this.db.query<KeyRow>(`${SELECT_KEY} WHERE k.revoked_at IS NULL ORDER BY k.created_at, k.id`)).rows.map(toRecord);
  }

  async findActiveKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    const { rows } = await this.db.query<KeyRow>(`${SELECT_KEY} WHERE k.key_hash = $1 AND k.revoked_at IS NULL`, [hash], 'key_by_hash');
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async revokeKey(idOrHash: string, now: number): Promise<ApiKeyRecord | null> {
    // By id or by secret hash; revoking twice keeps the first revocation time.
    const { rows } = await this.db.query<KeyRow>(
      `WITH k AS (
         UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2)
         WHERE id = (SELECT id FROM api_keys WHERE id = $1 OR key_hash = $1 LIMIT 1)
         RETURNING *)
       SELECT ${KEY_COLUMNS} FROM k ${KEY_JOINS}`,
      [idOrHash, now],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async countActiveKeys(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL');
    return rows[0]!.n;
  }

  async recordKeyUse(uses: { id: string; at: number }[]): Promise<void> {
    if (uses.length === 0) return;
    // One statement for every key a server used since its last write; never moves a time back.
    // Sorted by id, so two servers writing the same keys lock their rows in one order.
    const sorted = [...uses].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    await this.db.query(
      `UPDATE api_keys k SET last_used_at = u.at
       FROM unnest($1::text[], $2::bigint[]) AS u(id, at)
       WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`,
      [sorted.map((u) => u.id), sorted.map((u) => u.at)],
    );
  }
}
