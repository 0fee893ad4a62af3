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
 */
export class KeyCache {
  private entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;
  private generation = 0;

  constructor(
    private readonly keys: KeyStore,
    private readonly refreshMs: number,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => {
      this.reload().catch((err) => this.log.warn({ err }, 'key cache reload failed; keeping the previous keys'));
    }, this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
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
    return timingSafeEqual(entry.hash, Buffer.from(hex, 'hex')) ? entry.auth : null;
  }
}
