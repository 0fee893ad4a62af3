import { useState } from 'preact/hooks';
import { api } from '../api';
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
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Prefix</th>
                    <th>Created</th>
                    <th>Last used</th>
                    <th>Status</th>
                  </tr>
                </thead>
                <tbody>
                  {v.keys.map((k) => (
                    <tr>
                      <td>{k.name}</td>
                      <td>
                        <code>{k.prefix}…</code>
                      </td>
                      <td>
                        <Time iso={k.createdAt} />
                      </td>
                      <td>{k.lastUsedAt ? <Time iso={k.lastUsedAt} /> : '–'}</td>
                      <td>
                        {k.revokedAt ? (
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
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
    </section>
  );
}
