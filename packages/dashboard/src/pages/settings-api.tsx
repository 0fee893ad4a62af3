import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query, type ApiOutboxEntry, type ApiOutboxMessage, type Page } from '../api';
import { Table } from '../list';
import { Show, Time, useLoad } from '../ui';

interface Key {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function SettingsApiPage() {
  const [keys, reload] = useLoad(() => api<{ keys: Key[] }>('/keys'), []);
  const [created, setCreated] = useState<{ key: Key; secret: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <section>
      <h1>Settings → API</h1>
      <form
        class="row"
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.target as HTMLFormElement;
          const name = String(new FormData(form).get('name'));
          try {
            setError(null);
            setCopied(false);
            setCreated(await api<{ key: Key; secret: string }>('/keys', { body: { name } }));
            form.reset();
            reload();
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      >
        <label>
          Key name
          <input name="name" required maxLength={100} placeholder="backend" />
        </label>
        <button type="submit">Create key</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {created && (
        <div class="secret" role="status">
          <p>
            Key “{created.key.name}” created. It is shown <strong>once</strong>: store it now.
          </p>
          <code data-testid="new-secret">{created.secret}</code>{' '}
          <button
            type="button"
            onClick={async () => {
              await navigator.clipboard?.writeText(created.secret).catch(() => {});
              setCopied(true);
            }}
          >
            {copied ? 'Copied' : 'Copy'}
          </button>
        </div>
      )}
      <h2>Keys</h2>
      <Show data={keys}>
        {(v) =>
          v.keys.length === 0 ? (
            <p class="empty">No keys in this workspace yet.</p>
          ) : (
            <Table
              testId="keys"
              rows={v.keys}
              rowKey={(k) => k.id}
              columns={[
                { header: 'Name', cell: (k) => k.name },
                { header: 'Prefix', cell: (k) => <code>{k.prefix}…</code> },
                { header: 'Created', cell: (k) => <Time iso={k.createdAt} /> },
                { header: 'Last used', cell: (k) => (k.lastUsedAt ? <Time iso={k.lastUsedAt} /> : '–') },
                {
                  header: 'Status',
                  cell: (k) =>
                    k.revokedAt ? (
                      <span>
                        Revoked <Time iso={k.revokedAt} />
                      </span>
                    ) : (
                      <button
                        type="button"
                        class="danger"
                        onClick={async () => {
                          if (!confirm(`Revoke “${k.name}”? Requests with it are refused within seconds.`)) return;
                          await api(`/keys/${k.id}/revoke`, { body: {} });
                          reload();
                        }}
                      >
                        Revoke
                      </button>
                    ),
                },
              ]}
            />
          )
        }
      </Show>
      <WebhookSecret />
      <MailSettings />
    </section>
  );
}

/** `whsec_` and the last 4 characters; the rest as dots. */
function mask(secret: string): string {
  return `${secret.slice(0, 6)}${'•'.repeat(16)}${secret.slice(-4)}`;
}

/** The webhook signing secret: masked until revealed; Rotate is POST /v1/settings/webhook-secret/rotate's service. */
function WebhookSecret() {
  const [data] = useLoad(() => api<{ secret: string }>('/settings/webhook-secret'), []);
  const [rotated, setRotated] = useState<{ secret: string; previousValidUntil: string } | null>(null);
  const [shown, setShown] = useState(false);
  const [copied, setCopied] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const statusLine = useRef<HTMLParagraphElement>(null);
  return (
    <>
      <h2>Webhook signing secret</h2>
      <p class="muted">
        Workflow webhooks are signed with it (Standard Webhooks: <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>).
      </p>
      <Show data={data}>
        {(v) => {
          const secret = rotated?.secret ?? v.secret;
          return (
            <>
              <p class="row">
                <code data-testid="webhook-secret" aria-label={shown ? 'Webhook signing secret' : 'Webhook signing secret, hidden'}>
                  {shown ? secret : mask(secret)}
                </code>
                <button type="button" aria-pressed={shown} onClick={() => setShown((x) => !x)}>
                  {shown ? 'Hide' : 'Reveal'}
                </button>
                <button
                  type="button"
                  onClick={async () => {
                    await navigator.clipboard?.writeText(secret).catch(() => {});
                    setCopied(true);
                  }}
                >
                  {copied ? 'Copied' : 'Copy'}
                </button>
                <button
                  type="button"
                  class="danger"
                  aria-disabled={busy}
                  onClick={async () => {
                    if (busy || !confirm('Rotate the webhook signing secret? The current one is still sent beside the new one for 24 hours.')) return;
                    setBusy(true);
                    setError(null);
                    try {
                      setRotated(await api<{ secret: string; previousValidUntil: string }>('/settings/webhook-secret/rotate', { body: {} }));
                      setCopied(false);
                      setTimeout(() => statusLine.current?.focus(), 0);
                    } catch (err) {
                      setError((err as Error).message);
                    } finally {
                      setBusy(false);
                    }
                  }}
                >
                  Rotate
                </button>
              </p>
              <p class="muted" role="status" tabIndex={-1} ref={statusLine}>
                {rotated ? (
                  <>
                    Rotated. Webhooks carry both signatures until <Time iso={rotated.previousValidUntil} />, the new secret's first.
                  </>
                ) : (
                  ''
                )}
              </p>
              {error && (
                <p class="error" role="alert">
                  {error}
                </p>
              )}
            </>
          );
        }}
      </Show>
    </>
  );
}

interface Mail {
  transport: 'smtp' | 'outbox';
  smtpConfigured: boolean;
  from: string;
  outboxDir?: string;
}

function fileSize(n: number): string {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB`;
}

/** Mail settings (read-only: they come from SMTP_URL and EMAIL_FROM) and this workspace's outbox. */
function MailSettings() {
  const [mail] = useLoad(() => api<{ mail: Mail }>('/settings/mail'), []);
  const [limit, setLimit] = useState(50);
  const [outbox] = useLoad(() => api<{ outbox: Omit<Page<ApiOutboxEntry>, 'cursor'> & { scanned: number; total: number } }>(`/outbox${query({ limit: String(limit) })}`), [limit]);
  const [open, setOpen] = useState<string | null>(null);
  return (
    <>
      <h2>Mail</h2>
      <Show data={mail}>
        {({ mail: m }) => (
          <dl class="facts" data-testid="mail-settings">
            <dt>Sent through</dt>
            <dd>{m.smtpConfigured ? 'SMTP (SMTP_URL is set)' : 'the outbox: SMTP_URL is not set, so emails are written as .eml files'}</dd>
            <dt>From (EMAIL_FROM)</dt>
            <dd>
              <code>{m.from}</code>
            </dd>
            {m.outboxDir && (
              <>
                <dt>Outbox directory (OUTBOX_DIR)</dt>
                <dd>
                  <code>{m.outboxDir}</code>
                </dd>
              </>
            )}
          </dl>
        )}
      </Show>
      <h3>Outbox</h3>
      <Show data={outbox}>
        {({ outbox: o }) =>
          o.items.length === 0 ? (
            <p class="empty">No emails of this workspace in the outbox. An email step of a workflow writes one here while SMTP_URL is not set.</p>
          ) : (
            <>
              <Table
                testId="outbox"
                rows={o.items}
                rowKey={(e) => e.name}
                columns={[
                  { header: 'Written', cell: (e) => <Time iso={e.writtenAt} /> },
                  { header: 'To', cell: (e) => e.to ?? '–' },
                  { header: 'Subject', cell: (e) => e.subject ?? '–' },
                  { header: 'Size', cell: (e) => fileSize(e.size) },
                  {
                    header: '',
                    cell: (e) => (
                      <button type="button" aria-expanded={open === e.name} aria-controls="outbox-message" onClick={() => setOpen(open === e.name ? null : e.name)}>
                        {open === e.name ? 'Close' : 'View'}
                        <span class="sr"> {e.subject ?? e.name}</span>
                      </button>
                    ),
                  },
                ]}
              />
              <p class="muted">
                Newest first; the {o.scanned} newest of the outbox's {o.total} files are looked at.
              </p>
              {o.hasMore && (
                <button type="button" onClick={() => setLimit(100)} disabled={limit >= 100}>
                  Show up to 100
                </button>
              )}
              {open && <OutboxMessage name={open} />}
            </>
          )
        }
      </Show>
    </>
  );
}

function OutboxMessage({ name }: { name: string }) {
  const [data] = useLoad(() => api<{ message: ApiOutboxMessage }>(`/outbox/${encodeURIComponent(name)}`), [name]);
  // Opened from its row's View button: the keyboard focus goes to the message.
  const box = useRef<HTMLElement>(null);
  useEffect(() => box.current?.focus(), [name]);
  return (
    <section id="outbox-message" aria-label="Outbox message" tabIndex={-1} ref={box}>
      <Show data={data}>
        {({ message: m }) => (
          <>
            <h4>{m.subject ?? m.name}</h4>
            <p class="muted">
              {m.name} · written <Time iso={m.writtenAt} />
              {m.truncated ? ' · only the first 256 KB is shown' : ''}
            </p>
            <pre data-testid="outbox-message">{m.text}</pre>
          </>
        )}
      </Show>
    </section>
  );
}
