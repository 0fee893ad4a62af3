/** Event catalogue: every event name processed, its volume and the types seen at each property (GET /v1/catalog/events). */
import { api } from '../api';
import { Table } from '../list';
import { FirstEventHelp, Show, Time, useLoad } from '../ui';
import { TrackingPlanSection } from './tracking-plan';

interface CatalogProperty {
  path: string;
  types: string[];
}
interface CatalogEvent {
  name: string;
  firstSeen: string;
  lastSeen: string;
  count: number;
  propertiesTruncated: boolean;
  properties: CatalogProperty[];
}

/** Drift: more than one type other than null (a property sent as a string and as a number). */
export function drifts(p: CatalogProperty): boolean {
  return p.types.filter((t) => t !== 'null').length > 1;
}

function EventEntry({ e }: { e: CatalogEvent }) {
  const drifting = e.properties.filter(drifts).length;
  return (
    <details class="catalog-event" data-testid="catalog-event">
      <summary>
        <strong>{e.name}</strong> <span class="muted">{e.count.toLocaleString()} events</span>{' '}
        <span class="muted">
          {e.properties.length} properties{e.propertiesTruncated ? ' (more not tracked)' : ''}
        </span>
        {drifting > 0 ? <span class="badge failed"> {drifting} with drifting types</span> : null}
      </summary>
      <p class="muted">
        First seen <Time iso={e.firstSeen} />, last seen <Time iso={e.lastSeen} />
      </p>
      {e.properties.length === 0 ? (
        <p class="muted">No properties.</p>
      ) : (
        <Table
          rows={e.properties}
          rowKey={(p) => p.path}
          rowClass={(p) => (drifts(p) ? 'drift' : '')}
          columns={[
            { header: 'Property', cell: (p) => <code>{p.path}</code> },
            {
              header: 'Types seen',
              cell: (p) => (
                <>
                  {p.types.map((t) => (
                    <span class={`badge ${drifts(p) && t !== 'null' ? 'failed' : ''}`}>{t}</span>
                  ))}
                  {drifts(p) ? <span class="sr"> (drift)</span> : null}
                </>
              ),
            },
          ]}
        />
      )}
    </details>
  );
}

export function CatalogPage() {
  const [data, reload] = useLoad(() => api<{ events: CatalogEvent[] }>('/catalog/events'), []);
  return (
    <section>
      <h1>Event catalogue</h1>
      <p class="muted">
        Every event name this workspace has sent (accepted events only), with the JSON types seen at each property. A property with more than one type
        is highlighted: it drifts. Updated as events are processed. <button type="button" onClick={reload}>Refresh</button>
      </p>
      <Show data={data}>
        {(v) =>
          v.events.length === 0 ? (
            <FirstEventHelp />
          ) : (
            <div data-testid="catalog">
              {v.events.map((e) => (
                <EventEntry e={e} />
              ))}
            </div>
          )
        }
      </Show>
      <TrackingPlanSection />
    </section>
  );
}
