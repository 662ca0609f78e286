import { useEffect, useState } from 'react';
import { ActivityProvider } from './components';
import { currentToken, signOut, StoredToken } from './lib/auth';
import { ClusterPage } from './pages/ClusterPage';
import { OperationsPage } from './pages/OperationsPage';
import { Overview } from './pages/Overview';
import { SignIn } from './pages/SignIn';
import { operationsHref, parseRoute } from './routes';

export function App() {
  const [token, setToken] = useState<StoredToken | undefined>(() => currentToken());
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const onHash = () => setHash(window.location.hash);
    const onSignedOut = () => setToken(undefined);
    window.addEventListener('hashchange', onHash);
    window.addEventListener('cerulean:signed-out', onSignedOut);
    return () => {
      window.removeEventListener('hashchange', onHash);
      window.removeEventListener('cerulean:signed-out', onSignedOut);
    };
  }, []);

  if (!token) return <SignIn onSignedIn={setToken} />;
  const route = parseRoute(hash);
  return (
    <ActivityProvider>
      <header className="top">
        <span className="brand">Cerulean</span>
        <nav aria-label="Main">
          <a href="#/" aria-current={route.page === 'overview' ? 'page' : undefined}>
            Overview
          </a>
          <a href={operationsHref()} aria-current={route.page === 'operations' ? 'page' : undefined}>
            Operations
          </a>
        </nav>
        <span className="who">
          Signed in as {token.principal}{' '}
          <button
            onClick={() => {
              signOut();
              setToken(undefined);
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      {route.page === 'overview' && <Overview />}
      {route.page === 'cluster' && <ClusterPage key={route.clusterId} clusterId={route.clusterId} />}
      {route.page === 'operations' && <OperationsPage key={JSON.stringify(route.filters)} initial={route.filters} />}
    </ActivityProvider>
  );
}
