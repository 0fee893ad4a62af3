/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): `v1,<base64 HMAC-SHA256>`
 * of `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the bytes the secret's base64 part
 * (after `whsec_`) decodes to. Pure apart from the random bytes of a new secret.
 */
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new signing secret: `whsec_` + base64 of 24 random bytes (192 bits; the spec asks 24–64). */
export function generateWebhookSecret(): string {
  return PREFIX + randomBytes(24).toString('base64');
}

/** The key bytes of a `whsec_…` secret (a secret without the prefix is taken as base64 all the same). */
export function webhookSecretKey(secret: string): Buffer {
  const b64 = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret;
  const key = Buffer.from(b64, 'base64');
  if (key.length === 0) throw new Error('webhook secret is empty');
  return key;
}

/** "v1,<base64 HMAC-SHA256 of `${id}.${timestampSec}.${body}`>" keyed with the base64-decoded part after whsec_. */
export function signWebhook(secret: string, id: string, timestampSec: number, body: string): string {
  const mac = createHmac('sha256', webhookSecretKey(secret)).update(`${id}.${timestampSec}.${body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/** Space-separated signatures, current secret first (two during the 24 h after a rotation). */
export function signatureHeader(secrets: string[], id: string, timestampSec: number, body: string): string {
  if (secrets.length === 0) throw new Error('no webhook secret to sign with');
  return secrets.map((s) => signWebhook(s, id, timestampSec, body)).join(' ');
}
