import { useState } from 'preact/hooks';
import { api, query, type ApiContact, type ApiEvent, type ApiRun, type Page } from '../api';
import { PAGE_SIZE, PagedTable, Table, type Column } from '../list';
import { FirstEventHelp, Link, Show, Time, useLoad } from '../ui';

const CONTACT_COLUMNS: Column<ApiContact>[] = [
  { header: 'Email', cell: (c) => <Link href={`/contacts/${encodeURIComponent(c.id)}`}>{String(c.properties.email)}</Link> },
  { header: 'Name', cell: (c) => [c.properties.firstName, c.properties.lastName].filter(Boolean).join(' ') || '–' },
  { header: 'Status', cell: (c) => String(c.properties.status ?? '') },
  { header: 'Created', cell: (c) => <Time iso={c.createdAt} /> },
];

export function ContactsPage() {
  const [search, setSearch] = useState('');
  return (
    <section>
      <h1>Contacts</h1>
      <form
        class="row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setSearch(String(new FormData(e.target as HTMLFormElement).get('q')));
        }}
      >
        <label>
          Search
          <input name="q" type="search" placeholder="email or name" />
        </label>
        <button type="submit">Search</button>
      </form>
      <PagedTable
        testId="contacts"
        noun="contacts"
        load={async (cursor) => (await api<{ contacts: Page<ApiContact> }>(`/contacts${query({ search, cursor, limit: String(PAGE_SIZE) })}`)).contacts}
        deps={[search]}
        empty={search ? <p class="empty">No contact matches “{search}”.</p> : <FirstEventHelp />}
        columns={CONTACT_COLUMNS}
        rowKey={(c) => c.id}
      />
    </section>
  );
}

interface Provenance {
  property: string;
  setAt: string | null;
  messageId: string | null;
}

type TimelineEntry =
  | { kind: 'event'; at: string; event: ApiEvent }
  | { kind: 'segment'; at: string; segmentId: string; segmentName: string | null; on: 'enter' | 'exit' }
  | { kind: 'run'; at: string; workflowName: string; run: ApiRun };

function TimelineItem({ t }: { t: TimelineEntry }) {
  if (t.kind === 'event') {
    const e = t.event;
    return (
      <li class="t-event">
        <Time iso={t.at} /> <span class="muted">event</span> <Link href={`/events/${encodeURIComponent(e.messageId)}`}>{e.event}</Link> <span class={`badge ${e.status}`}>{e.status}</span>
      </li>
    );
  }
  if (t.kind === 'segment') {
    return (
      <li class="t-segment">
        <Time iso={t.at} /> <span class="muted">segment</span> <span class={`badge ${t.on}`}>{t.on === 'enter' ? 'entered' : 'exited'}</span>{' '}
        <Link href={`/segments/${encodeURIComponent(t.segmentId)}`}>{t.segmentName ?? t.segmentId}</Link>
      </li>
    );
  }
  const r = t.run;
  return (
    <li class="t-run">
      <Time iso={t.at} /> <span class="muted">workflow</span> <Link href={`/workflows/${encodeURIComponent(r.workflowId)}`}>{t.workflowName}</Link>{' '}
      <Link href={`/runs/${encodeURIComponent(r.id)}`}>run</Link> <span class={`badge ${r.status}`}>{r.status}</span>
      {r.steps.length > 0 && (
        <ul class="steps" aria-label="Steps">
          {r.steps.map((s) => (
            <li>
              {s.id} <span class={`badge ${s.status}`}>{s.status}</span>
              {s.attempts > 1 ? <span class="muted"> · {s.attempts} attempts</span> : ''}
              {s.error ? <span class="error"> · {s.error}</span> : ''}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

const KINDS = [
  ['event', 'Events'],
  ['segment', 'Segments'],
  ['run', 'Workflows'],
] as const;

export function ContactPage({ id }: { id: string }) {
  const [data] = useLoad(
    () => api<{ contact: ApiContact; events: ApiEvent[]; timeline?: TimelineEntry[]; provenance?: Provenance[] }>(`/contacts/${encodeURIComponent(id)}`),
    [id],
  );
  const [hidden, setHidden] = useState<Record<string, boolean>>({});
  return (
    <Show data={data}>
      {({ contact, events, timeline: merged, provenance }) => {
        const timeline = (merged ?? events.map((e): TimelineEntry => ({ kind: 'event', at: e.timestamp, event: e }))).filter((t) => !hidden[t.kind]);
        const by = new Map((provenance ?? []).map((p) => [p.property, p]));
        return (
          <section>
            <p>
              <Link href="/contacts">← Contacts</Link>
            </p>
            <h1>{String(contact.properties.email)}</h1>
            <p class="muted">
              {contact.id} · created <Time iso={contact.createdAt} /> · updated <Time iso={contact.updatedAt} />
            </p>
            <h2>Properties</h2>
            <Table
              testId="properties"
              rows={Object.entries(contact.properties)}
              rowKey={([k]) => k}
              columns={[
                { header: 'Property', cell: ([k]) => k },
                { header: 'Value', cell: ([, val]) => <code>{JSON.stringify(val)}</code> },
                { header: 'Set', cell: ([k]) => (by.get(k)?.setAt ? <Time iso={by.get(k)!.setAt!} /> : '–') },
                {
                  header: 'By event',
                  cell: ([k]) => {
                    const p = by.get(k);
                    return p?.messageId ? <Link href={`/events/${encodeURIComponent(p.messageId)}`}>{p.messageId}</Link> : p?.setAt ? 'API call' : '–';
                  },
                },
              ]}
            />
            <h2>Timeline</h2>
            <p class="muted">Events, segment enters and exits, and workflow runs with their steps, newest first (the latest 100 of each).</p>
            <fieldset class="row filters">
              <legend class="sr">Show</legend>
              {KINDS.map(([k, label]) => (
                <label class="check">
                  <input type="checkbox" checked={!hidden[k]} onChange={() => setHidden((h) => ({ ...h, [k]: !h[k] }))} /> {label}
                </label>
              ))}
            </fieldset>
            {timeline.length === 0 ? (
              <p class="empty">Nothing for this contact yet.</p>
            ) : (
              <ol class="timeline" data-testid="timeline">
                {timeline.map((t) => (
                  <TimelineItem t={t} />
                ))}
              </ol>
            )}
          </section>
        );
      }}
    </Show>
  );
}
