import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiFailure, setCsrf, type SessionInfo } from './api';
import { CatalogPage } from './pages/catalog';
import { ContactPage, ContactsPage } from './pages/contacts';
import { DeliveriesPage, DeliveryPage } from './pages/deliveries';
import { EventPage } from './pages/event';
import { FailedPage } from './pages/failed';
import { LivePage } from './pages/live';
import { OverviewPage } from './pages/overview';
import { SegmentPage, SegmentsPage } from './pages/segments';
import { SettingsApiPage } from './pages/settings-api';
import { SetupPage, SignInPage } from './pages/sign-in';
import { RunPage, WorkflowPage, WorkflowsPage } from './pages/workflows';
import { navigate, usePath } from './router';
import { Link } from './ui';
import './style.css';

const NAV = [
  ['/', 'Overview'],
  ['/live', 'Live events'],
  ['/catalog', 'Event catalogue'],
  ['/contacts', 'Contacts'],
  ['/segments', 'Segments'],
  ['/workflows', 'Workflows'],
  ['/deliveries', 'Webhook deliveries'],
  ['/failed', 'Failed'],
  ['/settings/api', 'Settings → API'],
] as const;

function Page({ path }: { path: string }) {
  const p = path.split('?')[0]!;
  let m: RegExpMatchArray | null;
  if (p === '/') return <OverviewPage />;
  if (p === '/live') return <LivePage />;
  if (p === '/catalog') return <CatalogPage />;
  if (p === '/contacts') return <ContactsPage />;
  if ((m = p.match(/^\/contacts\/([^/]+)$/))) return <ContactPage id={decodeURIComponent(m[1]!)} />;
  if ((m = p.match(/^\/events\/([^/]+)$/))) return <EventPage messageId={decodeURIComponent(m[1]!)} />;
  if (p === '/segments') return <SegmentsPage />;
  if ((m = p.match(/^\/segments\/([^/]+)$/))) return <SegmentPage id={decodeURIComponent(m[1]!)} />;
  if (p === '/workflows') return <WorkflowsPage />;
  if ((m = p.match(/^\/workflows\/([^/]+)$/))) return <WorkflowPage id={decodeURIComponent(m[1]!)} />;
  if ((m = p.match(/^\/runs\/([^/]+)$/))) return <RunPage id={decodeURIComponent(m[1]!)} />;
  if (p === '/deliveries') return <DeliveriesPage search={path.slice(p.length)} />;
  if ((m = p.match(/^\/deliveries\/([^/]+)$/))) return <DeliveryPage id={decodeURIComponent(m[1]!)} />;
  if (p === '/failed') return <FailedPage />;
  if (p === '/settings/api') return <SettingsApiPage />;
  return <p>Page not found. <Link href="/">Back to the overview</Link></p>;
}

function App() {
  const path = usePath();
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const accept = (s: SessionInfo | null) => {
    if (s) setCsrf(s.csrfToken);
    setSession(s);
  };
  useEffect(() => {
    api<SessionInfo>('/session').then(accept, (e: ApiFailure) => (e.status === 401 ? accept(null) : setError(e.message)));
  }, []);

  if (error) return <p class="error" role="alert">The dashboard could not reach the server: {error}</p>;
  if (session === undefined) return <p class="muted" role="status">Loading…</p>;
  if (path.startsWith('/setup')) return <SetupPage onSignedIn={(s) => (accept(s), navigate('/'))} />;
  if (session === null) return <SignInPage onSignedIn={(s) => (accept(s), path.startsWith('/sign-in') && navigate('/'))} />;

  const switchTo = async (id: string) => {
    accept(await api<SessionInfo>('/workspace', { body: { workspaceId: id } }));
    navigate(/^\/(contacts|events|segments|workflows|runs|deliveries)\//.test(location.pathname) ? '/' : location.pathname);
  };
  // Test mode: the same pages over the workspace's test data (what sk_test_/pk_test_ keys send).
  const setTestMode = async (enabled: boolean) => {
    accept(await api<SessionInfo>('/test-mode', { body: { enabled } }));
    navigate(/^\/(contacts|events|segments|workflows|runs|deliveries)\//.test(location.pathname) ? '/' : location.pathname);
  };
  const signOut = async () => {
    await api('/sign-out', { body: {} });
    accept(null);
  };
  const here = path.split('?')[0]!;
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <strong class="brand">SMASHSEND</strong>
        <nav aria-label="Main">
          {NAV.map(([href, label]) => (
            <Link href={href} class={here === href || (href !== '/' && here.startsWith(href)) ? 'active' : ''}>
              {label}
            </Link>
          ))}
        </nav>
        <div class="who">
          <label>
            <span class="sr">Workspace</span>
            <select value={session.workspace?.id} onChange={(e) => void switchTo((e.target as HTMLSelectElement).value)} aria-label="Workspace">
              {session.workspaces.map((w) => (
                <option value={w.id}>{w.name}</option>
              ))}
            </select>
          </label>
          <label class="test-switch">
            <input type="checkbox" role="switch" checked={session.testMode} onChange={(e) => void setTestMode((e.target as HTMLInputElement).checked)} />
            Test mode
          </label>
          <span class="muted email">{session.user.email}</span>
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      {session.testMode && (
        <p class="test-banner" role="status">
          Test mode: you are viewing test data (events sent with sk_test_ / pk_test_ keys). Live data is hidden; emails go to the outbox and webhooks only to steps marked "test": true.
        </p>
      )}
      <main id="main" tabIndex={-1} key={`${session.workspace?.id}:${session.testMode ? 'test' : 'live'}`}>
        <Page path={path} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
