import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { ApiKeyRecord, KeyStore } from './key-store.port.js';

export interface AuthenticatedKey {
  keyId: string;
  keyName: string;
  /** First characters of the secret (as `keys list` shows them). */
  keyPrefix: string;
  workspaceId: string;
  workspaceName: string;
}

interface Entry {
  /** Shared by every request with this key (frozen): authentication allocates nothing. */
  auth: Readonly<AuthenticatedKey>;
  hash: Buffer;
}

/** A key's last use is written at most this often per key and process (a minute of lag in `keys list`). */
export const KEY_USE_WRITE_EVERY_MS = 60_000;

function entryOf(k: ApiKeyRecord): Entry {
  return {
    auth: Object.freeze({ keyId: k.id, keyName: k.name, keyPrefix: k.prefix, workspaceId: k.workspaceId, workspaceName: k.workspaceName }),
    hash: Buffer.from(k.hash, 'hex'),
  };
}

export function hashKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * Authentication without a database round trip per request: active keys (by SHA-256 of the
 * secret) live in memory and are reloaded every `refreshMs`, so a revoked key is refused by
 * every process within that interval. A key not in memory is looked up once, so a key minted
 * by the CLI while the server runs works at once.
 *
 * Last use (for `smashsend keys list`) costs a request one Map write: the reload tick writes
 * the keys used since, each at most once a minute, in one statement; close writes the rest.
 */
export class KeyCache {
  private entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;
  private generation = 0;
  /** keyId → time of its latest use not yet written. */
  private unwrittenUse = new Map<string, number>();
  /** keyId → when its use was last written by this process. */
  private writtenAt = new Map<string, number>();

  constructor(
    private readonly keys: KeyStore,
    private readonly refreshMs: number,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => {
      this.reload().catch((err) => this.log.warn({ err }, 'key cache reload failed; keeping the previous keys'));
      this.writeUse(false).catch((err) => this.log.warn({ err }, 'recording key use failed; retried at the next tick'));
    }, this.refreshMs);
    this.timer.unref();
  }

  /** Stops reloading and writes the key uses not written yet. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.writeUse(true).catch((err) => this.log.warn({ err }, 'recording key use failed at shutdown'));
  }

  private async writeUse(all: boolean): Promise<void> {
    const now = Date.now();
    const due: { id: string; at: number }[] = [];
    for (const [id, at] of this.unwrittenUse) {
      if (all || now - (this.writtenAt.get(id) ?? -Infinity) >= KEY_USE_WRITE_EVERY_MS) due.push({ id, at });
    }
    if (due.length === 0) return;
    for (const u of due) {
      this.unwrittenUse.delete(u.id);
      this.writtenAt.set(u.id, now);
    }
    try {
      await this.keys.recordKeyUse(due);
    } catch (err) {
      for (const u of due) if (!this.unwrittenUse.has(u.id)) this.unwrittenUse.set(u.id, u.at);
      throw err;
    }
  }

  async reload(): Promise<void> {
    const gen = ++this.generation;
    const active = await this.keys.listActiveKeys();
    if (gen !== this.generation) return;
    const next = new Map<string, Entry>();
    for (const k of active) next.set(k.hash, entryOf(k));
    this.entries = next;
  }

  async authenticate(secret: string): Promise<Readonly<AuthenticatedKey> | null> {
    if (!secret.startsWith('sk_') || secret.length > 200) return null;
    const hex = hashKey(secret);
    let entry = this.entries.get(hex);
    if (!entry) {
      const found = await this.keys.findActiveKeyByHash(hex);
      if (!found) return null;
      entry = entryOf(found);
      this.entries.set(hex, entry);
    }
    // The map lookup is by a hash of the secret; compare in constant time all the same.
    if (!timingSafeEqual(entry.hash, Buffer.from(hex, 'hex'))) return null;
    this.unwrittenUse.set(entry.auth.keyId, Date.now());
    return entry.auth;
  }
}
