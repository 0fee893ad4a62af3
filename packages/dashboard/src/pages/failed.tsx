import { useState } from 'preact/hooks';
import { api, query, type ApiDelivery, type ApiEvent, type Page } from '../api';
import { PAGE_SIZE, PagedTable, Table, type Column } from '../list';
import { ActionButton, Link, Show, Time, useLoad } from '../ui';
import { DELIVERY_COLUMNS } from './deliveries';

interface DeadJob {
  id: number;
  kind: string;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  createdAt: string;
  finishedAt: string | null;
  workflowId: string;
  runId: string;
  deliveryId?: string;
}

/**
 * Retry of one failed thing: the dashboard's POST `path`, the same services as the public
 * API's retries. The row is updated in place from the answer and the button keeps the focus.
 */
function Retry<T>({ what, path, done, onRetried }: { what: string; path: string; done: boolean; onRetried: (v: T) => void }) {
  return <ActionButton label="Retry" doneLabel="Retried" ariaLabel={`${done ? 'Retried' : 'Retry'} ${what}`} done={done} run={() => api<T>(path, { body: {} })} onDone={onRetried} />;
}

export function FailedPage() {
  const [dead] = useLoad(() => api<{ deadJobs: { items: DeadJob[]; hasMore: boolean } }>('/dead-jobs'), []);
  const [retried, setRetried] = useState<Record<string, ApiDelivery>>({});
  const [retriedEvents, setRetriedEvents] = useState<Record<string, ApiEvent>>({});
  const [retriedJobs, setRetriedJobs] = useState<Record<number, string>>({});

  const deliveryColumns: Column<ApiDelivery>[] = [
    ...DELIVERY_COLUMNS,
    {
      header: '',
      cell: (d) => (
        <Retry<{ delivery: ApiDelivery }>
          what={`delivery ${d.id}`}
          path={`/webhook-deliveries/${encodeURIComponent(d.id)}/retry`}
          done={d.status !== 'failed'}
          onRetried={({ delivery: n }) => setRetried((r) => ({ ...r, [n.id]: n }))}
        />
      ),
    },
  ];
  const eventColumns: Column<ApiEvent>[] = [
    { header: 'Time', cell: (e) => <Time iso={e.timestamp} /> },
    { header: 'Event', cell: (e) => <Link href={`/events/${encodeURIComponent(e.messageId)}`}>{e.event}</Link> },
    { header: 'Email', cell: (e) => e.email },
    { header: 'Error', cell: (e) => e.error ?? '' },
    {
      header: '',
      cell: (e) => (
        <Retry<{ event: ApiEvent }>
          what={`event ${e.messageId}`}
          path={`/events/${encodeURIComponent(e.messageId)}/retry`}
          done={e.status !== 'failed'}
          onRetried={({ event: n }) => setRetriedEvents((r) => ({ ...r, [n.messageId]: n }))}
        />
      ),
    },
  ];
  const jobColumns: Column<DeadJob>[] = [
    { header: 'Job', cell: (j) => j.id },
    { header: 'Kind', cell: (j) => <code>{j.kind}</code> },
    {
      header: 'Run',
      cell: (j) => (
        <>
          <Link href={`/runs/${encodeURIComponent(j.runId)}`}>{j.runId}</Link>
          {j.deliveryId && (
            <>
              {' · '}
              <Link href={`/deliveries/${encodeURIComponent(j.deliveryId)}`}>{j.deliveryId}</Link>
            </>
          )}
        </>
      ),
    },
    { header: 'Attempts', cell: (j) => `${j.attempts} of ${j.maxAttempts}` },
    { header: 'Last error', cell: (j) => j.lastError ?? '' },
    { header: 'Gave up', cell: (j) => (j.finishedAt ? <Time iso={j.finishedAt} /> : '–') },
    {
      header: '',
      cell: (j) => (
        <Retry<{ job: { id: number; status: string } }>
          what={`job ${j.id}`}
          path={`/dead-jobs/${j.id}/retry`}
          done={retriedJobs[j.id] !== undefined}
          onRetried={({ job }) => setRetriedJobs((r) => ({ ...r, [job.id]: job.status }))}
        />
      ),
    },
  ];

  return (
    <section>
      <h1>Failed</h1>
      <p class="muted">What failed for good in this workspace: events whose processing failed, webhook deliveries whose every attempt failed, and workflow jobs that gave up.</p>

      <h2>Failed webhook deliveries</h2>
      <PagedTable
        testId="failed-deliveries"
        noun="failed deliveries"
        load={async (cursor) => (await api<{ deliveries: Page<ApiDelivery> }>(`/webhook-deliveries${query({ status: 'failed', cursor, limit: String(PAGE_SIZE) })}`)).deliveries}
        deps={[]}
        empty={<p class="empty">No failed deliveries: every webhook was delivered or is still being tried.</p>}
        present={(d) => retried[d.id] ?? d}
        columns={deliveryColumns}
        rowKey={(d) => d.id}
        rowClass={(d) => d.status}
      />

      <h2>Failed events</h2>
      <PagedTable
        testId="failed-events"
        noun="failed events"
        load={async (cursor) => (await api<{ events: Page<ApiEvent> }>(`/events${query({ status: 'failed', cursor, limit: String(PAGE_SIZE) })}`)).events}
        deps={[]}
        empty={<p class="empty">No failed events: every accepted event was processed or is queued.</p>}
        present={(e) => retriedEvents[e.messageId] ?? e}
        columns={eventColumns}
        rowKey={(e) => e.messageId}
        rowClass={(e) => e.status}
      />

      <h2>Dead workflow jobs</h2>
      <Show data={dead}>
        {(v) =>
          v.deadJobs.items.length === 0 ? (
            <p class="empty">No dead workflow jobs.</p>
          ) : (
            <Table testId="dead-jobs" columns={jobColumns} rows={v.deadJobs.items} rowKey={(j) => j.id} rowClass={(j) => retriedJobs[j.id] ?? 'failed'} />
          )
        }
      </Show>
    </section>
  );
}
