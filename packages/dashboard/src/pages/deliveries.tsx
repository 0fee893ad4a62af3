import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query, type ApiAttempt, type ApiDelivery, type Page } from '../api';
import { navigate } from '../router';
import { PAGE_SIZE, PagedTable, Table, type Column } from '../list';
import { Link, Show, Time, useLoad } from '../ui';

const STATUSES = ['pending', 'succeeded', 'failed'] as const;

function lastCode(d: ApiDelivery): string {
  const a = d.attempts[d.attempts.length - 1];
  return a ? (a.statusCode === null ? (a.error ?? 'no response') : String(a.statusCode)) : '–';
}

export const DELIVERY_COLUMNS: Column<ApiDelivery>[] = [
  { header: 'Delivery', cell: (d) => <Link href={`/deliveries/${encodeURIComponent(d.id)}`}>{d.id}</Link> },
  { header: 'Status', cell: (d) => <span class={`badge ${d.status}`}>{d.status}</span> },
  { header: 'URL', cell: (d) => <code>{d.url}</code> },
  { header: 'Attempts', cell: (d) => d.attempts.length },
  { header: 'Last answer', cell: lastCode },
  { header: 'Created', cell: (d) => <Time iso={d.createdAt} /> },
];

export function DeliveriesPage({ search }: { search: string }) {
  const params = new URLSearchParams(search);
  const status = params.get('status') ?? '';
  const workflowId = params.get('workflowId') ?? '';
  return (
    <section>
      <h1>Webhook deliveries</h1>
      <div class="row">
        <label>
          Status
          <select
            value={status}
            onChange={(e) => {
              navigate(`/deliveries${query({ status: (e.target as HTMLSelectElement).value, workflowId })}`);
            }}
          >
            <option value="">all</option>
            {STATUSES.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        {workflowId && (
          <span>
            Workflow <Link href={`/workflows/${encodeURIComponent(workflowId)}`}>{workflowId}</Link> · <Link href={`/deliveries${query({ status })}`}>all workflows</Link>
          </span>
        )}
      </div>
      <PagedTable
        testId="deliveries"
        noun="deliveries"
        load={async (cursor) => (await api<{ deliveries: Page<ApiDelivery> }>(`/webhook-deliveries${query({ status, workflowId, cursor, limit: String(PAGE_SIZE) })}`)).deliveries}
        deps={[status, workflowId]}
        empty={
          status === 'failed' ? (
            <p class="empty">No failed deliveries: every webhook was delivered or is still being tried.</p>
          ) : (
            <p class="empty">
              No webhook deliveries{status ? ` that are ${status}` : ''}. A delivery is made when a run reaches a webhook step of a{' '}
              <Link href="/workflows">workflow</Link>.
            </p>
          )
        }
        columns={DELIVERY_COLUMNS}
        rowKey={(d) => d.id}
        rowClass={(d) => d.status}
      />
    </section>
  );
}

const ATTEMPT_COLUMNS: Column<ApiAttempt>[] = [
  { header: 'At', cell: (a) => <Time iso={a.at} /> },
  { header: 'Status code', cell: (a) => a.statusCode ?? '–' },
  { header: 'Latency', cell: (a) => `${a.latencyMs} ms` },
  {
    header: 'Response (first 1 KB)',
    cell: (a) => (
      <>
        {a.error && <p class="error">{a.error}</p>}
        {a.response ? <pre>{a.response}</pre> : <span class="muted">(empty)</span>}
      </>
    ),
  },
];

/** While a delivery is pending (after a retry), it is read again every second until it is not. */
const POLL_MS = 1000;

export function DeliveryPage({ id }: { id: string }) {
  const path = `/webhook-deliveries/${encodeURIComponent(id)}`;
  const [data, reload] = useLoad(() => api<{ delivery: ApiDelivery }>(path), [id]);
  const [fresh, setFresh] = useState<ApiDelivery | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The Retry button goes away once pressed: the focus moves to the delivery's status line.
  const statusLine = useRef<HTMLParagraphElement>(null);
  const d = fresh ?? (data.state === 'ok' ? data.value.delivery : null);
  useEffect(() => {
    if (d?.status !== 'pending') return;
    const t = setTimeout(() => {
      api<{ delivery: ApiDelivery }>(path).then(
        (v) => setFresh(v.delivery),
        (err: Error) => setError(err.message),
      );
    }, POLL_MS);
    return () => clearTimeout(t);
  }, [d]);
  const retry = async () => {
    setBusy(true);
    setError(null);
    try {
      setFresh((await api<{ delivery: ApiDelivery }>(`${path}/retry`, { body: {} })).delivery);
      setTimeout(() => statusLine.current?.focus(), 0);
    } catch (err) {
      setError((err as Error).message);
      setFresh(null);
      reload();
    } finally {
      setBusy(false);
    }
  };
  return (
    <Show data={data}>
      {() =>
        d && (
          <section>
            <p>
              <Link href="/deliveries">← Webhook deliveries</Link>
            </p>
            <h1>
              Delivery {d.id}{' '}
              <span class={`badge ${d.status}`} data-testid="delivery-status">
                {d.status}
              </span>
            </h1>
            <dl class="facts">
              <dt>URL</dt>
              <dd>
                <code>{d.url}</code>
              </dd>
              <dt>Workflow</dt>
              <dd>
                <Link href={`/workflows/${encodeURIComponent(d.workflowId)}`}>{d.workflowId}</Link>
              </dd>
              <dt>Run · step</dt>
              <dd>
                <Link href={`/runs/${encodeURIComponent(d.runId)}`}>{d.runId}</Link> · {d.stepId}
              </dd>
              <dt>Created</dt>
              <dd>
                <Time iso={d.createdAt} />
              </dd>
              {d.nextAttemptAt && (
                <>
                  <dt>Next attempt</dt>
                  <dd>
                    <Time iso={d.nextAttemptAt} />
                  </dd>
                </>
              )}
            </dl>
            {d.status === 'failed' && (
              <p class="row">
                <button type="button" disabled={busy} onClick={() => void retry()}>
                  Retry
                </button>
                <span class="muted">Sends the delivery again, with the same webhook-id; the run goes on if it succeeds.</span>
              </p>
            )}
            <p class="muted" role="status" tabIndex={-1} ref={statusLine}>
              {d.status === 'pending' ? 'Delivering…' : d.status === 'succeeded' ? `Delivered, in ${d.attempts.length} attempt${d.attempts.length === 1 ? '' : 's'}.` : 'Not delivered: every attempt failed.'}
            </p>
            {error && (
              <p class="error" role="alert">
                {error}
              </p>
            )}
            <h2>Attempts</h2>
            {d.attempts.length === 0 ? (
              <p class="empty">No attempt yet: the first one is queued.</p>
            ) : (
              <Table testId="attempts" rows={d.attempts} columns={ATTEMPT_COLUMNS} />
            )}
          </section>
        )
      }
    </Show>
  );
}
