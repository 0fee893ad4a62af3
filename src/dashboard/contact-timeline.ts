/**
 * The contact page's timeline: the contact's events, its segment enters / exits and its
 * workflow runs (with each step's status), merged newest first. Each kind is bounded on its
 * own (TIMELINE_LIMIT of each), read through the ports the /v1 routes use: the event reader,
 * SegmentStore.contactTransitions, and listRunsPage (GET /v1/workflows/:id/runs?contactId=)
 * for each workflow of the workspace.
 */
import type { ContactRecord } from '../contacts/contact-store.port.js';
import type { EventReader } from '../events-read/event-reader.port.js';
import { presentEvent } from '../events-read/present-event.js';
import { iso } from '../http/paging.js';
import type { SegmentStore } from '../segments/segment-store.port.js';
import type { WorkflowStore } from '../workflows/workflow-store.port.js';
import { listRunsPage } from '../workflows/workflows.routes.js';

/** At most this many of each kind (events, segment transitions, runs): at most 300 entries. */
export const TIMELINE_LIMIT = 100;

export type TimelineEntry =
  | { kind: 'event'; at: string; event: Record<string, unknown> }
  | { kind: 'segment'; at: string; segmentId: string; segmentName: string | null; on: 'enter' | 'exit' }
  | { kind: 'run'; at: string; workflowName: string; run: Record<string, unknown> };

export async function contactTimeline(
  deps: { events: EventReader; segments: Pick<SegmentStore, 'contactTransitions'>; workflows: WorkflowStore },
  workspaceId: string,
  contact: Pick<ContactRecord, 'id' | 'email'>,
): Promise<{ events: Record<string, unknown>[]; timeline: TimelineEntry[] }> {
  const [events, transitions, workflows] = await Promise.all([
    deps.events.list({ workspaceId, email: contact.email, limit: TIMELINE_LIMIT }),
    deps.segments.contactTransitions(workspaceId, contact.id, TIMELINE_LIMIT),
    deps.workflows.forWorkspace(workspaceId),
  ]);
  // One index range per workflow (workflow_runs_by_contact); a workspace has few workflows.
  const runs: TimelineEntry[] = [];
  for (const wf of workflows.workflows) {
    const page = await listRunsPage(deps.workflows, workspaceId, wf.id, { contactId: contact.id, limit: String(TIMELINE_LIMIT) });
    for (const run of page.runs.items) runs.push({ kind: 'run', at: String(run.createdAt), workflowName: wf.definition.name, run });
  }
  runs.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  const presented = events.items.map(presentEvent);
  const timeline: TimelineEntry[] = [
    ...presented.map((e): TimelineEntry => ({ kind: 'event', at: String(e.timestamp), event: e })),
    ...transitions.map((t): TimelineEntry => ({ kind: 'segment', at: iso(t.at), segmentId: t.segmentId, segmentName: t.segmentName, on: t.on })),
    ...runs.slice(0, TIMELINE_LIMIT),
  ];
  // Newest first; ISO strings of one format compare as times. Stable: each kind keeps its order on ties.
  timeline.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  return { events: presented, timeline };
}
