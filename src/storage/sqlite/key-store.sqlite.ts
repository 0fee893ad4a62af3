import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import type { ApiKeyRecord, KeyStore, Workspace } from '../../keys/key-store.port.js';
import { SELECT_KEY, testWorkspaceName, toKeyRecord as toRecord, type KeyRow } from '../rows.js';

export class SqliteKeyStore implements KeyStore {
  constructor(private readonly db: Database.Database) {}

  async ensureWorkspace(name: string, now: number): Promise<Workspace & { created: boolean }> {
    // Live workspaces only: a name never finds a test sibling.
    const byName = 'SELECT id, name FROM workspaces WHERE name = ? AND live_workspace_id IS NULL';
    const found = this.db.prepare(byName).get(name) as Workspace | undefined;
    if (found) return { ...found, created: false };
    const id = `ws_${randomBytes(8).toString('hex')}`;
    const { changes } = this.db.prepare('INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING').run(id, name, now);
    const row = this.db.prepare(byName).get(name) as Workspace | undefined;
    if (!row) throw new Error(`workspace name ${JSON.stringify(name)} is reserved`);
    return { ...row, created: changes === 1 };
  }

  async ensureTestWorkspace(liveWorkspaceId: string, now: number): Promise<Workspace & { created: boolean }> {
    const bySibling = 'SELECT id, name FROM workspaces WHERE live_workspace_id = ?';
    const found = this.db.prepare(bySibling).get(liveWorkspaceId) as Workspace | undefined;
    if (found) return { ...found, created: false };
    const id = `ws_${randomBytes(8).toString('hex')}`;
    const { changes } = this.db
      .prepare('INSERT INTO workspaces (id, name, created_at, live_workspace_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
      .run(id, testWorkspaceName(liveWorkspaceId), now, liveWorkspaceId);
    return { ...(this.db.prepare(bySibling).get(liveWorkspaceId) as Workspace), created: changes === 1 };
  }

  async findWorkspace(id: string): Promise<(Workspace & { liveWorkspaceId: string | null }) | null> {
    const r = this.db.prepare('SELECT id, name, live_workspace_id FROM workspaces WHERE id = ?').get(id) as
      | { id: string; name: string; live_workspace_id: string | null }
      | undefined;
    return r ? { id: r.id, name: r.name, liveWorkspaceId: r.live_workspace_id } : null;
  }

  async createKey(input: { workspaceId: string; name: string; hash: string; prefix: string; now: number }): Promise<ApiKeyRecord> {
    const id = `key_${randomBytes(8).toString('hex')}`;
    this.db
      .prepare('INSERT INTO api_keys (id, workspace_id, name, key_prefix, key_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, input.workspaceId, input.name, input.prefix, input.hash, input.now);
    return toRecord(this.db.prepare(`${SELECT_KEY} WHERE k.id = ?`).get(id) as KeyRow);
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return (this.db.prepare(`${SELECT_KEY} ORDER BY k.created_at, k.id`).all() as KeyRow[]).map(toRecord);
  }

  async listActiveKeys(): Promise<ApiKeyRecord[]> {
    return (this.db.prepare(`${SELECT_KEY} WHERE k.revoked_at IS NULL`).all() as KeyRow[]).map(toRecord);
  }

  async findActiveKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    const r = this.db.prepare(`${SELECT_KEY} WHERE k.key_hash = ? AND k.revoked_at IS NULL`).get(hash) as KeyRow | undefined;
    return r ? toRecord(r) : null;
  }

  async revokeKey(idOrHash: string, now: number): Promise<ApiKeyRecord | null> {
    const r = this.db.prepare(`${SELECT_KEY} WHERE k.id = ? OR k.key_hash = ?`).get(idOrHash, idOrHash) as KeyRow | undefined;
    if (!r) return null;
    this.db.prepare('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(now, r.id);
    return toRecord(this.db.prepare(`${SELECT_KEY} WHERE k.id = ?`).get(r.id) as KeyRow);
  }

  async countActiveKeys(): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL').get() as { n: number }).n;
  }

  async recordKeyUse(uses: { id: string; at: number }[]): Promise<void> {
    const stmt = this.db.prepare('UPDATE api_keys SET last_used_at = @at WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @at)');
    this.db.transaction(() => {
      for (const u of uses) stmt.run({ id: u.id, at: u.at });
    })();
  }
}
