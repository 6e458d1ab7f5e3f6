import { sql, type Kysely } from 'kysely';
import type { AppContext } from './app-context.js';
import { prepared } from './db/prepared.js';
import type { Database } from './db/schema.js';
import { connectionStatusSql, liveSql, type Problem } from './liveness.js';
import { gradeOf, PHASE_ORDER } from './phase.js';

/** An agent's phase: its worst live instance's, or Offline when no instance is live. */
export const AGENT_PHASES = [...PHASE_ORDER, 'Offline'] as const;
export type AgentPhase = (typeof AGENT_PHASES)[number];

export interface AgentRow {
  id: string;
  namespace: string;
  name: string;
  runtime: string;
  instances: number;
  instances_total: number;
  last_seen: Date | null;
  score: number | null;
  phase: AgentPhase;
  source: string | null;
  transport: string | null;
  connection_status: string | null;
  checks: Problem[] | null;
  violations: Problem[] | null;
}

const phaseRank = sql`case i.phase ${sql.join(
  PHASE_ORDER.map((p, n) => sql`when ${p} then ${n}`),
  sql` `,
)} else ${PHASE_ORDER.length} end`;

export interface AgentFilters {
  namespace?: string;
  name?: string;
  ids?: string[];
  after?: [string, string];
}

/**
 * Agent-level figures over its live instances (not offline): the worst phase, the lowest score, where that score came
 * from, the worst instance's failing checks and the lowest-scoring one's violations. With no live instance the agent
 * is Offline with its last known score (the most recently seen instance's, or the newest history row's once the
 * reaper deleted them) and the time it was last seen. Each agent's figures are aggregated over its own instances
 * (through the agent_id index), so a page of a listing, or a few agents by id, reads only their instances rather than
 * the whole table.
 */
export function agentsQuery(filters: AgentFilters) {
  const live = sql`i.connection_status <> 'offline'`;
  return sql<AgentRow>`
    select a.id, a.namespace, a.name, a.runtime, s.instances, s.instances_total,
      greatest(s.last_seen, a.last_seen_at) as last_seen,
      case when s.instances > 0 then s.live_score else coalesce(
        s.recent_score,
        (select h.score from heartbeats h where h.agent_id = a.id and h.score is not null order by h.id desc limit 1)
      ) end as score,
      case when s.instances > 0 then s.phase else 'Offline' end as phase,
      s.source, s.transport, s.connection_status, s.checks, s.violations
    from agents a
    cross join lateral (
      select count(i.id) filter (where ${live})::int as instances, count(i.id)::int as instances_total,
        max(i.last_seen_at) as last_seen,
        min(i.score) filter (where ${live}) as live_score,
        (array_agg(i.score order by i.last_seen_at desc nulls last) filter (where i.score is not null))[1] as recent_score,
        (array_agg(i.phase order by ${phaseRank}) filter (where ${live}))[1] as phase,
        (array_agg(i.problems->>'source' order by i.score nulls last) filter (where ${live} and i.problems ? 'source'))[1] as source,
        (array_agg(i.transport order by i.last_seen_at desc nulls last))[1] as transport,
        (array_agg(i.connection_status order by i.last_seen_at desc nulls last))[1] as connection_status,
        (array_agg(i.problems->'checks' order by ${phaseRank}, i.instance_id)
          filter (where ${live} and i.problems is not null))[1] as checks,
        (array_agg(i.problems->'violations' order by i.score nulls last, i.instance_id)
          filter (where ${live} and i.problems is not null))[1] as violations
      from (
        select instances.*, ${connectionStatusSql('instances')} as connection_status from instances
        where instances.agent_id = a.id
      ) i
    ) s
    where true
      ${filters.namespace !== undefined ? sql`and a.namespace = ${filters.namespace}` : sql``}
      ${filters.name !== undefined ? sql`and a.name = ${filters.name}` : sql``}
      ${filters.ids !== undefined ? sql`and a.id = any(${filters.ids}::uuid[])` : sql``}
      ${filters.after ? sql`and (a.namespace, a.name) > (${filters.after[0]}, ${filters.after[1]})` : sql``}`;
}

/** The namespaced API's agent summary. */
export function agentSummary(row: AgentRow) {
  return {
    agentId: row.id,
    namespace: row.namespace,
    name: row.name,
    runtime: row.runtime,
    phase: row.phase,
    score: row.score,
    grade: gradeOf(row.score ?? undefined) ?? null,
    lastSeen: row.last_seen ? new Date(row.last_seen).toISOString() : null,
    instances: Number(row.instances),
    instancesTotal: Number(row.instances_total),
    source: row.source,
    transport: row.transport,
    connectionStatus: row.connection_status,
    failingChecks: row.checks ?? [],
    violations: row.violations ?? [],
  };
}

/**
 * Recomputes the phase of these agents and announces each change with agent.phase_changed. Called when an instance's
 * phase moved, an instance registered or the reaper marked one offline.
 */
export async function refreshAgentPhases(ctx: Pick<AppContext, 'database' | 'events'>, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const db: Kysely<Database> = ctx.database.db;
  // Each agent's worst live instance: the phases worst first, each probed through the (agent_id, phase) index until
  // one has a live instance — a few index probes per agent, however many instances it has.
  const changed = await sql<{ id: string; namespace: string; name: string; from: string; to: string }>`${prepared}
    with t as (
      select a.id, coalesce((
        select p.phase from unnest(${[...PHASE_ORDER]}::text[]) with ordinality as p(phase, rank)
        where exists (
          select from instances i where i.agent_id = a.id and i.phase = p.phase and ${liveSql('i')}
        )
        order by p.rank limit 1
      ), 'Offline') as phase
      from agents a where a.id = any(${ids}::uuid[])
    )
    update agents a set phase = t.phase
    from t join agents old on old.id = t.id and old.id = any(${ids}::uuid[])
    -- By key, whatever the cached plan estimates of t (the agents are read by key above too).
    where a.id = any(${ids}::uuid[]) and a.id = t.id and a.phase is distinct from t.phase
    returning a.id, a.namespace, a.name, old.phase as from, t.phase as to`.execute(db);
  if (changed.rows.length === 0) return;
  // The agents' scores, for the events (a phase change is rare; the summary's rules apply).
  const scores = await sql<{ id: string; score: number | null }>`
    select id, score from (${agentsQuery({ ids: changed.rows.map((r) => r.id) })}) q`.execute(db);
  const scoreOf = new Map(scores.rows.map((r) => [String(r.id), r.score]));
  for (const row of changed.rows) {
    const score = scoreOf.get(String(row.id)) ?? null;
    ctx.events.append({
      type: 'agent.phase_changed',
      namespace: row.namespace,
      name: row.name,
      from: row.from,
      to: row.to,
      score,
      grade: gradeOf(score ?? undefined) ?? null,
    });
  }
}
