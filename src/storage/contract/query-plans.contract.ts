/**
 * Every read statement the adapters issue, for the query-plan tests
 * (sqlite/query-plans.sqlite.test.ts, postgres/query-plans.postgres.test.ts): a store built
 * with a `trace` records each statement and its parameters under the label of the API call
 * that issued it; each adapter's test EXPLAINs them on a populated store and fails on a scan
 * of a whole table, or when a call's statements do not use the index it is expected to.
 */
import type { Store } from '../ports.js';
import type { ReadTrace } from '../read-bounds.js';

export interface CapturedRead {
  label: string;
  sql: string;
  params: unknown[];
}

export function readRecorder(): { trace: ReadTrace; label: (l: string) => void; reads: CapturedRead[] } {
  const reads: CapturedRead[] = [];
  let current = '(unlabelled)';
  return {
    reads,
    label: (l) => {
      current = l;
    },
    trace: (sql, params) => reads.push({ label: current, sql, params: [...params] }),
  };
}

export const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);
/** Events per populated workspace, and how many of them stay queued (fewer than queueScan, so a short queue). */
export const EVENTS = 6_000;
export const QUEUED = 400;
export const CONTACTS = 3_000;
export const PROPERTY_NAMES = 2_000;

/** The shape of the populated data, for the adapters' raw-SQL fill (see each test). */
export function eventRow(n: number): { messageId: string; event: string; email: string; ts: number } {
  return { messageId: `m${n}`, event: `e${n % 20}`, email: `u${n % 500}@plans.test`, ts: T0 + n * 1000 };
}

/** Calls every read of the ports with every shape of query, each under its label. */
export async function exerciseReads(store: Store, ws: string, label: (l: string) => void): Promise<void> {
  const cursor = { timestamp: T0 + (EVENTS / 2) * 1000, seq: 1_000_000 };
  const calls: [string, () => Promise<unknown>][] = [
    ['events.get', () => store.events.get(ws, 'm10')],
    ['events.get queued', () => store.events.get(ws, `m${EVENTS - 5}`)],
    ['events.list', () => store.events.list({ workspaceId: ws, limit: 50 })],
    ['events.list cursor', () => store.events.list({ workspaceId: ws, limit: 50, after: cursor })],
    ['events.list since until', () => store.events.list({ workspaceId: ws, limit: 1000, since: T0, until: T0 + 3_000_000 })],
    ['events.list email', () => store.events.list({ workspaceId: ws, limit: 50, email: 'u7@plans.test', after: cursor })],
    ['events.list event', () => store.events.list({ workspaceId: ws, limit: 50, event: 'e3', since: T0, after: cursor })],
    ['events.list email event', () => store.events.list({ workspaceId: ws, limit: 50, email: 'u7@plans.test', event: 'e7' })],
    ['events.list status queued', () => store.events.list({ workspaceId: ws, limit: 50, status: 'queued' })],
    ['events.list status processed', () => store.events.list({ workspaceId: ws, limit: 50, status: 'processed', after: cursor })],
    ['events.list status failed', () => store.events.list({ workspaceId: ws, limit: 50, status: 'failed' })],
    ['events.list email status failed', () => store.events.list({ workspaceId: ws, limit: 50, email: 'u0@plans.test', status: 'failed' })],
    ['events.list event status processed', () => store.events.list({ workspaceId: ws, limit: 50, event: 'e3', status: 'processed' })],
    ['events.list email status queued', () => store.events.list({ workspaceId: ws, limit: 50, email: 'u7@plans.test', status: 'queued' })],
    ['contacts.get', () => store.contacts.get(ws, '00000000-0000-4000-8000-000000000001')],
    ['contacts.findByEmail', () => store.contacts.findByEmail(ws, 'c7@plans.test')],
    ['contacts.list', () => store.contacts.list({ workspaceId: ws, limit: 50, sort: 'createdAt.desc' })],
    ['contacts.list asc cursor', () => store.contacts.list({ workspaceId: ws, limit: 50, sort: 'createdAt.asc', after: { createdAt: T0 + 100, id: 'x' } })],
    ['contacts.list status', () => store.contacts.list({ workspaceId: ws, limit: 50, sort: 'createdAt.desc', status: 'UNSUBSCRIBED' })],
    ['contacts.list search', () => store.contacts.list({ workspaceId: ws, limit: 50, sort: 'createdAt.desc', search: 'c7' })],
    ['contacts.list status search', () => store.contacts.list({ workspaceId: ws, limit: 100, sort: 'createdAt.asc', status: 'SUBSCRIBED', search: 'zz' })],
    ['contacts.properties', () => store.contacts.listPropertyNames(ws)],
  ];
  for (const [l, call] of calls) {
    label(l);
    await call();
  }
}

/**
 * The indexes each call's statements must use (all of them, across its statements; `a|b`: either), per
 * dialect and queue depth. On SQLite queued rows are only in the time and queue indexes:
 * behind a deep queue, filtered lists walk the time index and GET reads the ledger.
 */
export function expectedIndexes(dialect: 'sqlite' | 'postgres', deep: boolean): Record<string, string[]> {
  const contacts = {
    'contacts.get': [dialect === 'sqlite' ? 'sqlite_autoindex_contacts_1' : 'contacts_pkey'],
    'contacts.findByEmail': [dialect === 'sqlite' ? 'sqlite_autoindex_contacts_2' : 'contacts_workspace_id_email_key'],
    'contacts.list': ['contacts_by_created'],
    'contacts.list asc cursor': ['contacts_by_created'],
    'contacts.list status': ['contacts_by_status'],
    'contacts.list search': ['contacts_by_created'],
    'contacts.list status search': ['contacts_by_status'],
    'contacts.properties': [dialect === 'sqlite' ? 'PRIMARY KEY' : 'contact_property_names_pkey'],
  };
  const time = {
    'events.list': ['events_by_time'],
    'events.list cursor': ['events_by_time'],
    'events.list since until': ['events_by_time'],
    'events.list status processed': ['events_by_time'],
    'events.list status failed': ['events_failed_by_time'],
    'events.list email status failed': ['events_failed_by_time'],
    'events.list event status processed': ['events_by_event'],
    'events.list status queued': deep ? ['events_by_time'] : ['events_queue'],
  };
  if (dialect === 'postgres') {
    return {
      ...contacts,
      // A status most contacts have ('SUBSCRIBED'): PostgreSQL walks contacts_by_created and
      // filters, rows in the order asked, LIMIT-bounded at about limit / share of the status.
      'contacts.list status search': ['contacts_by_status|contacts_by_created'],
      ...time,
      'events.get': ['events_by_message'],
      'events.get queued': ['events_by_message'],
      'events.list email': ['events_by_email'],
      'events.list email event': ['events_by_email'],
      'events.list event': deep ? ['events_queue', 'events_by_time'] : ['events_by_event', 'events_queue'],
      'events.list email status queued': ['events_by_email'],
    };
  }
  return {
    ...contacts,
    ...time,
    'events.get': ['events_by_message', 'events_queue'],
    'events.get queued': deep ? ['events_by_message', 'events_queue', 'PRIMARY KEY'] : ['events_by_message', 'events_queue'],
    'events.list email': deep ? ['events_queue', 'events_by_time'] : ['events_by_email', 'events_queue'],
    'events.list event': deep ? ['events_queue', 'events_by_time'] : ['events_by_event', 'events_queue'],
    'events.list email event': deep ? ['events_queue', 'events_by_time'] : ['events_by_email', 'events_queue'],
    'events.list email status queued': deep ? ['events_queue', 'events_by_time'] : ['events_queue'],
  };
}

/** The indexes the reads stand on: dropping any one of them must make a plan test fail. */
export const READ_INDEXES = [
  'events_by_time',
  'events_by_email',
  'events_by_message',
  'events_by_event',
  'events_failed_by_time',
  'events_queue',
  'contacts_by_created',
  'contacts_by_status',
];
