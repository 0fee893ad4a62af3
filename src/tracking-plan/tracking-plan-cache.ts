/**
 * Compiled tracking plans per workspace, in this process's memory: what the ingest hot path
 * asks on every request (ingest.service.ts PlanChecks).
 *
 * A copy is trusted for REFRESH_MS (1 s); after that the next request reads the workspace's
 * plan version (one primary-key read) and recompiles only when it changed. A PUT or DELETE
 * through this process drops its copy at once (invalidate), so the next event here sees the
 * new plan; other processes (several `serve` on PostgreSQL, or the CLI writing the store)
 * are seen within about a second. Concurrent requests of a stale workspace share one read.
 * If that read fails, the stale copy is kept for another second rather than failing ingest
 * (the append that follows would report a store that is really down).
 */
import type { PlanChecks } from '../ingest/ingest.service.js';
import { CompiledPlan } from './tracking-plan.js';
import type { TrackingPlanStore } from './tracking-plan-store.port.js';

export const REFRESH_MS = 1000;
/** Workspaces remembered; past it the memory is dropped whole (a copy is one read away). */
const MAX_WORKSPACES = 10_000;

interface Entry {
  version: number;
  plan: CompiledPlan | null;
  checkedAt: number;
  loading: Promise<CompiledPlan | null> | null;
}

export class TrackingPlanCache implements PlanChecks {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly store: Pick<TrackingPlanStore, 'get' | 'version'>,
    /** Monotonic milliseconds (not the API clock, which tests may freeze). */
    private readonly monotonic: () => number = () => performance.now(),
  ) {}

  current(workspaceId: string): CompiledPlan | null | Promise<CompiledPlan | null> {
    const e = this.entries.get(workspaceId);
    if (e && this.monotonic() - e.checkedAt < REFRESH_MS) return e.plan;
    if (e?.loading) return e.loading;
    return this.refresh(workspaceId, e);
  }

  /** Forgets the workspace's copy: the next request reads the store. */
  invalidate(workspaceId: string): void {
    this.entries.delete(workspaceId);
  }

  private refresh(workspaceId: string, stale: Entry | undefined): Promise<CompiledPlan | null> {
    const started = this.monotonic();
    // Assigned before the first await inside resolves: the check below compares against it.
    let loading: Promise<CompiledPlan | null> | undefined = undefined;
    loading = (async (): Promise<CompiledPlan | null> => {
      let entry: Entry;
      try {
        const version = await this.store.version(workspaceId);
        if (stale && stale.version === version) {
          entry = { ...stale, checkedAt: started, loading: null };
        } else {
          const stored = version === 0 ? null : await this.store.get(workspaceId);
          entry = { version: stored?.version ?? version, plan: stored ? new CompiledPlan(stored.plan, stored.version) : null, checkedAt: started, loading: null };
        }
      } catch (err) {
        if (!stale) {
          this.entries.delete(workspaceId);
          throw err;
        }
        entry = { ...stale, checkedAt: started, loading: null };
      }
      // An invalidate() while this read ran wins: its entry is gone, and this answer may predate the write.
      if (this.entries.get(workspaceId)?.loading !== loading) return entry.plan;
      this.entries.set(workspaceId, entry);
      return entry.plan;
    })();
    if (this.entries.size >= MAX_WORKSPACES && !this.entries.has(workspaceId)) this.entries.clear();
    this.entries.set(workspaceId, stale ? { ...stale, loading } : { version: -1, plan: null, checkedAt: -Infinity, loading });
    return loading;
  }
}
