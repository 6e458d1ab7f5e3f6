import { useEffect, useMemo, useState } from 'preact/hooks';
import { ago, agentHash } from './format.js';
import type { AgentSummary, ConnectionStats, ConnectionStatus, Grade, Phase } from './types.js';

export type FleetData =
  { state: 'loading' } | { state: 'error'; message: string } | { state: 'ready'; agents: Map<string, AgentSummary> };

const PHASES: Phase[] = ['Healthy', 'Degraded', 'Unhealthy', 'Unknown', 'Offline'];
const GRADES: Grade[] = ['A', 'B', 'C', 'D', 'F'];
const STATUSES: ConnectionStatus[] = ['healthy', 'online', 'degraded', 'unknown', 'offline'];

type SortKey = 'namespace' | 'name' | 'phase' | 'grade' | 'score' | 'instances' | 'lastSeen';
const COLUMNS: { key: SortKey | null; label: string }[] = [
  { key: 'namespace', label: 'Namespace' },
  { key: 'name', label: 'Name' },
  { key: null, label: 'Runtime' },
  { key: null, label: 'Transport' },
  { key: null, label: 'Connection' },
  { key: 'phase', label: 'Phase' },
  { key: 'grade', label: 'Grade' },
  { key: 'score', label: 'Score' },
  { key: 'instances', label: 'Instances' },
  { key: 'lastSeen', label: 'Last heartbeat' },
];

function compare(a: AgentSummary, b: AgentSummary, key: SortKey): number {
  const value = (x: AgentSummary): string | number => {
    switch (key) {
      case 'phase':
        return PHASES.indexOf(x.phase);
      case 'grade':
        return x.grade ?? 'Z';
      case 'score':
        return x.score ?? -1;
      case 'instances':
        return x.instances;
      case 'lastSeen':
        return x.lastSeen ? Date.parse(x.lastSeen) : 0;
      default:
        return x[key];
    }
  };
  const [va, vb] = [value(a), value(b)];
  return va < vb ? -1 : va > vb ? 1 : `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`);
}

export const Badge = ({ kind, value }: { kind: string; value: string | null }) => (
  <span class={`badge ${kind}-${(value ?? 'none').toLowerCase()}`}>{value ?? '—'}</span>
);

function Counters({ agents, stats }: { agents: AgentSummary[]; stats: ConnectionStats | null }) {
  const grades = new Map<string, number>();
  for (const agent of agents) grades.set(agent.grade ?? '—', (grades.get(agent.grade ?? '—') ?? 0) + 1);
  return (
    <section class="counters" aria-label="Fleet summary">
      <div class="counter-group">
        <h2>Agents by grade</h2>
        <ul>
          {[...GRADES, '—'].map((g) => (
            <li key={g} data-testid={`grade-count-${g}`}>
              <Badge kind="grade" value={g === '—' ? null : g} /> <strong>{grades.get(g) ?? 0}</strong>
            </li>
          ))}
        </ul>
      </div>
      <div class="counter-group">
        <h2>Instances by connection</h2>
        <ul>
          {STATUSES.map((s) => (
            <li key={s} data-testid={`connection-count-${s}`}>
              <Badge kind="conn" value={s} /> <strong>{stats ? stats.by_connection_status[s] : '…'}</strong>
            </li>
          ))}
        </ul>
      </div>
    </section>
  );
}

function Select(props: { id: string; label: string; value: string; options: string[]; onChange: (v: string) => void }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        <option value="">All</option>
        {props.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
}

export function FleetView({
  fleet,
  stats,
  onRetry,
}: {
  fleet: FleetData;
  stats: ConnectionStats | null;
  onRetry: () => void;
}) {
  const [namespace, setNamespace] = useState('');
  const [phase, setPhase] = useState('');
  const [grade, setGrade] = useState('');
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: 'name', descending: false });
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 5_000); // the "ago" column only: no request
    return () => window.clearInterval(timer);
  }, []);

  const all = useMemo(() => (fleet.state === 'ready' ? [...fleet.agents.values()] : []), [fleet]);
  const namespaces = useMemo(() => [...new Set(all.map((a) => a.namespace))].sort(), [all]);
  const rows = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return all
      .filter(
        (a) =>
          (!namespace || a.namespace === namespace) &&
          (!phase || a.phase === phase) &&
          (!grade || (a.grade ?? '—') === grade) &&
          (!needle || `${a.namespace}/${a.name} ${a.runtime}`.toLowerCase().includes(needle)),
      )
      .sort((a, b) => compare(a, b, sort.key) * (sort.descending ? -1 : 1));
  }, [all, namespace, phase, grade, search, sort]);

  if (fleet.state === 'loading') {
    return (
      <p class="state" role="status">
        Loading agents…
      </p>
    );
  }
  if (fleet.state === 'error') {
    return (
      <div class="state error" role="alert">
        <p>The agents could not be loaded: {fleet.message}</p>
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      </div>
    );
  }
  return (
    <>
      <h1>Agents</h1>
      <Counters agents={all} stats={stats} />
      {all.length === 0 ? (
        <div class="state empty" role="status">
          <p>No agent has registered yet.</p>
          <p>
            Apply one with <code>kubectl apply -f agent.yaml</code> (the webhook registers its pods), or register one
            running elsewhere with <code>agentspec register agent.yaml</code>.
          </p>
        </div>
      ) : (
        <>
          <form class="filters" role="search" aria-label="Filter agents" onSubmit={(e) => e.preventDefault()}>
            <div class="field grow">
              <label for="search">Search</label>
              <input
                id="search"
                type="search"
                placeholder="name, namespace or runtime"
                value={search}
                onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
              />
            </div>
            <Select
              id="filter-namespace"
              label="Namespace"
              value={namespace}
              options={namespaces}
              onChange={setNamespace}
            />
            <Select id="filter-phase" label="Phase" value={phase} options={PHASES} onChange={setPhase} />
            <Select id="filter-grade" label="Grade" value={grade} options={[...GRADES, '—']} onChange={setGrade} />
          </form>
          <p class="count" role="status" aria-live="polite">
            {rows.length === all.length ? `${all.length} agents` : `${rows.length} of ${all.length} agents`}
          </p>
          <div class="table-wrap" tabIndex={0} role="region" aria-label="Agents table">
            <table data-testid="fleet-table">
              <thead>
                <tr>
                  {COLUMNS.map((c) => (
                    <th
                      key={c.label}
                      scope="col"
                      aria-sort={
                        c.key && sort.key === c.key ? (sort.descending ? 'descending' : 'ascending') : undefined
                      }
                    >
                      {c.key ? (
                        <button
                          type="button"
                          class="sort"
                          onClick={() =>
                            setSort((s) => ({ key: c.key!, descending: s.key === c.key ? !s.descending : false }))
                          }
                        >
                          {c.label}
                          <span aria-hidden="true">{sort.key === c.key ? (sort.descending ? ' ▼' : ' ▲') : ''}</span>
                        </button>
                      ) : (
                        c.label
                      )}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((a) => (
                  <tr key={a.agentId} data-agent={`${a.namespace}/${a.name}`}>
                    <td data-label="Namespace">{a.namespace}</td>
                    <td data-label="Name">
                      <a href={agentHash(a.namespace, a.name)}>{a.name}</a>
                    </td>
                    <td data-label="Runtime">{a.runtime}</td>
                    <td data-label="Transport">{a.transport ?? '—'}</td>
                    <td data-label="Connection" data-testid="connection">
                      <Badge kind="conn" value={a.connectionStatus} />
                    </td>
                    <td data-label="Phase" data-testid="phase">
                      <Badge kind="phase" value={a.phase} />
                    </td>
                    <td data-label="Grade" data-testid="grade">
                      <Badge kind="grade" value={a.grade} />
                    </td>
                    <td data-label="Score" class="num" data-testid="score">
                      {a.score ?? '—'}
                    </td>
                    <td data-label="Instances" class="num">
                      {a.instances}/{a.instancesTotal}
                    </td>
                    <td data-label="Last heartbeat">
                      <time dateTime={a.lastSeen ?? undefined} title={a.lastSeen ?? undefined}>
                        {ago(a.lastSeen, now)}
                      </time>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {rows.length === 0 && <p class="state">No agent matches these filters.</p>}
          </div>
        </>
      )}
    </>
  );
}
