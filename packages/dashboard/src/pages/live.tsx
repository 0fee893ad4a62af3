/**
 * Live events over Server-Sent Events (/dashboard/api/live): accepted, duplicate and rejected.
 * At most MAX rows are kept; while paused, or when the server had to drop events for a slow
 * connection, the count of events not shown is displayed instead.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { Table, type Column } from '../list';
import { Link, Time } from '../ui';

export interface LiveItem {
  kind: 'accepted' | 'duplicate' | 'rejected';
  at: string;
  messageId: string | null;
  event: string | null;
  email: string | null;
  /** Accepted: `api` or `segment`; duplicates and rejections name the endpoint: `single`, `batch` or `segment`. */
  source: string;
  errors?: { code: string; message: string }[];
}

/** Our API or the Segment-compatible paths, whichever endpoint of ours it was. */
export const originOf = (source: string): 'api' | 'segment' => (source === 'segment' ? 'segment' : 'api');

const MAX = 500;

const KINDS = [
  ['accepted', 'accepted'],
  ['duplicate', 'duplicate'],
  ['rejected', 'rejected'],
] as const;
const SOURCES = [
  ['api', 'API'],
  ['segment', 'Segment'],
] as const;

/** A labelled select whose first option, "all", is the empty value. */
function Choice({ label, value, options, onChange }: { label: string; value: string; options: readonly (readonly [string, string])[]; onChange: (v: string) => void }) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        <option value="">all</option>
        {options.map(([v, text]) => (
          <option value={v}>{text}</option>
        ))}
      </select>
    </label>
  );
}

const LIVE_COLUMNS: Column<LiveItem>[] = [
  { header: 'Received', cell: (i) => <Time iso={i.at} /> },
  { header: 'Status', cell: (i) => <span class={`badge ${i.kind}`}>{i.kind}</span> },
  { header: 'Event', cell: (i) => (i.kind === 'accepted' && i.messageId ? <Link href={`/events/${encodeURIComponent(i.messageId)}`}>{i.event}</Link> : (i.event ?? '–')) },
  { header: 'Email', cell: (i) => i.email ?? '–' },
  { header: 'Source', cell: (i) => <span title={i.source}>{originOf(i.source) === 'segment' ? 'Segment' : 'API'}</span> },
  { header: 'Details', cell: (i) => (i.errors ? i.errors.map((e) => `${e.code}: ${e.message}`).join('; ') : i.messageId ? <code>{i.messageId}</code> : '') },
];

export function LivePage() {
  const [items, setItems] = useState<LiveItem[]>([]);
  const [paused, setPaused] = useState(false);
  const [hidden, setHidden] = useState(0);
  const [state, setState] = useState<'connecting' | 'live' | 'error'>('connecting');
  const [filter, setFilter] = useState({ text: '', kind: '', source: '' });
  const pausedRef = useRef(false);
  pausedRef.current = paused;

  useEffect(() => {
    const es = new EventSource('/dashboard/api/live');
    es.onopen = () => setState('live');
    es.onerror = () => setState('error');
    es.addEventListener('item', (m) => {
      const item = JSON.parse((m as MessageEvent).data) as LiveItem;
      if (pausedRef.current) return setHidden((n) => n + 1);
      setItems((list) => [item, ...list].slice(0, MAX));
    });
    es.addEventListener('dropped', (m) => setHidden((n) => n + Number(JSON.parse((m as MessageEvent).data).count)));
    return () => es.close();
  }, []);

  const t = filter.text.trim().toLowerCase();
  const shown = items.filter(
    (i) => (!filter.kind || i.kind === filter.kind) && (!filter.source || originOf(i.source) === filter.source) && (!t || [i.event, i.email, i.messageId, i.source].some((f) => f?.toLowerCase().includes(t))),
  );
  return (
    <section>
      <h1>Live events</h1>
      <div class="row">
        <label>
          Filter
          <input type="search" placeholder="name, email, messageId, source" value={filter.text} onInput={(e) => setFilter({ ...filter, text: (e.target as HTMLInputElement).value })} />
        </label>
        <Choice label="Status" value={filter.kind} options={KINDS} onChange={(kind) => setFilter({ ...filter, kind })} />
        <Choice label="Source" value={filter.source} options={SOURCES} onChange={(source) => setFilter({ ...filter, source })} />
        <button type="button" aria-pressed={paused} onClick={() => (setPaused(!paused), paused && setHidden(0))}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <span class="muted" role="status">
          {state === 'live' ? '● live' : state === 'connecting' ? 'connecting…' : 'reconnecting…'}
          {hidden > 0 && ` · ${hidden} events not shown`}
        </span>
      </div>
      {shown.length === 0 ? (
        <p class="empty">{items.length ? 'No event matches the filter.' : 'Waiting for events… send one with the curl on the Overview page.'}</p>
      ) : (
        <Table testId="live" rows={shown} rowClass={(i) => i.kind} columns={LIVE_COLUMNS} />
      )}
    </section>
  );
}
