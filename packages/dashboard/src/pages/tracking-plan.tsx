/**
 * The workspace's tracking plan and what it flagged (GET /v1/tracking-plan and
 * /v1/tracking-plan/violations, through /dashboard/api): shown on the catalogue page, beside
 * what the events actually look like.
 */
import { api } from '../api';
import { Json, Link, Show, Time, useLoad } from '../ui';

export interface Violation {
  rule: string;
  path: string;
  message: string;
}
interface PlanView {
  mode: 'warn' | 'block';
  allowUnplanned: boolean;
  events: { name?: string; pattern?: string; properties?: unknown }[];
  version: number;
  updatedAt: string;
}
interface Summary {
  counted: number;
  truncated: boolean;
  counts: { event: string; rule: string; path: string; count: number; lastSeen: string; exampleMessageId: string }[];
  examples: { messageId: string; event: string; receivedAt: string; violations: Violation[] }[];
}

const eventHref = (messageId: string) => `/events/${encodeURIComponent(messageId)}`;

/** The violations of one event (the event page shows them). */
export function Violations({ list }: { list: Violation[] }) {
  return (
    <ul class="violations" data-testid="violations">
      {list.map((v) => (
        <li>
          <span class="badge failed">{v.rule}</span> <code>{v.path}</code> {v.message}
        </li>
      ))}
    </ul>
  );
}

export function TrackingPlanSection() {
  const [data, reload] = useLoad(
    async () => {
      const [plan, summary] = await Promise.all([
        api<{ trackingPlan: PlanView | null }>('/tracking-plan'),
        api<{ violations: Summary }>('/tracking-plan/violations'),
      ]);
      return { plan: plan.trackingPlan, summary: summary.violations };
    },
    [],
  );
  return (
    <section data-testid="tracking-plan">
      <h2>Tracking plan</h2>
      <Show data={data}>
        {({ plan, summary }) => (
          <>
            {plan === null ? (
              <p class="muted">
                No tracking plan: every valid event is accepted. Set one with <code>PUT /v1/tracking-plan</code> or <code>smashsend tracking-plan apply FILE.json</code>.
              </p>
            ) : (
              <details>
                <summary>
                  <strong>{plan.mode === 'block' ? 'Block mode' : 'Warn mode'}</strong>{' '}
                  <span class="muted">
                    version {plan.version}, {plan.events.length} entries, {plan.allowUnplanned ? 'unplanned events allowed' : 'unplanned events are violations'}, updated{' '}
                    <Time iso={plan.updatedAt} />
                  </span>
                </summary>
                <Json value={plan.events} />
              </details>
            )}
            <h3>Flagged events</h3>
            <p class="muted">
              Events accepted despite breaking the plan (warn mode): {summary.counted.toLocaleString()} counted
              {summary.truncated ? ' (the newest; older ones are not counted)' : ''}. Refused events (block mode) are not stored: see the live view and{' '}
              <code>smashsend_tracking_plan_violations_total</code>. <button type="button" onClick={reload}>Refresh</button>
            </p>
            {summary.counts.length === 0 ? (
              <p class="empty">No flagged events.</p>
            ) : (
              <div class="scroll">
                <table data-testid="violation-counts">
                  <thead>
                    <tr>
                      <th>Event</th>
                      <th>Rule</th>
                      <th>Path</th>
                      <th>Count</th>
                      <th>Last seen</th>
                      <th>Example</th>
                    </tr>
                  </thead>
                  <tbody>
                    {summary.counts.map((c) => (
                      <tr>
                        <td>{c.event}</td>
                        <td>
                          <span class="badge failed">{c.rule}</span>
                        </td>
                        <td>
                          <code>{c.path}</code>
                        </td>
                        <td>{c.count.toLocaleString()}</td>
                        <td>
                          <Time iso={c.lastSeen} />
                        </td>
                        <td>
                          <Link href={eventHref(c.exampleMessageId)}>
                            <code>{c.exampleMessageId}</code>
                          </Link>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            {summary.examples.length > 0 && (
              <details>
                <summary>Newest flagged events</summary>
                {summary.examples.map((e) => (
                  <div class="violation-example">
                    <Link href={eventHref(e.messageId)}>{e.event}</Link> <span class="muted">
                      <Time iso={e.receivedAt} />
                    </span>
                    <Violations list={e.violations} />
                  </div>
                ))}
              </details>
            )}
          </>
        )}
      </Show>
    </section>
  );
}
