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

/**
 * Retry of one failed thing (a delivery, an event, a dead job): the dashboard's POST `path`,
 * the same services as the public API's retries. The row is updated in place from the answer
 * and the button keeps the focus.
 */
function RetryButton<T>({ what, path, done, onRetried }: { what: string; path: string; done: boolean; onRetried: (v: T) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <button
        type="button"
        aria-disabled={busy || done}
        aria-label={done ? `Retried ${what}` : `Retry ${what}`}
        onClick={async () => {
          if (busy || done) return;
          setBusy(true);
          setError(null);
          try {
            onRetried(await api<T>(path, { body: {} }));
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
  const [retriedEvents, setRetriedEvents] = useState<Record<string, ApiEvent>>({});
  const [retriedJobs, setRetriedJobs] = useState<Record<number, string>>({});
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
                            <RetryButton<{ delivery: ApiDelivery }>
                              what={`delivery ${d.id}`}
                              path={`/webhook-deliveries/${encodeURIComponent(d.id)}/retry`}
                              done={d.status !== 'failed'}
                              onRetried={({ delivery: n }) => setRetried((r) => ({ ...r, [n.id]: n }))}
                            />
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
                    <th>
                      <span class="sr">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {v.events.items.map((listed) => retriedEvents[listed.messageId] ?? listed).map((e) => (
                    <tr key={e.messageId} class={e.status}>
                      <td>
                        <Time iso={e.timestamp} />
                      </td>
                      <td>
                        <Link href={`/events/${encodeURIComponent(e.messageId)}`}>{e.event}</Link>
                      </td>
                      <td>{e.email}</td>
                      <td>{e.error ?? ''}</td>
                      <td>
                        <RetryButton<{ event: ApiEvent }>
                          what={`event ${e.messageId}`}
                          path={`/events/${encodeURIComponent(e.messageId)}/retry`}
                          done={e.status !== 'failed'}
                          onRetried={({ event: n }) => setRetriedEvents((r) => ({ ...r, [n.messageId]: n }))}
                        />
                      </td>
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
                    <th>
                      <span class="sr">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {v.deadJobs.items.map((j) => (
                    <tr key={j.id} class={retriedJobs[j.id] ?? 'failed'}>
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
                      <td>
                        <RetryButton<{ job: { id: number; status: string } }>
                          what={`job ${j.id}`}
                          path={`/dead-jobs/${j.id}/retry`}
                          done={retriedJobs[j.id] !== undefined}
                          onRetried={({ job }) => setRetriedJobs((r) => ({ ...r, [job.id]: job.status }))}
                        />
                      </td>
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
