/**
 * The workspace secrets port: per workspace, the webhook signing secret (created on first
 * use, rotated with a 24 h overlap) and the key unsubscribe tokens are signed with. One row
 * per workspace; adapters make both on first use, so two racing first calls agree.
 */

/** How long the previous signing secret keeps being sent after a rotation (SPEC.md: 24 h). */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

export interface WebhookSecretRotation {
  /** The new current secret. */
  secret: string;
  /** The secret it replaced, still sent until `previousValidUntil`. */
  previous: string;
  previousValidUntil: number;
}

export interface WorkspaceSecretStore {
  /** The current signing secret (`whsec_…`), created on first use. */
  webhookSecret(workspaceId: string, now: number): Promise<string>;
  /**
   * What to sign a delivery with at `now`: the current secret first, then the previous one
   * while `now` is within 24 h of the rotation that replaced it. Creates the current on first use.
   */
  signingSecrets(workspaceId: string, now: number): Promise<string[]>;
  /**
   * Makes a new current secret; the one it replaces stays valid for 24 h from `now`. A
   * second rotation within those 24 h ends the older secret's overlap at once (only one
   * previous secret is kept).
   */
  rotateWebhookSecret(workspaceId: string, now: number): Promise<WebhookSecretRotation>;
  /** The 32-byte HMAC key of the workspace's unsubscribe tokens, created on first use. */
  unsubscribeKey(workspaceId: string, now: number): Promise<Buffer>;
  /** The same key without creating it (for verifying tokens from unauthenticated requests); null when none exists. */
  findUnsubscribeKey(workspaceId: string): Promise<Buffer | null>;
}
