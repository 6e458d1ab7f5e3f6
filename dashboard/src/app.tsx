import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api, ApiError, checkKey, forgetKey, saveKey, savedKey, type StreamState } from './api.js';
import { AgentView } from './agent.js';
import { FleetView, type FleetData } from './fleet.js';
import { keyOf } from './format.js';
import type { AgentSummary, ConnectionStats, FleetEvent } from './types.js';

type Route = { view: 'fleet' } | { view: 'agent'; namespace: string; name: string };

function routeOf(hash: string): Route {
  const match = /^#\/agents\/([^/]+)\/([^/]+)$/.exec(hash);
  if (match?.[1] && match[2]) {
    return { view: 'agent', namespace: decodeURIComponent(match[1]), name: decodeURIComponent(match[2]) };
  }
  return { view: 'fleet' };
}

function SignIn({ onSignedIn }: { onSignedIn: (key: string) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await checkKey(key.trim());
      onSignedIn(key.trim());
    } catch (err) {
      setError(
        err instanceof ApiError && (err.status === 401 || err.status === 403)
          ? 'That key was refused. Use the admin key: the apiKey of the agentspec-control-plane Secret in the release namespace.'
          : err instanceof Error
            ? err.message
            : String(err),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>AgentSpec fleet</h1>
      <form onSubmit={(e) => void submit(e)} aria-describedby={error ? 'signin-error' : undefined}>
        <label for="admin-key">Admin key</label>
        <input
          id="admin-key"
          name="admin-key"
          type="password"
          autocomplete="off"
          required
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
        />
        <p class="hint">
          Kept in this tab only.{' '}
          <code>kubectl get secret agentspec-control-plane -o jsonpath='&#123;.data.apiKey&#125;'</code> | base64 -d
        </p>
        <button type="submit" disabled={busy || key.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error && (
          <p id="signin-error" class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

const LIVE_LABEL: Record<StreamState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
};

async function loadAll(api: Api): Promise<AgentSummary[]> {
  const items: AgentSummary[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '500', ...(cursor ? { cursor } : {}) });
    const page: { items: AgentSummary[]; nextCursor: string | null } = await api.get(
      `/api/v1/namespaces/-/agents?${query}`,
    );
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

function Dashboard({ api, onSignOut }: { api: Api; onSignOut: () => void }) {
  const [route, setRoute] = useState<Route>(() => routeOf(location.hash));
  const [stream, setStream] = useState<StreamState>('connecting');
  const [fleet, setFleet] = useState<FleetData>({ state: 'loading' });
  const [stats, setStats] = useState<ConnectionStats | null>(null);
  const listeners = useRef(new Set<(event: FleetEvent) => void>());
  const pending = useRef(new Set<string>());
  const timers = useRef<{ agents?: number; stats?: number }>({});

  const reload = useCallback(async () => {
    setFleet((f) => (f.state === 'ready' ? f : { state: 'loading' }));
    try {
      const items = await loadAll(api);
      setFleet({ state: 'ready', agents: new Map(items.map((a) => [keyOf(a.namespace, a.name), a])) });
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return onSignOut();
      setFleet({ state: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  }, [api, onSignOut]);

  const reloadStats = useCallback(async () => {
    try {
      setStats(await api.post<ConnectionStats>('/api/v1/agents/get_connection_stats', {}));
    } catch {
      // the counters keep their last values; the table says what is wrong
    }
  }, [api]);

  /** The agents an event named, fetched again (coalesced: a burst of heartbeats is one request per agent). */
  const refreshPending = useCallback(async () => {
    const keys = [...pending.current];
    pending.current.clear();
    const updates = await Promise.all(
      keys.map(async (key) => {
        const [namespace = '', name = ''] = key.split('/');
        try {
          const page = await api.get<{ items: AgentSummary[] }>(
            `/api/v1/namespaces/${encodeURIComponent(namespace)}/agents?name=${encodeURIComponent(name)}`,
          );
          return [key, page.items[0]] as const;
        } catch {
          return [key, undefined, true] as const;
        }
      }),
    );
    setFleet((f) => {
      if (f.state !== 'ready') return f;
      const agents = new Map(f.agents);
      for (const [key, agent, failed] of updates) {
        if (agent) agents.set(key, agent);
        else if (!failed) agents.delete(key);
      }
      return { state: 'ready', agents };
    });
  }, [api]);

  useEffect(() => {
    void reload();
    void reloadStats();
    const stop = api.followEvents({
      onEvent: (event) => {
        pending.current.add(keyOf(event.namespace, event.name));
        timers.current.agents ??= window.setTimeout(() => {
          timers.current.agents = undefined;
          void refreshPending();
        }, 100);
        timers.current.stats ??= window.setTimeout(() => {
          timers.current.stats = undefined;
          void reloadStats();
        }, 500);
        for (const listener of listeners.current) listener(event);
      },
      onReset: () => {
        void reload();
        void reloadStats();
      },
      onState: (state) => {
        setStream(state);
        // Back after a break: what happened meanwhile comes as events (Last-Event-ID) or as a reset.
      },
      onUnauthorized: onSignOut,
    });
    const onHash = () => setRoute(routeOf(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => {
      stop();
      window.removeEventListener('hashchange', onHash);
      window.clearTimeout(timers.current.agents);
      window.clearTimeout(timers.current.stats);
    };
  }, [api, reload, reloadStats, refreshPending, onSignOut]);

  const subscribe = useCallback((listener: (event: FleetEvent) => void) => {
    listeners.current.add(listener);
    return () => void listeners.current.delete(listener);
  }, []);

  useEffect(() => {
    document.title = route.view === 'agent' ? `${route.namespace}/${route.name} · AgentSpec fleet` : 'AgentSpec fleet';
    document.getElementById('main')?.focus();
  }, [route]);

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">
          AgentSpec fleet
        </a>
        <span class={`live live-${stream}`} role="status" aria-live="polite" data-testid="stream-state">
          <span class="dot" aria-hidden="true" />
          {LIVE_LABEL[stream]}
        </span>
        <button type="button" class="link" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {route.view === 'agent' ? (
          <AgentView api={api} namespace={route.namespace} name={route.name} subscribe={subscribe} />
        ) : (
          <FleetView fleet={fleet} stats={stats} onRetry={() => void reload()} />
        )}
      </main>
    </>
  );
}

export function App() {
  const [key, setKey] = useState<string | null>(() => savedKey());
  const api = useMemo(() => (key ? new Api(key) : null), [key]);
  const signOut = useCallback(() => {
    forgetKey();
    setKey(null);
  }, []);
  if (!api) {
    return (
      <SignIn
        onSignedIn={(k) => {
          saveKey(k);
          setKey(k);
        }}
      />
    );
  }
  return <Dashboard api={api} onSignOut={signOut} />;
}
