import { useState } from 'preact/hooks';
import { api, type ApiDelivery, type ApiEvent, type Page } from '../api';
import { Link, Show, Time, useLoad } from '../ui';

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

/** Retry of a failed delivery: the same service as POST /v1/webhook-deliveries/:id/retry. The row is updated in place and the button keeps the focus. */
function RetryButton({ d, onRetried }: { d: ApiDelivery; onRetried: (d: ApiDelivery) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const done = d.status !== 'failed';
  return (
    <>
      <button
        type="button"
        aria-disabled={busy || done}
        aria-label={done ? `Retried delivery ${d.id}` : `Retry delivery ${d.id}`}
        onClick={async () => {
          if (busy || done) return;
          setBusy(true);
          setError(null);
          try {
            onRetried((await api<{ delivery: ApiDelivery }>(`/webhook-deliveries/${encodeURIComponent(d.id)}/retry`, { body: {} })).delivery);
          } catch (err) {
            setError((err as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        {done ? 'Retried' : 'Retry'}
      </button>
      {error && (
        <span class="error" role="alert">
          {' '}
          {error}
        </span>
      )}
    </>
  );
}

export function FailedPage() {
  const [events] = useLoad(() => api<{ events: Page<ApiEvent> }>('/events?status=failed&limit=50'), []);
  const [deliveries] = useLoad(() => api<{ deliveries: Page<ApiDelivery> }>('/webhook-deliveries?status=failed&limit=50'), []);
  const [dead] = useLoad(() => api<{ deadJobs: { items: DeadJob[]; hasMore: boolean } }>('/dead-jobs'), []);
  const [retried, setRetried] = useState<Record<string, ApiDelivery>>({});
  return (
    <section>
      <h1>Failed</h1>
      <p class="muted">What failed for good in this workspace: events whose processing failed, webhook deliveries whose every attempt failed, and workflow jobs that gave up.</p>

      <h2>Failed webhook deliveries</h2>
      <Show data={deliveries}>
        {(v) =>
          v.deliveries.items.length === 0 ? (
            <p class="empty">No failed deliveries: every webhook was delivered or is still being tried.</p>
          ) : (
            <>
              <div class="scroll">
                <table data-testid="failed-deliveries">
                  <thead>
                    <tr>
                      <th>Delivery</th>
                      <th>Status</th>
                      <th>URL</th>
                      <th>Attempts</th>
                      <th>Last error</th>
                      <th>Created</th>
                      <th>
                        <span class="sr">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {v.deliveries.items.map((listed) => retried[listed.id] ?? listed).map((d) => {
                      const last = d.attempts[d.attempts.length - 1];
                      return (
                        <tr key={d.id} class={d.status}>
                          <td>
                            <Link href={`/deliveries/${encodeURIComponent(d.id)}`}>{d.id}</Link>
                          </td>
                          <td>
                            <span class={`badge ${d.status}`}>{d.status}</span>
                          </td>
                          <td>
                            <code>{d.url}</code>
                          </td>
                          <td>{d.attempts.length}</td>
                          <td>{last ? (last.error ?? (last.statusCode !== null ? `HTTP ${last.statusCode}` : 'no response')) : '–'}</td>
                          <td>
                            <Time iso={d.createdAt} />
                          </td>
                          <td>
                            <RetryButton d={d} onRetried={(n) => setRetried((r) => ({ ...r, [n.id]: n }))} />
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
              {v.deliveries.hasMore && (
                <p>
                  <Link href="/deliveries?status=failed">All failed deliveries</Link>
                </p>
              )}
            </>
          )
        }
      </Show>

      <h2>Failed events</h2>
      <Show data={events}>
        {(v) =>
          v.events.items.length === 0 ? (
            <p class="empty">No failed events: every accepted event was processed or is queued.</p>
          ) : (
            <div class="scroll">
              <table data-testid="failed-events">
                <thead>
                  <tr>
                    <th>Time</th>
                    <th>Event</th>
                    <th>Email</th>
                    <th>Error</th>
                  </tr>
                </thead>
                <tbody>
                  {v.events.items.map((e) => (
                    <tr class="failed">
                      <td>
                        <Time iso={e.timestamp} />
                      </td>
                      <td>
                        <Link href={`/events/${encodeURIComponent(e.messageId)}`}>{e.event}</Link>
                      </td>
                      <td>{e.email}</td>
                      <td>{e.error ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>

      <h2>Dead workflow jobs</h2>
      <Show data={dead}>
        {(v) =>
          v.deadJobs.items.length === 0 ? (
            <p class="empty">No dead workflow jobs.</p>
          ) : (
            <div class="scroll">
              <table data-testid="dead-jobs">
                <thead>
                  <tr>
                    <th>Job</th>
                    <th>Kind</th>
                    <th>Run</th>
                    <th>Attempts</th>
                    <th>Last error</th>
                    <th>Gave up</th>
                  </tr>
                </thead>
                <tbody>
                  {v.deadJobs.items.map((j) => (
                    <tr class="failed">
                      <td>{j.id}</td>
                      <td>
                        <code>{j.kind}</code>
                      </td>
                      <td>
                        <Link href={`/runs/${encodeURIComponent(j.runId)}`}>{j.runId}</Link>
                        {j.deliveryId && (
                          <>
                            {' · '}
                            <Link href={`/deliveries/${encodeURIComponent(j.deliveryId)}`}>{j.deliveryId}</Link>
                          </>
                        )}
                      </td>
                      <td>
                        {j.attempts} of {j.maxAttempts}
                      </td>
                      <td>{j.lastError ?? ''}</td>
                      <td>{j.finishedAt ? <Time iso={j.finishedAt} /> : '–'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
    </section>
  );
}
