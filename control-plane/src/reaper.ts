import { sql } from 'kysely';
import { Periodic } from '@agentspec/service-kit';
import type { AppContext } from './app-context.js';
import type { Coordinator } from './coordination.js';
import { refreshAgentPhases } from './fleet.js';
import { connectionStatusSql, MISSED_INTERVALS } from './liveness.js';

export interface ReapResult {
  offline: number;
  deleted: number;
}

/**
 * One pass: instances silent for 3 intervals are marked offline (agent.offline, and agent.phase_changed when their
 * agent's phase moves); instances offline for longer than the retention are deleted (the agent row, its last-seen
 * time and its history stay); the event table is cut to its newest AGENTSPEC_EVENT_RETENTION rows.
 */
export async function reapOnce(ctx: Pick<AppContext, 'database' | 'events' | 'config'>): Promise<ReapResult> {
  const { db } = ctx.database;
  const offline = await sql<{ namespace: string; name: string; instance_id: string; agent_id: string; last: Date }>`
    update instances i set connection_state = 'offline'
    from agents a
    where a.id = i.agent_id and i.connection_state <> 'offline' and ${connectionStatusSql('i')} = 'offline'
    returning a.namespace, a.name, i.instance_id, i.agent_id, coalesce(i.last_heartbeat_at, i.registered_at) as last`.execute(
    db,
  );
  for (const row of offline.rows) {
    ctx.events.append({
      type: 'agent.offline',
      namespace: row.namespace,
      name: row.name,
      instanceId: row.instance_id,
      lastHeartbeat: new Date(row.last).toISOString(),
    });
  }
  await refreshAgentPhases(ctx, [...new Set(offline.rows.map((r) => r.agent_id))]);

  const retention = ctx.config.instanceRetentionSeconds;
  const deleted = await sql<{ deleted: number; agents: string[] }>`
    with gone as (
      delete from instances i
      where i.connection_state = 'offline'
        and coalesce(i.last_heartbeat_at, i.registered_at)
          < now() - make_interval(secs => ${retention} + ${MISSED_INTERVALS} * i.interval_seconds)
      returning i.agent_id, i.last_seen_at
    ), seen as (select agent_id, max(last_seen_at) as last from gone group by agent_id),
    kept as (
      update agents a set last_seen_at = greatest(a.last_seen_at, seen.last)
      from seen where a.id = seen.agent_id
      returning a.id
    )
    select (select count(*) from gone)::int as deleted, array(select id::text from kept) as agents`.execute(db);
  const { deleted: deletedCount = 0, agents = [] } = deleted.rows[0] ?? {};
  if (agents.length > 0) {
    // History outlives its instances, but each agent keeps only its newest historyLimit rows of deleted ones.
    await sql`
      delete from heartbeats h where h.instance_pk is null and h.agent_id = any(${agents}::uuid[]) and h.id < (
        select id from heartbeats x where x.agent_id = h.agent_id order by id desc offset ${ctx.config.historyLimit - 1} limit 1
      )`.execute(db);
  }
  await sql`delete from events where id <= (select max(id) from events) - ${ctx.config.eventRetention}`.execute(db);
  // Probe answers that came after the asking replica's deadline (probes last 30 s at most).
  await sql`delete from probe_results where created_at < now() - interval '1 minute'`.execute(db);
  return { offline: offline.rows.length, deleted: deletedCount };
}

/** Runs reapOnce every interval in the one replica holding the reaper lock. */
export class Reaper {
  private readonly periodic: Periodic;

  constructor(
    private readonly ctx: Pick<AppContext, 'database' | 'events' | 'config' | 'logger' | 'metrics'>,
    private readonly coordinator: Coordinator,
  ) {
    this.periodic = new Periodic(
      () => this.tick(),
      ctx.config.reaperIntervalSeconds * 1000,
      (err) => ctx.logger.warn({ err: (err as Error).message }, 'reaper pass failed; retrying next interval'),
    );
  }

  start(): void {
    void this.periodic.start();
  }

  stop(): void {
    this.periodic.stop();
  }

  private async tick(): Promise<void> {
    const leader = await this.coordinator.holdsReaperLock();
    this.ctx.metrics.reaperLeader.set(leader ? 1 : 0);
    if (!leader) return;
    const result = await reapOnce(this.ctx);
    if (result.offline || result.deleted) this.ctx.logger.info(result, 'reaper: instances marked offline or deleted');
  }
}
