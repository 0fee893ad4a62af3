import { useState } from 'preact/hooks';
import { api, query, type ApiRun, type ApiRunStep, type ApiWorkflow, type Page } from '../api';
import { PAGE_SIZE, PagedTable, Table, type Column } from '../list';
import { ActionButton, CreateWithApi, Json, Link, Show, Time, useLoad } from '../ui';

/** Pause / Activate: the same service as POST /v1/workflows/:id/pause|activate. */
function StatusButton({ wf, onChanged }: { wf: ApiWorkflow; onChanged: (w: ApiWorkflow) => void }) {
  const action = wf.status === 'active' ? 'pause' : 'activate';
  const label = action === 'pause' ? 'Pause' : 'Activate';
  return (
    <ActionButton
      label={label}
      ariaLabel={`${label} ${wf.name}`}
      run={() => api<{ workflow: ApiWorkflow }>(`/workflows/${encodeURIComponent(wf.id)}/${action}`, { body: {} })}
      onDone={(r) => onChanged(r.workflow)}
    />
  );
}


export function WorkflowsPage() {
  // A paused or activated workflow replaces its row in place: the button keeps the focus.
  const [changed, setChanged] = useState<Record<string, ApiWorkflow>>({});
  const change = (w: ApiWorkflow) => setChanged((c) => ({ ...c, [w.id]: w }));
  return (
    <section>
      <h1>Workflows</h1>
      <p>
        <Link href="/deliveries?status=failed">Failed webhook deliveries</Link> · <Link href="/deliveries">All webhook deliveries</Link>
      </p>
      <PagedTable
        testId="workflows"
        noun="workflows"
        load={async (cursor) => (await api<{ workflows: Page<ApiWorkflow> }>(`/workflows${query({ cursor, limit: String(PAGE_SIZE) })}`)).workflows}
        deps={[]}
        empty={<CreateWithApi what="workflows" path="/v1/workflows" body={{ name: 'Welcome', trigger: { event: 'user.signup' }, steps: [{ id: 'notify', type: 'webhook', url: 'https://example.com/hook' }] }} />}
        present={(w) => changed[w.id] ?? w}
        rowKey={(w) => w.id}
        columns={[
          { header: 'Name', cell: (w) => <Link href={`/workflows/${encodeURIComponent(w.id)}`}>{w.name}</Link> },
          { header: 'Status', cell: (w) => <span class={`badge ${w.status}`}>{w.status}</span> },
          { header: 'Version', cell: (w) => w.version },
          { header: 'Updated', cell: (w) => <Time iso={w.updatedAt} /> },
          { header: '', cell: (w) => <StatusButton wf={w} onChanged={change} /> },
        ]}
      />
    </section>
  );
}

const RUN_COLUMNS: Column<ApiRun>[] = [
  { header: 'Run', cell: (r) => <Link href={`/runs/${encodeURIComponent(r.id)}`}>{r.id}</Link> },
  { header: 'Status', cell: (r) => <span class={`badge ${r.status}`}>{r.status}</span> },
  { header: 'Contact', cell: (r) => <Link href={`/contacts/${encodeURIComponent(r.contactId)}`}>{r.contactId}</Link> },
  { header: 'Version', cell: (r) => r.version },
  { header: 'Started', cell: (r) => <Time iso={r.createdAt} /> },
];

export function WorkflowPage({ id }: { id: string }) {
  const e = encodeURIComponent(id);
  const [wf] = useLoad(() => api<{ workflow: ApiWorkflow }>(`/workflows/${e}`), [id]);
  const [changed, setChanged] = useState<ApiWorkflow | null>(null);
  return (
    <section>
      <p>
        <Link href="/workflows">← Workflows</Link>
      </p>
      <Show data={wf}>
        {({ workflow: loaded }) => {
          const w = changed ?? loaded;
          const { id: _id, version, status, createdAt, updatedAt, ...definition } = w;
          return (
            <>
              <h1>
                {w.name} <span class={`badge ${status}`}>{status}</span>
              </h1>
              <p class="muted">
                {w.id} · version {version} · created <Time iso={createdAt} /> · updated <Time iso={updatedAt} />
              </p>
              <p class="row">
                <StatusButton wf={w} onChanged={setChanged} />
                <Link href={`/deliveries?workflowId=${e}`}>Webhook deliveries of this workflow</Link>
              </p>
              <h2>Definition</h2>
              <Json value={definition} />
            </>
          );
        }}
      </Show>
      <Versions id={id} />
      <h2>Runs</h2>
      <PagedTable
        testId="runs"
        noun="runs"
        load={async (cursor) => (await api<{ runs: Page<ApiRun> }>(`/workflows/${e}/runs${query({ cursor, limit: String(PAGE_SIZE) })}`)).runs}
        deps={[id]}
        empty={<p class="empty">No runs yet. A run starts when an event matching the trigger arrives while the workflow is active.</p>}
        columns={RUN_COLUMNS}
        rowKey={(r) => r.id}
      />
    </section>
  );
}

interface WorkflowVersion {
  version: number;
  savedAt: string;
  current: boolean;
  definition: unknown;
}

/** Every saved version, newest first (runs finish on the version they started on). */
function Versions({ id }: { id: string }) {
  const [data] = useLoad(() => api<{ versions: WorkflowVersion[]; total: number }>(`/workflows/${encodeURIComponent(id)}/versions`), [id]);
  return (
    <>
      <h2>Versions</h2>
      <Show data={data}>
        {(v) =>
          v.versions.length <= 1 ? (
            <p class="empty">Only one version: the definition above. Saving the workflow again (PUT /v1/workflows/:id) makes a new one; runs finish on the version they started on.</p>
          ) : (
            <>
              <ul class="versions" data-testid="versions">
                {v.versions.map((ver) => (
                  <li key={ver.version}>
                    <details>
                      <summary>
                        Version {ver.version}
                        {ver.current ? ' (current)' : ''} · saved <Time iso={ver.savedAt} />
                      </summary>
                      <Json value={ver.definition} />
                    </details>
                  </li>
                ))}
              </ul>
              {v.total > v.versions.length && <p class="muted">The newest {v.versions.length} of {v.total} versions.</p>}
            </>
          )
        }
      </Show>
    </>
  );
}

const STEP_COLUMNS: Column<ApiRunStep>[] = [
  { header: 'Step', cell: (s) => s.id },
  { header: 'Status', cell: (s) => <span class={`badge ${s.status}`}>{s.status}</span> },
  { header: 'Attempts', cell: (s) => s.attempts },
  { header: 'Started', cell: (s) => (s.startedAt ? <Time iso={s.startedAt} /> : '–') },
  { header: 'Finished', cell: (s) => (s.finishedAt ? <Time iso={s.finishedAt} /> : '–') },
  { header: 'Error', cell: (s) => s.error ?? '' },
];

export function RunPage({ id }: { id: string }) {
  const [data] = useLoad(() => api<{ run: ApiRun }>(`/runs/${encodeURIComponent(id)}`), [id]);
  return (
    <Show data={data}>
      {({ run: r }) => (
        <section>
          <p>
            <Link href={`/workflows/${encodeURIComponent(r.workflowId)}`}>← Workflow</Link>
          </p>
          <h1>
            Run {r.id} <span class={`badge ${r.status}`}>{r.status}</span>
          </h1>
          <dl class="facts">
            <dt>Contact</dt>
            <dd>
              <Link href={`/contacts/${encodeURIComponent(r.contactId)}`}>{r.contactId}</Link>
            </dd>
            <dt>Started by</dt>
            <dd>{r.triggerMessageId ? <Link href={`/events/${encodeURIComponent(r.triggerMessageId)}`}>{r.triggerMessageId}</Link> : '–'}</dd>
            <dt>Version</dt>
            <dd>{r.version}</dd>
            <dt>Started</dt>
            <dd>
              <Time iso={r.createdAt} />
            </dd>
            {r.wakeAt && (
              <>
                <dt>Wakes</dt>
                <dd>
                  <Time iso={r.wakeAt} />
                </dd>
              </>
            )}
          </dl>
          <h2>Steps</h2>
          <Table testId="steps" columns={STEP_COLUMNS} rows={r.steps} rowKey={(s) => s.id} />
          <p>
            <Link href={`/deliveries?workflowId=${encodeURIComponent(r.workflowId)}`}>Webhook deliveries of this workflow</Link>
          </p>
        </section>
      )}
    </Show>
  );
}
