import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { ApiKeyRecord, KeyStore } from './key-store.port.js';
import { isTestKey } from './workspace-modes.js';

export interface AuthenticatedKey {
  keyId: string;
  keyName: string;
  /** First characters of the secret (as `keys list` shows them). */
  keyPrefix: string;
  workspaceId: string;
  workspaceName: string;
  /**
   * A publishable key (`pk_live_…`, SPEC.md): it may only send events (the Segment-compatible
   * paths and POST /v1/events[/batch]); every other endpoint answers it 401. Known from the
   * stored prefix, so it needs no column of its own.
   */
  publishable: boolean;
  /**
   * A test key (`sk_test_…`, `pk_test_…`): `workspaceId` is then the live workspace's test
   * sibling (the key is stored on it), so everything it sends or reads is test mode's.
   */
  test: boolean;
}

/** Whether a secret (or its stored prefix) is a publishable key. */
export function isPublishable(secretOrPrefix: string): boolean {
  return secretOrPrefix.startsWith('pk_');
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
    auth: Object.freeze({
      keyId: k.id,
      keyName: k.name,
      keyPrefix: k.prefix,
      workspaceId: k.workspaceId,
      workspaceName: k.workspaceName,
      publishable: isPublishable(k.prefix),
      // Both must agree: a test prefix on a live workspace (or the reverse) would mix the modes.
      test: isTestKey(k.prefix) && k.liveWorkspaceId !== undefined,
    }),
    hash: Buffer.from(k.hash, 'hex'),
  };
}

export function hashKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Unknown keys remembered at most this many at once (oldest forgotten first): ~1 MB. */
const MAX_MISSES = 10_000;
/**
 * How long a miss is remembered. It can be long: a key created later is found by the periodic
 * reload (the entries are checked before the misses), so this never delays a new key.
 */
const MISS_TTL_MS = 60_000;
/** Lookups of unknown keys per second, beyond which an unknown key is refused without one. */
const MAX_MISS_LOOKUPS_PER_SECOND = 50;

/**
 * Authentication without a database round trip per request: active keys (by SHA-256 of the
 * secret) live in memory and are reloaded every `refreshMs`, so a revoked key is refused by
 * every process within that interval. A key not in memory is looked up once, so a key minted
 * by the CLI while the server runs works at once.
 *
 * Last use (for `smashsend keys list`) costs a request one Map write: the reload tick writes
 * the keys used since, each at most once a minute, in one statement; close writes the rest.
 *
 * Unknown `sk_` / `pk_` keys must not become database load (a client stuck on a revoked key, a
 * scanner): concurrent lookups of one hash share one query; a miss is remembered for a
 * minute (bounded to MAX_MISSES); and at most MAX_MISS_LOOKUPS_PER_SECOND lookups run
 * per second, beyond which an unknown key is a 401 at once. None of this delays a new key by
 * more than `refreshMs` (at most 5 s, SPEC.md), because the periodic reload brings every
 * active key into memory, and the entries are checked before the misses.
 */
export class KeyCache {
  private entries = new Map<string, Entry>();
  /** Hash of an unknown key → when the miss expires. */
  private misses = new Map<string, number>();
  private lookups = new Map<string, Promise<Entry | null>>();
  private lookupWindow = { start: 0, count: 0 };
  private timer: NodeJS.Timeout | null = null;
  private generation = 0;
  /** keyId → time of its latest use not yet written. */
  private unwrittenUse = new Map<string, number>();
  /** keyId → when its use was last written by this process. */
  private writtenAt = new Map<string, number>();
  private reloadFailing = false;

  constructor(
    private readonly keys: KeyStore,
    private readonly refreshMs: number,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  async start(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => {
      this.reload().then(
        () => {
          if (this.reloadFailing) this.log.info('key cache reload works again');
          this.reloadFailing = false;
        },
        (err: unknown) => {
          // Once per failure streak: during an outage this would otherwise log every refreshMs.
          if (!this.reloadFailing) this.log.warn({ err }, 'key cache reload failed; keeping the previous keys');
          this.reloadFailing = true;
        },
      );
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
    if (!(secret.startsWith('sk_') || secret.startsWith('pk_')) || secret.length > 200) return null;
    const hex = hashKey(secret);
    let entry = this.entries.get(hex) ?? null;
    if (!entry) {
      entry = await this.lookUp(hex);
      if (!entry) return null;
    }
    // The map lookup is by a hash of the secret; compare in constant time all the same.
    // (A hit in the miss map says nothing secret either: it holds only keys that do not exist.)
    if (!timingSafeEqual(entry.hash, Buffer.from(hex, 'hex'))) return null;
    this.unwrittenUse.set(entry.auth.keyId, Date.now());
    return entry.auth;
  }

  /** One store lookup for a key not in memory, shared by concurrent callers, with misses remembered. */
  private lookUp(hex: string): Promise<Entry | null> {
    const now = this.clock();
    const missUntil = this.misses.get(hex);
    if (missUntil !== undefined) {
      if (missUntil > now) return Promise.resolve(null);
      this.misses.delete(hex);
    }
    const pending = this.lookups.get(hex);
    if (pending) return pending;
    if (now - this.lookupWindow.start >= 1000) this.lookupWindow = { start: now, count: 0 };
    if (++this.lookupWindow.count > MAX_MISS_LOOKUPS_PER_SECOND) return Promise.resolve(null);

    const p = this.keys.findActiveKeyByHash(hex).then((found) => {
      if (!found) {
        if (this.misses.size >= MAX_MISSES) this.misses.delete(this.misses.keys().next().value!);
        this.misses.set(hex, this.clock() + MISS_TTL_MS);
        return null;
      }
      const entry = entryOf(found);
      this.entries.set(hex, entry);
      return entry;
    });
    this.lookups.set(hex, p);
    const done = () => this.lookups.delete(hex);
    p.then(done, done);
    return p;
  }
}
