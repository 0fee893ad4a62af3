import { api, query, type ApiContact, type ApiSegment, type Page } from '../api';
import { PAGE_SIZE, Paged, PagedTable, type Column } from '../list';
import { CreateWithApi, Json, Link, Show, Time, useLoad } from '../ui';

interface Transition {
  contact: { id: string; email: string | null };
  on: 'enter' | 'exit';
  at: string;
}

/** "123 of 400 contacts evaluated" while a segment is built, else nothing. */
function progress(s: ApiSegment): string {
  if (s.status !== 'building') return '';
  const pct = s.build.total ? Math.floor((100 * s.build.processed) / s.build.total) : 0;
  return `${s.build.processed} of ${s.build.total} contacts evaluated (${pct} %)`;
}


const SEGMENT_COLUMNS: Column<ApiSegment>[] = [
  { header: 'Name', cell: (s) => <Link href={`/segments/${encodeURIComponent(s.id)}`}>{s.name}</Link> },
  { header: 'Status', cell: (s) => <span class={`badge ${s.status}`}>{s.status}</span> },
  { header: 'Members', cell: (s) => s.memberCount },
  { header: 'Progress', cell: (s) => progress(s) || '–' },
  { header: 'Updated', cell: (s) => <Time iso={s.updatedAt} /> },
];

export function SegmentsPage() {
  return (
    <section>
      <h1>Segments</h1>
      <PagedTable
        testId="segments"
        noun="segments"
        load={async (cursor) => (await api<{ segments: Page<ApiSegment> }>(`/segments${query({ cursor, limit: String(PAGE_SIZE) })}`)).segments}
        deps={[]}
        empty={<CreateWithApi what="segments" path="/v1/segments" body={{ name: 'Pro plan', rule: { property: 'contact.plan', op: 'eq', value: 'pro' } }} />}
        columns={SEGMENT_COLUMNS}
        rowKey={(s) => s.id}
      />
    </section>
  );
}

export function SegmentPage({ id }: { id: string }) {
  const e = encodeURIComponent(id);
  const [seg] = useLoad(() => api<{ segment: ApiSegment }>(`/segments/${e}`), [id]);
  const [transitions] = useLoad(() => api<{ transitions: Page<Transition> }>(`/segments/${e}/transitions?limit=50`), [id]);
  return (
    <section>
      <p>
        <Link href="/segments">← Segments</Link>
      </p>
      <Show data={seg}>
        {({ segment: s }) => (
          <>
            <h1>
              {s.name} <span class={`badge ${s.status}`}>{s.status}</span>
            </h1>
            <p class="muted">
              {s.id} · {s.memberCount} {s.memberCount === 1 ? 'member' : 'members'}{progress(s) ? ` · ${progress(s)}` : ''} · updated <Time iso={s.updatedAt} />
            </p>
            <h2>Rule</h2>
            <Json value={s.rule} />
          </>
        )}
      </Show>
      <h2>Members</h2>
      <Paged
        noun="members"
        load={async (cursor) => (await api<{ contacts: Page<ApiContact> }>(`/segments/${e}/contacts${query({ cursor, limit: String(PAGE_SIZE) })}`)).contacts}
        deps={[id]}
        empty={<p class="empty">No contact is in this segment yet. Contacts enter it when an event or an API call gives them properties the rule matches.</p>}
      >
        {(members) => (
          <ul data-testid="members">
            {members.map((c) => (
              <li key={c.id}>
                <Link href={`/contacts/${encodeURIComponent(c.id)}`}>{String(c.properties.email)}</Link>
              </li>
            ))}
          </ul>
        )}
      </Paged>
      <h2>Recent transitions</h2>
      <Show data={transitions}>
        {(v) =>
          v.transitions.items.length === 0 ? (
            <p class="empty">No contact has entered or left this segment yet.</p>
          ) : (
            <ol class="timeline" data-testid="transitions">
              {v.transitions.items.map((t) => (
                <li>
                  <Time iso={t.at} /> <span class={`badge ${t.on}`}>{t.on === 'enter' ? 'entered' : 'left'}</span>{' '}
                  <Link href={`/contacts/${encodeURIComponent(t.contact.id)}`}>{t.contact.email ?? t.contact.id}</Link>
                </li>
              ))}
            </ol>
          )
        }
      </Show>
    </section>
  );
}
