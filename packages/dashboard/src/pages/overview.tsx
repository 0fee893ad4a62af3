import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, query, type ApiEvent } from '../api';
import { FirstEventHelp, Link, Show, Time, useLoad } from '../ui';

interface Point {
  t: string;
  accepted: number;
  duplicate: number;
  rejected: number;
}

function Chart({ series }: { series: Point[] }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const xs = series.map((p) => Date.parse(p.t) / 1000);
    const width = Math.max(280, el.current.clientWidth - 16); // inside its 8 px padding
    const plot = new uPlot(
      {
        width,
        height: 240,
        series: [
          {},
          { label: 'accepted', stroke: '#1f7a3a', fill: 'rgba(31,122,58,.12)' },
          { label: 'duplicate', stroke: '#a26b00' },
          { label: 'rejected', stroke: '#b3261e' },
        ],
        axes: [{}, { label: 'events' }],
      },
      [xs, series.map((p) => p.accepted), series.map((p) => p.duplicate), series.map((p) => p.rejected)],
      el.current,
    );
    return () => plot.destroy();
  }, [series]);
  return <div ref={el} class="chart" data-testid="chart" role="img" aria-label="Events per interval: accepted, duplicate, rejected" />;
}

interface Processing {
  queue: { depth: number; lagSeconds: number; failed: number };
  failedEvents: ApiEvent[];
}

function ProcessingPanel() {
  const [data] = useLoad(() => api<Processing>('/processing'), []);
  return (
    <Show data={data}>
      {(p) => (
        <>
          <h2>Processing</h2>
          <p data-testid="processing">
            Queue (whole server): <strong>{p.queue.depth}</strong> waiting, lag <strong>{p.queue.lagSeconds.toFixed(1)} s</strong>
          </p>
          {p.failedEvents.length > 0 && (
            <>
              <h3>Failed events in this workspace</h3>
              <ul>
                {p.failedEvents.map((e) => (
                  <li>
                    <Time iso={e.receivedAt} /> <Link href={`/events/${encodeURIComponent(e.messageId)}`}>{e.event}</Link> {e.email}: <span class="error">{e.error}</span>
                  </li>
                ))}
              </ul>
            </>
          )}
          <p>
            <Link href="/failed">Failed events, webhook deliveries and workflow jobs</Link>
          </p>
        </>
      )}
    </Show>
  );
}

export function OverviewPage() {
  const [interval, setInterval] = useState<'minute' | 'hour' | 'day'>('minute');
  const span = { minute: 3600_000, hour: 48 * 3600_000, day: 30 * 86400_000 }[interval];
  const [data] = useLoad(() => api<{ series: Point[] }>(`/stats${query({ interval, since: new Date(Date.now() - span).toISOString() })}`), [interval]);
  return (
    <section>
      <h1>Overview</h1>
      <div class="row" role="group" aria-label="Interval">
        {(['minute', 'hour', 'day'] as const).map((i) => (
          <button type="button" aria-pressed={interval === i} onClick={() => setInterval(i)}>
            per {i}
          </button>
        ))}
      </div>
      <Show data={data}>
        {(v) => {
          const total = v.series.reduce((n, p) => n + p.accepted + p.duplicate + p.rejected, 0);
          const sum = (k: 'accepted' | 'duplicate' | 'rejected') => v.series.reduce((n, p) => n + p[k], 0);
          return total === 0 ? (
            <FirstEventHelp />
          ) : (
            <>
              <ul class="totals">
                <li>
                  <strong>{sum('accepted')}</strong> accepted
                </li>
                <li>
                  <strong>{sum('duplicate')}</strong> duplicate
                </li>
                <li>
                  <strong>{sum('rejected')}</strong> rejected
                </li>
              </ul>
              <Chart series={v.series} />
            </>
          );
        }}
      </Show>
      <ProcessingPanel />
    </section>
  );
}
