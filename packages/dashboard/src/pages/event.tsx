import { api, type ApiContact, type ApiEvent } from '../api';
import { Json, Link, Show, Time, useLoad } from '../ui';

export function EventPage({ messageId }: { messageId: string }) {
  const [data] = useLoad(() => api<{ event: ApiEvent; contact: ApiContact | null }>(`/events/${encodeURIComponent(messageId)}`), [messageId]);
  return (
    <Show data={data}>
      {({ event: e, contact }) => (
        <section>
          <p>
            <Link href="/live">← Live events</Link>
          </p>
          <h1>
            {e.event} <span class={`badge ${e.status}`}>{e.status}</span>
          </h1>
          <dl class="facts">
            <dt>messageId</dt>
            <dd>
              <code>{e.messageId}</code>
            </dd>
            <dt>Contact</dt>
            <dd>{contact ? <Link href={`/contacts/${encodeURIComponent(contact.id)}`}>{e.email}</Link> : e.email}</dd>
            <dt>Event time</dt>
            <dd>
              <Time iso={e.timestamp} />
            </dd>
            <dt>Received</dt>
            <dd>
              <Time iso={e.receivedAt} />
            </dd>
            {e.error && (
              <>
                <dt>Error</dt>
                <dd class="error">{e.error}</dd>
              </>
            )}
          </dl>
          <h2>Payload</h2>
          <Json value={{ properties: e.properties, traits: e.traits }} />
        </section>
      )}
    </Show>
  );
}
