/**
 * The key store port: workspaces and API keys (secrets are stored as SHA-256 only).
 *
 * Test mode: a live workspace may have one test sibling (a workspace row whose
 * `liveWorkspaceId` names it), created on first need. Test keys (`sk_test_…`, `pk_test_…`)
 * belong to the sibling, so everything scoped by workspace id is isolated between the modes.
 */

export interface Workspace {
  id: string;
  name: string;
}

export interface ApiKeyRecord {
  id: string;
  workspaceId: string;
  /** The live workspace's name (for a test key too: its sibling has no name a person chose). */
  workspaceName: string;
  /** For a test key only: the live workspace whose test sibling `workspaceId` is. */
  liveWorkspaceId?: string;
  name: string;
  /** First characters of the secret, for recognising a key in listings. */
  prefix: string;
  /** SHA-256 hex of the secret; the secret itself is never stored. */
  hash: string;
  createdAt: number;
  revokedAt: number | null;
  /** Last authenticated request with this key, as servers record it (at most once a minute per key and process); null if never. */
  lastUsedAt: number | null;
}

export interface KeyStore {
  /** The workspace of this name, created if missing (`created` says which; of two racing callers one creates). */
  ensureWorkspace(name: string, now: number): Promise<Workspace & { created: boolean }>;
  /** The test sibling of a live workspace, created if missing (of two racing callers one creates). */
  ensureTestWorkspace(liveWorkspaceId: string, now: number): Promise<Workspace & { created: boolean }>;
  /** A workspace by id with the live workspace it is the test sibling of (null: it is live); null if unknown. */
  findWorkspace(id: string): Promise<(Workspace & { liveWorkspaceId: string | null }) | null>;
  createKey(input: { workspaceId: string; name: string; hash: string; prefix: string; now: number }): Promise<ApiKeyRecord>;
  listKeys(): Promise<ApiKeyRecord[]>;
  /** Active (not revoked) keys, for the in-memory authentication cache. */
  listActiveKeys(): Promise<ApiKeyRecord[]>;
  findActiveKeyByHash(hash: string): Promise<ApiKeyRecord | null>;
  /** Revokes by key id or by secret hash; returns the revoked key, or null when none matched. */
  revokeKey(idOrHash: string, now: number): Promise<ApiKeyRecord | null>;
  countActiveKeys(): Promise<number>;
  /** Records when keys were last used; a time older than the stored one changes nothing. */
  recordKeyUse(uses: { id: string; at: number }[]): Promise<void>;
}
