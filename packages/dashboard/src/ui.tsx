/** Small shared pieces: times (local, UTC on hover), links, loading/error/empty states. */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { navigate } from './router';

export function Time({ iso }: { iso: string }) {
  const d = new Date(iso);
  return (
    <time dateTime={iso} title={`${d.toISOString().replace('T', ' ').replace('Z', ' UTC')}`}>
      {d.toLocaleString()}
    </time>
  );
}

export function Link({ href, children, class: cls }: { href: string; children: ComponentChildren; class?: string }) {
  return (
    <a
      href={href}
      class={cls}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

export type Loadable<T> = { state: 'loading' } | { state: 'error'; message: string } | { state: 'ok'; value: T };

/** Loads on mount and whenever `deps` change. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): [Loadable<T>, () => void] {
  const [v, setV] = useState<Loadable<T>>({ state: 'loading' });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setV({ state: 'loading' });
    load().then(
      (value) => live && setV({ state: 'ok', value }),
      (err: Error) => live && setV({ state: 'error', message: err.message }),
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return [v, () => setN((x) => x + 1)];
}

export function Show<T>({ data, children }: { data: Loadable<T>; children: (v: T) => ComponentChildren }) {
  if (data.state === 'loading') return <p class="muted" role="status">Loading…</p>;
  if (data.state === 'error') return <p class="error" role="alert">Could not load: {data.message}</p>;
  return <>{children(data.value)}</>;
}

export function FirstEventHelp() {
  const origin = location.origin;
  return (
    <div class="empty">
      <p>No events yet. Create a key in <Link href="/settings/api">Settings → API</Link>, then send a first event:</p>
      <pre>
        <code>{`curl -X POST ${origin}/v1/events \\
  -H "Authorization: Bearer sk_live_…" \\
  -H "Content-Type: application/json" \\
  -d '{"event":"user.signup","identify":{"email":"jane@example.com"}}'`}</code>
      </pre>
    </div>
  );
}

/** An empty list's help: "No X yet. Create one with the API", with the curl call that does. */
export function CreateWithApi({ what, path, body }: { what: string; path: string; body: unknown }) {
  return (
    <div class="empty">
      <p>No {what} yet. Create one with the API, for example:</p>
      <pre>
        <code>{`curl -X POST ${location.origin}${path} \\
  -H "Authorization: Bearer sk_live_…" \\
  -H "Content-Type: application/json" \\
  -d '${JSON.stringify(body)}'`}</code>
      </pre>
    </div>
  );
}

export function Json({ value }: { value: unknown }) {
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

/**
 * A button that runs one write (Retry, Pause, Activate…) and hands its answer back: the page
 * updates the row in place, so the button keeps the keyboard focus (aria-disabled, never
 * disabled, which would drop it). Its error, if any, is said beside it.
 */
export function ActionButton<T>({
  label,
  ariaLabel,
  run,
  onDone,
  done = false,
  doneLabel,
  class: cls,
}: {
  label: string;
  ariaLabel?: string;
  run: () => Promise<T>;
  onDone: (v: T) => void;
  /** Nothing more to do (already retried): the button stays, inert, saying `doneLabel`. */
  done?: boolean;
  doneLabel?: string;
  class?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <button
        type="button"
        class={cls}
        aria-disabled={busy || done}
        aria-label={ariaLabel}
        onClick={async () => {
          if (busy || done) return;
          setBusy(true);
          setError(null);
          try {
            onDone(await run());
          } catch (err) {
            setError((err as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        {done ? (doneLabel ?? label) : label}
      </button>
      {error && (
        <span class="error" role="alert">
          {' '}
          {error}
        </span>
      )}
    </>
  );
}
