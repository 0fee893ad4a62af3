import { useState } from 'preact/hooks';
import { api, type SessionInfo } from '../api';

function CredentialsForm({ title, submit, intro, newPassword }: { title: string; submit: (email: string, password: string) => Promise<void>; intro?: string; newPassword?: boolean }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main id="main" class="narrow">
      <h1>{title}</h1>
      {intro && <p>{intro}</p>}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const f = new FormData(e.target as HTMLFormElement);
          setBusy(true);
          setError(null);
          try {
            await submit(String(f.get('email')), String(f.get('password')));
          } catch (err) {
            setError((err as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete={newPassword ? 'new-password' : 'current-password'} minLength={newPassword ? 8 : undefined} required />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : title}
        </button>
      </form>
    </main>
  );
}

export function SignInPage({ onSignedIn }: { onSignedIn: (s: SessionInfo) => void }) {
  return <CredentialsForm title="Sign in" submit={async (email, password) => onSignedIn(await api<SessionInfo>('/sign-in', { body: { email, password } }))} />;
}

export function SetupPage({ onSignedIn }: { onSignedIn: (s: SessionInfo) => void }) {
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
  return (
    <CredentialsForm
      title="Create the first user"
      intro="This one-time link lets you choose the first dashboard user's email and password (workspace “default”)."
      newPassword
      submit={async (email, password) => onSignedIn(await api<SessionInfo>('/setup', { body: { token, email, password } }))}
    />
  );
}
