import { Router } from 'express';
import { sql } from 'kysely';
import { z } from 'zod';
import { DNS_LABEL } from '@agentspec/sdk';
import { ApiError } from '../api-error.js';
import type { AppContext } from '../app-context.js';
import { CONNECTION_STATUSES, connectionStatusSql } from '../liveness.js';
import { parseBody } from '../validation.js';

const label = (what: string) => z.string().max(63).regex(DNS_LABEL, `${what} must be an RFC 1123 label`);

export const getConnectionBodySchema = z.strictObject({
  instance_id: z.string().min(1).max(253),
  namespace: label('namespace').optional(),
  agent_type: label('agent_type').optional(),
});

export const connectionStatsBodySchema = z.strictObject({
  agent_type: label('agent_type').optional(),
  namespace: label('namespace').optional(),
});

export const TRANSPORTS = ['callback', 'ws'] as const;
export const DEPLOYMENT_MODES = ['connected', 'hosted'] as const;

interface ConnectionRow {
  instance_id: string;
  agent_id: string;
  namespace: string;
  name: string;
  deployment_mode: string;
  transport: string;
  connection_status: string;
  interval_seconds: number;
  registered_at: Date;
  last_heartbeat_at: Date | null;
  last_seen_at: Date | null;
  phase: string;
  score: number | null;
  grade: string | null;
}

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

/** Seed 003's unified envelope: the same shape whatever the transport. */
function envelope(row: ConnectionRow) {
  return {
    instance_id: row.instance_id,
    agent_id: row.agent_id,
    agent_type: row.name,
    namespace: row.namespace,
    deployment_mode: row.deployment_mode,
    transport: row.transport,
    connection_status: row.connection_status,
    last_seen: iso(row.last_seen_at),
    last_heartbeat: iso(row.last_heartbeat_at),
    registered_at: iso(row.registered_at),
    heartbeat_interval_seconds: row.interval_seconds,
    phase: row.phase,
    score: row.score,
    grade: row.grade,
  };
}

const scope = (filters: { namespace?: string | undefined; agent_type?: string | undefined }) =>
  sql`${filters.namespace !== undefined ? sql`and a.namespace = ${filters.namespace}` : sql``}
    ${filters.agent_type !== undefined ? sql`and a.name = ${filters.agent_type}` : sql``}`;

/** POST /api/v1/agents/get_connection and get_connection_stats (seed 003), with the admin key. */
export function connectionRoutes(ctx: AppContext): Router {
  const router = Router();
  router.post('/api/v1/agents/get_connection', ctx.adminAuth, async (req, res) => {
    const body = parseBody(getConnectionBodySchema, req.body);
    const rows = await sql<ConnectionRow>`
      select i.instance_id, a.id as agent_id, a.namespace, a.name, i.deployment_mode, i.transport,
        ${connectionStatusSql('i')} as connection_status, i.interval_seconds, i.registered_at, i.last_heartbeat_at,
        i.last_seen_at, i.phase, i.score, i.grade
      from instances i join agents a on a.id = i.agent_id
      where i.instance_id = ${body.instance_id} ${scope(body)}
      order by a.namespace, a.name limit 2`.execute(ctx.database.db);
    const [row, other] = rows.rows;
    if (!row) throw new ApiError(404, 'NotFound', `instance ${body.instance_id} is not registered`, 'instance_id');
    if (other) {
      throw new ApiError(
        409,
        'AmbiguousInstance',
        `instance ${body.instance_id} exists for more than one agent: add namespace and agent_type`,
        'instance_id',
      );
    }
    res.json(envelope(row));
  });
  router.post('/api/v1/agents/get_connection_stats', ctx.adminAuth, async (req, res) => {
    const body = parseBody(connectionStatsBodySchema, req.body ?? {});
    const rows = await sql<{ deployment_mode: string; transport: string; connection_status: string; n: number }>`
      select i.deployment_mode, i.transport, ${connectionStatusSql('i')} as connection_status, count(*)::int as n
      from instances i join agents a on a.id = i.agent_id
      where true ${scope(body)}
      group by 1, 2, 3`.execute(ctx.database.db);
    const zeroes = (keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<string, number>;
    const stats = {
      total: 0,
      by_deployment_mode: zeroes(DEPLOYMENT_MODES),
      by_connection_status: zeroes(CONNECTION_STATUSES),
      by_transport: zeroes(TRANSPORTS),
    };
    for (const r of rows.rows) {
      stats.total += r.n;
      stats.by_deployment_mode[r.deployment_mode] = (stats.by_deployment_mode[r.deployment_mode] ?? 0) + r.n;
      stats.by_connection_status[r.connection_status] = (stats.by_connection_status[r.connection_status] ?? 0) + r.n;
      stats.by_transport[r.transport] = (stats.by_transport[r.transport] ?? 0) + r.n;
    }
    res.json(stats);
  });
  return router;
}
