/** workspace_secrets rows (migrations/*\/..._workspace_secrets.sql), shared by both adapters. */
import { randomBytes } from 'node:crypto';
import { generateWebhookSecret } from '../../workflows/transports/webhook-signing.js';

export interface SecretRow {
  webhook_secret: string;
  previous_webhook_secret: string | null;
  previous_valid_until: number | null;
  unsubscribe_key: string;
}

export const SECRET_COLUMNS = 'webhook_secret, previous_webhook_secret, previous_valid_until, unsubscribe_key';

/** The values of a new row: a signing secret and a 32-byte unsubscribe key (base64). */
export function newSecrets(): { webhookSecret: string; unsubscribeKey: string } {
  return { webhookSecret: generateWebhookSecret(), unsubscribeKey: randomBytes(32).toString('base64') };
}

/** Current first, then the previous one while `now` is before its end. */
export function signingSecretsOf(row: SecretRow, now: number): string[] {
  const out = [row.webhook_secret];
  if (row.previous_webhook_secret !== null && row.previous_valid_until !== null && now < row.previous_valid_until) out.push(row.previous_webhook_secret);
  return out;
}
