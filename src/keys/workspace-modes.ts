/**
 * Test mode (SPEC.md, "Testing and governance of events"). A workspace's test mode is its
 * test sibling: a workspace row of its own (KeyStore.ensureTestWorkspace), so events,
 * dedup, contacts, segments, workflows, runs, deliveries, signing secrets and rate-limit
 * buckets are isolated between the modes by the workspace id every query already takes.
 *
 * What is not data, the side effects, asks this lookup: a test-mode email goes to the outbox
 * (never SMTP), a test-mode webhook is sent only to a step marked `"test": true`.
 */
import type { ApiKeyRecord, KeyStore } from './key-store.port.js';

export type KeyMode = 'live' | 'test';

/** A test key's secret (or stored prefix): `sk_test_…` / `pk_test_…`. */
export function isTestKey(secretOrPrefix: string): boolean {
  return secretOrPrefix.startsWith('sk_test_') || secretOrPrefix.startsWith('pk_test_');
}

/** The live workspace a key belongs to (a test key's workspace is the live one's sibling). */
export function liveWorkspaceIdOf(k: Pick<ApiKeyRecord, 'workspaceId' | 'liveWorkspaceId'>): string {
  return k.liveWorkspaceId ?? k.workspaceId;
}

/**
 * Entries kept per map: a workspace id and a flag are ~100 bytes, so at most ~1 MB each.
 * Past it the map starts over (the answers never change, so forgetting costs one query).
 */
const MAX_ENTRIES = 10_000;

/**
 * Which mode a workspace is in, and the test sibling of a live one, cached for good: a
 * workspace is created live or test and never changes, and a sibling, once made, stays.
 * So the email and webhook steps pay one query per workspace and process, not per step.
 */
export class WorkspaceModes {
  private readonly testIds = new Map<string, boolean>();
  private readonly siblings = new Map<string, string>();

  constructor(
    private readonly keys: Pick<KeyStore, 'findWorkspace' | 'ensureTestWorkspace'>,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Whether the workspace is a test sibling (an unknown workspace is not). */
  async isTest(workspaceId: string): Promise<boolean> {
    const known = this.testIds.get(workspaceId);
    if (known !== undefined) return known;
    const ws = await this.keys.findWorkspace(workspaceId);
    const test = ws !== null && ws.liveWorkspaceId !== null;
    if (ws) remember(this.testIds, workspaceId, test);
    return test;
  }

  /** The test sibling's id of a live workspace, created on first need. */
  async testWorkspaceOf(liveWorkspaceId: string): Promise<string> {
    const known = this.siblings.get(liveWorkspaceId);
    if (known !== undefined) return known;
    const ws = await this.keys.ensureTestWorkspace(liveWorkspaceId, this.clock());
    remember(this.siblings, liveWorkspaceId, ws.id);
    remember(this.testIds, ws.id, true);
    return ws.id;
  }
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MAX_ENTRIES) map.clear();
  map.set(key, value);
}
