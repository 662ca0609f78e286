import { FormEvent, useState } from 'react';
import { SignInError, signInWithAccessToken, signInWithServicePrincipal, StoredToken } from '../lib/auth';

export function SignIn({ onSignedIn }: { onSignedIn: (t: StoredToken) => void }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [tenant, setTenant] = useState('');
  const [clientId, setClientId] = useState('');
  const [secret, setSecret] = useState('');
  const [token, setToken] = useState('');

  const attempt = async (fn: () => Promise<StoredToken> | StoredToken) => {
    setError(undefined);
    setBusy(true);
    try {
      onSignedIn(await fn());
    } catch (err) {
      setError(err instanceof SignInError || err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <h1>Sign in to Cerulean</h1>
      <p>The dashboard calls the platform's ARM API with your token, like any other client.</p>
      {error && (
        <p role="alert" className="error-box">
          {error}
        </p>
      )}
      <div className="sign-in-forms">
        <form
          aria-labelledby="sp-heading"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            void attempt(() => signInWithServicePrincipal(tenant, clientId, secret));
          }}
        >
          <h2 id="sp-heading">Service principal</h2>
          <label>
            Tenant
            <input value={tenant} onChange={(e) => setTenant(e.target.value)} autoComplete="off" />
          </label>
          <label>
            Client ID
            <input value={clientId} onChange={(e) => setClientId(e.target.value)} autoComplete="username" />
          </label>
          <label>
            Client secret
            <input type="password" value={secret} onChange={(e) => setSecret(e.target.value)} autoComplete="current-password" />
          </label>
          <button type="submit" disabled={busy}>
            Sign in
          </button>
        </form>
        <form
          aria-labelledby="token-heading"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            void attempt(() => signInWithAccessToken(token));
          }}
        >
          <h2 id="token-heading">Use an access token</h2>
          <label>
            Access token
            <textarea value={token} onChange={(e) => setToken(e.target.value)} rows={4} spellCheck={false} />
          </label>
          <p className="hint">
            For example from <code>az account get-access-token --query accessToken -o tsv</code>.
          </p>
          <button type="submit" disabled={busy}>
            Use token
          </button>
        </form>
      </div>
    </main>
  );
}
