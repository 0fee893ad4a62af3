import { generateWebhookSecret } from '../../workflows/transports/webhook-signing.js';
import { ROTATION_OVERLAP_MS, type WebhookSecretRotation, type WorkspaceSecretStore } from '../../workflows/workspace-secrets.port.js';
import { SECRET_COLUMNS, newSecrets, signingSecretsOf, type SecretRow } from '../shared/secret-rows.js';
import { hasNul, type PgDatabase } from './database.postgres.js';

export class PostgresWorkspaceSecretStore implements WorkspaceSecretStore {
  constructor(private readonly db: PgDatabase) {}

  private async find(workspaceId: string): Promise<SecretRow | null> {
    if (hasNul(workspaceId)) return null;
    const { rows } = await this.db.query<SecretRow>(`SELECT ${SECRET_COLUMNS} FROM workspace_secrets WHERE workspace_id = $1`, [workspaceId], 'secrets_by_ws');
    return rows[0] ?? null;
  }

  /**
   * The row, made on first use. Two processes making it at once: the loser's insert does
   * nothing and RETURNING gives no row, so it reads the winner's (READ COMMITTED sees it).
   */
  private async ensure(workspaceId: string, now: number): Promise<SecretRow> {
    const found = await this.find(workspaceId);
    if (found) return found;
    const s = newSecrets();
    const { rows } = await this.db.query<SecretRow>(
      `INSERT INTO workspace_secrets (workspace_id, webhook_secret, unsubscribe_key, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (workspace_id) DO NOTHING RETURNING ${SECRET_COLUMNS}`,
      [workspaceId, s.webhookSecret, s.unsubscribeKey, now],
    );
    return rows[0] ?? (await this.find(workspaceId))!;
  }

  async webhookSecret(workspaceId: string, now: number): Promise<string> {
    return (await this.ensure(workspaceId, now)).webhook_secret;
  }

  async signingSecrets(workspaceId: string, now: number): Promise<string[]> {
    return signingSecretsOf(await this.ensure(workspaceId, now), now);
  }

  async rotateWebhookSecret(workspaceId: string, now: number): Promise<WebhookSecretRotation> {
    await this.ensure(workspaceId, now);
    const secret = generateWebhookSecret();
    const until = now + ROTATION_OVERLAP_MS;
    // One statement: the row lock orders two concurrent rotations (the second then takes
    // the first's new secret as its previous); SET reads the row as it was before the UPDATE.
    const { rows } = await this.db.query<{ previous: string }>(
      `UPDATE workspace_secrets SET previous_webhook_secret = webhook_secret, webhook_secret = $2, previous_valid_until = $3, rotated_at = $4
       WHERE workspace_id = $1 RETURNING previous_webhook_secret AS previous`,
      [workspaceId, secret, until, now],
    );
    return { secret, previous: rows[0]!.previous, previousValidUntil: until };
  }

  async unsubscribeKey(workspaceId: string, now: number): Promise<Buffer> {
    return Buffer.from((await this.ensure(workspaceId, now)).unsubscribe_key, 'base64');
  }

  async findUnsubscribeKey(workspaceId: string): Promise<Buffer | null> {
    const row = await this.find(workspaceId);
    return row ? Buffer.from(row.unsubscribe_key, 'base64') : null;
  }
}
