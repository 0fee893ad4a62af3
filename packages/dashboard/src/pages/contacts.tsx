import { useState } from 'preact/hooks';
import { api, query, type ApiContact, type ApiEvent, type Page } from '../api';
import { FirstEventHelp, Link, Show, Time, useLoad } from '../ui';

export function ContactsPage() {
  const [search, setSearch] = useState('');
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [data] = useLoad(() => api<{ contacts: Page<ApiContact> }>(`/contacts${query({ search, cursor, limit: '50' })}`), [search, cursor]);
  return (
    <section>
      <h1>Contacts</h1>
      <form
        class="row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setCursor(undefined);
          setSearch(String(new FormData(e.target as HTMLFormElement).get('q')));
        }}
      >
        <label>
          Search
          <input name="q" type="search" placeholder="email or name" />
        </label>
        <button type="submit">Search</button>
      </form>
      <Show data={data}>
        {(v) =>
          v.contacts.items.length === 0 ? (
            search ? <p class="empty">No contact matches “{search}”.</p> : <FirstEventHelp />
          ) : (
            <>
              <div class="scroll">
                <table>
                  <thead>
                    <tr>
                      <th>Email</th>
                      <th>Name</th>
                      <th>Status</th>
                      <th>Created</th>
                    </tr>
                  </thead>
                  <tbody>
                    {v.contacts.items.map((c) => (
                      <tr>
                        <td>
                          <Link href={`/contacts/${encodeURIComponent(c.id)}`}>{String(c.properties.email)}</Link>
                        </td>
                        <td>{[c.properties.firstName, c.properties.lastName].filter(Boolean).join(' ') || '–'}</td>
                        <td>{String(c.properties.status ?? '')}</td>
                        <td>
                          <Time iso={c.createdAt} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {v.contacts.hasMore && (
                <button type="button" onClick={() => setCursor(v.contacts.cursor ?? undefined)}>
                  Next page
                </button>
              )}
            </>
          )
        }
      </Show>
    </section>
  );
}

interface Provenance {
  property: string;
  setAt: string | null;
  messageId: string | null;
}

export function ContactPage({ id }: { id: string }) {
  const [data] = useLoad(() => api<{ contact: ApiContact; events: ApiEvent[]; provenance?: Provenance[] }>(`/contacts/${encodeURIComponent(id)}`), [id]);
  return (
    <Show data={data}>
      {({ contact, events, provenance }) => {
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
            <div class="scroll">
              <table data-testid="properties">
                <thead>
                  <tr>
                    <th>Property</th>
                    <th>Value</th>
                    <th>Set</th>
                    <th>By event</th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(contact.properties).map(([k, val]) => {
                    const p = by.get(k);
                    return (
                      <tr>
                        <td>{k}</td>
                        <td>
                          <code>{JSON.stringify(val)}</code>
                        </td>
                        <td>{p?.setAt ? <Time iso={p.setAt} /> : '–'}</td>
                        <td>{p?.messageId ? <Link href={`/events/${encodeURIComponent(p.messageId)}`}>{p.messageId}</Link> : p?.setAt ? 'API call' : '–'}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            <h2>Timeline</h2>
            {events.length === 0 ? (
              <p class="empty">No events for this contact.</p>
            ) : (
              <ol class="timeline" data-testid="timeline">
                {events.map((e) => (
                  <li>
                    <Time iso={e.timestamp} /> <Link href={`/events/${encodeURIComponent(e.messageId)}`}>{e.event}</Link> <span class={`badge ${e.status}`}>{e.status}</span>
                  </li>
                ))}
              </ol>
            )}
          </section>
        );
      }}
    </Show>
  );
}
