import type Database from 'better-sqlite3';
import { generateWebhookSecret } from '../../workflows/transports/webhook-signing.js';
import { ROTATION_OVERLAP_MS, type WebhookSecretRotation, type WorkspaceSecretStore } from '../../workflows/workspace-secrets.port.js';
import { SECRET_COLUMNS, newSecrets, signingSecretsOf, type SecretRow } from '../shared/secret-rows.js';

/**
 * On the writer thread for every method that may create or rotate (one connection serialises
 * them); the main thread's read connection serves findUnsubscribeKey, and reads of rows that
 * exist (sqlite-store.ts).
 */
export class SqliteWorkspaceSecretStore implements WorkspaceSecretStore {
  constructor(private readonly db: Database.Database) {}

  /** The row, or null; no write. */
  find(workspaceId: string): SecretRow | null {
    return (this.db.prepare(`SELECT ${SECRET_COLUMNS} FROM workspace_secrets WHERE workspace_id = ?`).get(workspaceId) as SecretRow | undefined) ?? null;
  }

  private ensure(workspaceId: string, now: number): SecretRow {
    const found = this.find(workspaceId);
    if (found) return found;
    const s = newSecrets();
    this.db
      .prepare('INSERT INTO workspace_secrets (workspace_id, webhook_secret, unsubscribe_key, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (workspace_id) DO NOTHING')
      .run(workspaceId, s.webhookSecret, s.unsubscribeKey, now);
    return this.find(workspaceId)!;
  }

  async webhookSecret(workspaceId: string, now: number): Promise<string> {
    return this.ensure(workspaceId, now).webhook_secret;
  }

  async signingSecrets(workspaceId: string, now: number): Promise<string[]> {
    return signingSecretsOf(this.ensure(workspaceId, now), now);
  }

  async rotateWebhookSecret(workspaceId: string, now: number): Promise<WebhookSecretRotation> {
    return this.db.transaction(() => {
      const before = this.ensure(workspaceId, now);
      const secret = generateWebhookSecret();
      const until = now + ROTATION_OVERLAP_MS;
      this.db
        .prepare(
          'UPDATE workspace_secrets SET webhook_secret = ?, previous_webhook_secret = ?, previous_valid_until = ?, rotated_at = ? WHERE workspace_id = ?',
        )
        .run(secret, before.webhook_secret, until, now, workspaceId);
      return { secret, previous: before.webhook_secret, previousValidUntil: until };
    }).immediate();
  }

  async unsubscribeKey(workspaceId: string, now: number): Promise<Buffer> {
    return Buffer.from(this.ensure(workspaceId, now).unsubscribe_key, 'base64');
  }

  async findUnsubscribeKey(workspaceId: string): Promise<Buffer | null> {
    const row = this.find(workspaceId);
    return row ? Buffer.from(row.unsubscribe_key, 'base64') : null;
  }
}
