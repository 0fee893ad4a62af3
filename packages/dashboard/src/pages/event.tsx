import { api, type ApiContact, type ApiEvent } from '../api';
import { Table } from '../list';
import { Json, Link, Show, Time, useLoad } from '../ui';
import { Violations } from './tracking-plan';

/** One entry of the event trace: a workflow the event started, or why it did not. */
interface TraceEntry {
  workflowId: string;
  runId?: string;
  outcome: 'started' | 'not_entered';
  reason?: string;
}

const REASONS: Record<string, string> = {
  backdated: 'the event is older than the workflow',
  already_entered: 'the contact already entered it',
  filtered: 'the trigger’s condition did not hold',
  paused: 'the workflow was paused',
};

export function EventPage({ messageId }: { messageId: string }) {
  const [data] = useLoad(
    () => api<{ event: ApiEvent; contact: ApiContact | null; workflows: TraceEntry[] }>(`/events/${encodeURIComponent(messageId)}`),
    [messageId],
  );
  return (
    <Show data={data}>
      {({ event: e, contact, workflows }) => (
        <section>
          <p>
            <Link href="/live">← Live events</Link>
          </p>
          <h1>
            {e.event} <span class={`badge ${e.status}`}>{e.status}</span>
          </h1>
          <dl class="facts">
            <dt>messageId</dt>
            <dd>
              <code>{e.messageId}</code>
            </dd>
            <dt>Contact</dt>
            <dd>{contact ? <Link href={`/contacts/${encodeURIComponent(contact.id)}`}>{e.email}</Link> : e.email}</dd>
            <dt>Source</dt>
            <dd data-testid="event-source">{e.source === 'segment' ? 'Segment-compatible API' : 'API'}</dd>
            <dt>Event time</dt>
            <dd>
              <Time iso={e.timestamp} />
            </dd>
            <dt>Received</dt>
            <dd>
              <Time iso={e.receivedAt} />
            </dd>
            {e.error && (
              <>
                <dt>Error</dt>
                <dd class="error">{e.error}</dd>
              </>
            )}
          </dl>
          {e.violations && (
            <>
              <h2>Tracking plan violations</h2>
              <Violations list={e.violations} />
            </>
          )}
          <h2>Payload</h2>
          <Json value={{ properties: e.properties, traits: e.traits }} />
          <h2>Workflows</h2>
          {workflows.length === 0 ? (
            <p class="empty">{e.status === 'queued' ? 'Not processed yet.' : 'No workflow is triggered by this event.'}</p>
          ) : (
            <Table
              rows={workflows}
              rowKey={(w) => w.workflowId}
              columns={[
                { header: 'Workflow', cell: (w) => <code>{w.workflowId}</code> },
                { header: 'Outcome', cell: (w) => (w.outcome === 'started' ? 'started' : `not entered: ${REASONS[w.reason ?? ''] ?? w.reason ?? 'unknown'}`) },
                { header: 'Run', cell: (w) => (w.runId ? <code>{w.runId}</code> : '–') },
              ]}
            />
          )}
        </section>
      )}
    </Show>
  );
}
