import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Api } from './api.js';
import { ScoreChart } from './chart.js';
import { Badge } from './fleet.js';
import { ago, agentPath } from './format.js';
import type { AgentDetail, FleetEvent, GapReport, HealthReport, HistoryItem, ProbeResult } from './types.js';

interface Loaded {
  detail: AgentDetail;
  health: HealthReport | null;
  gap: GapReport | null;
  history: HistoryItem[];
}

/** A document the agent may not have sent yet: null on 404. */
async function optional<T>(request: Promise<T>): Promise<T | null> {
  try {
    return await request;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

function Probe({ api, namespace, name }: { api: Api; namespace: string; name: string }) {
  const [state, setState] = useState<
    { kind: 'idle' } | { kind: 'busy' } | { kind: 'done'; results: ProbeResult[] } | { kind: 'error'; message: string }
  >({ kind: 'idle' });
  const probe = async () => {
    setState({ kind: 'busy' });
    try {
      const answer = await api.post<{ instances: ProbeResult[] }>(`${agentPath(namespace, name)}/probe`, {});
      setState({ kind: 'done', results: answer.instances });
    } catch (err) {
      setState({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  };
  return (
    <section aria-labelledby="probe-title">
      <h2 id="probe-title">Probe now</h2>
      <p class="hint">Asks each instance for a live report through its connection (connected or hosted mode).</p>
      <button type="button" onClick={() => void probe()} disabled={state.kind === 'busy'}>
        {state.kind === 'busy' ? 'Probing…' : 'Probe now'}
      </button>
      <div role="status" aria-live="polite" data-testid="probe-status">
        {state.kind === 'error' && <p class="error">The probe failed: {state.message}</p>}
        {state.kind === 'done' &&
          (state.results.length === 0 ? (
            <p>No instance to probe.</p>
          ) : (
            <ul class="probe-results">
              {state.results.map((r) => (
                <li key={r.instanceId}>
                  <code>{r.instanceId}</code>:{' '}
                  {r.status === 'ok'
                    ? `live report (${r.report?.status ?? 'no status'}) in ${r.latencyMs} ms`
                    : `${r.status}: ${r.error ?? ''}`}
                </li>
              ))}
            </ul>
          ))}
      </div>
    </section>
  );
}

export function AgentView(props: {
  api: Api;
  namespace: string;
  name: string;
  subscribe: (listener: (event: FleetEvent) => void) => () => void;
}) {
  const { api, namespace, name, subscribe } = props;
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<{ status: number; message: string } | null>(null);
  const timer = useRef<number | undefined>(undefined);

  const load = useCallback(async () => {
    const base = agentPath(namespace, name);
    try {
      const [detail, health, gap, history] = await Promise.all([
        api.get<AgentDetail>(base),
        optional(api.get<{ health: HealthReport }>(`${base}/health`)),
        optional(api.get<{ gap: GapReport }>(`${base}/gap`)),
        api.get<{ items: HistoryItem[] }>(`${base}/history`),
      ]);
      setLoaded({ detail, health: health?.health ?? null, gap: gap?.gap ?? null, history: history.items });
      setError(null);
    } catch (err) {
      setError({
        status: err instanceof ApiError ? err.status : 0,
        message: err instanceof Error ? err.message : String(err),
      });
    }
  }, [api, namespace, name]);

  useEffect(() => {
    setLoaded(null);
    setError(null);
    void load();
    const unsubscribe = subscribe((event) => {
      if (event.namespace !== namespace || event.name !== name) return;
      timer.current ??= window.setTimeout(() => {
        timer.current = undefined;
        void load();
      }, 200);
    });
    return () => {
      unsubscribe();
      window.clearTimeout(timer.current);
      timer.current = undefined;
    };
  }, [load, subscribe, namespace, name]);

  const back = (
    <p>
      <a href="#/">← All agents</a>
    </p>
  );
  if (error && !loaded) {
    return (
      <>
        {back}
        <div class="state error" role="alert">
          <p>
            {error.status === 404
              ? `No agent ${namespace}/${name} is registered (it may have been deleted).`
              : `This agent could not be loaded: ${error.message}`}
          </p>
          {error.status !== 404 && (
            <button type="button" onClick={() => void load()}>
              Try again
            </button>
          )}
        </div>
      </>
    );
  }
  if (!loaded) {
    return (
      <>
        {back}
        <p class="state" role="status">
          Loading {namespace}/{name}…
        </p>
      </>
    );
  }
  const { detail, health, gap, history } = loaded;
  const checks = health?.checks ?? [];
  const violations = gap?.violations ?? [];
  return (
    <>
      {back}
      <h1>
        {detail.name} <span class="muted">in {detail.namespace}</span>
      </h1>
      <dl class="facts">
        <div>
          <dt>Phase</dt>
          <dd data-testid="agent-phase">
            <Badge kind="phase" value={detail.phase} />
          </dd>
        </div>
        <div>
          <dt>Grade</dt>
          <dd>
            <Badge kind="grade" value={detail.grade} />
          </dd>
        </div>
        <div>
          <dt>Score</dt>
          <dd>{detail.score ?? '—'}</dd>
        </div>
        <div>
          <dt>Instances</dt>
          <dd>
            {detail.instancesLive} live of {detail.instancesTotal}
          </dd>
        </div>
        <div>
          <dt>Runtime</dt>
          <dd>{detail.runtime}</dd>
        </div>
        <div>
          <dt>Last heartbeat</dt>
          <dd>
            <time dateTime={detail.lastSeen ?? undefined} title={detail.lastSeen ?? undefined}>
              {ago(detail.lastSeen)}
            </time>
          </dd>
        </div>
      </dl>

      <section aria-labelledby="history-title">
        <h2 id="history-title">Score history</h2>
        <ScoreChart items={history} />
      </section>

      <section aria-labelledby="checks-title">
        <h2 id="checks-title">Health checks</h2>
        {health === null ? (
          <p class="state">No health report yet: the agent has not sent a heartbeat.</p>
        ) : checks.length === 0 ? (
          <p class="state">The report has no checks.</p>
        ) : (
          <div class="table-wrap" tabIndex={0} role="region" aria-label="Health checks">
            <table data-testid="checks-table">
              <thead>
                <tr>
                  <th scope="col">Check</th>
                  <th scope="col">Status</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Latency</th>
                  <th scope="col">What to do</th>
                </tr>
              </thead>
              <tbody>
                {checks.map((c) => (
                  <tr key={c.id}>
                    <td data-label="Check">
                      <code>{c.id}</code>
                    </td>
                    <td data-label="Status">
                      <Badge kind="check" value={c.status} />
                    </td>
                    <td data-label="Severity">{c.severity ?? '—'}</td>
                    <td data-label="Latency" class="num">
                      {c.latencyMs !== undefined ? `${c.latencyMs} ms` : '—'}
                    </td>
                    <td data-label="What to do">
                      {c.message && <p>{c.message}</p>}
                      {c.remediation && <p class="muted">{c.remediation}</p>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section aria-labelledby="violations-title">
        <h2 id="violations-title">Compliance violations</h2>
        {gap === null ? (
          <p class="state">No audit yet: the agent has not sent a heartbeat.</p>
        ) : violations.length === 0 ? (
          <p class="state">No violation: every rule of the selected packs passes.</p>
        ) : (
          <ul class="violations">
            {violations.map((v) => (
              <li key={v.ruleId}>
                <Badge kind="severity" value={v.severity} /> <strong>{v.ruleId}</strong> {v.title}
                {v.message && <p>{v.message}</p>}
                {v.remediation && <p class="muted">{v.remediation}</p>}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="instances-title">
        <h2 id="instances-title">Instances</h2>
        {detail.instances.length === 0 ? (
          <p class="state">No instance is registered.</p>
        ) : (
          <div class="table-wrap" tabIndex={0} role="region" aria-label="Instances">
            <table data-testid="instances-table">
              <thead>
                <tr>
                  <th scope="col">Instance</th>
                  <th scope="col">Connection</th>
                  <th scope="col">Transport</th>
                  <th scope="col">Phase</th>
                  <th scope="col">Score</th>
                  <th scope="col">Last seen</th>
                </tr>
              </thead>
              <tbody>
                {detail.instances.map((i) => (
                  <tr key={i.instanceId} data-instance={i.instanceId}>
                    <td data-label="Instance">
                      <code>{i.instanceId}</code>
                    </td>
                    <td data-label="Connection" data-testid="instance-connection">
                      <Badge kind="conn" value={i.connectionStatus} />
                    </td>
                    <td data-label="Transport">
                      {i.transport} ({i.deploymentMode})
                    </td>
                    <td data-label="Phase">
                      <Badge kind="phase" value={i.phase} />
                    </td>
                    <td data-label="Score" class="num">
                      {i.score ?? '—'}
                    </td>
                    <td data-label="Last seen">
                      <time dateTime={i.lastSeen ?? undefined} title={i.lastSeen ?? undefined}>
                        {ago(i.lastSeen)}
                      </time>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <Probe api={api} namespace={namespace} name={name} />
    </>
  );
}
