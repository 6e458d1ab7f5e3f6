import { Router, type Request, type Response } from 'express';
import { sql } from 'kysely';
import { ApiError } from '../api-error.js';
import { isLabel, queryInt, requireLabelParam, strictQuery } from '../client-errors.js';
import type { AppContext } from '../app-context.js';
import { audit } from '../audit.js';
import { gradeOf, PHASE_ORDER } from '../phase.js';

interface AgentRow {
  id: string;
  namespace: string;
  name: string;
  runtime: string;
  instances: number;
  last_seen: Date | null;
  score: number | null;
  phase: string;
  source: string | null;
}

const phaseRank = sql`case i.phase ${sql.join(
  PHASE_ORDER.map((p, n) => sql`when ${p} then ${n}`),
  sql` `,
)} else ${PHASE_ORDER.length} end`;

/** A page ends after `namespace/name`; the next page starts after it (any such position is a valid cursor). */
function encodeCursor(row: { namespace: string; name: string }): string {
  return `${row.namespace}/${row.name}`;
}

function decodeCursor(cursor: string): [string, string] {
  const [namespace = '', name = '', ...rest] = cursor.split('/');
  if (rest.length === 0 && isLabel(namespace) && isLabel(name)) return [namespace, name];
  throw new ApiError(400, 'InvalidQuery', 'cursor: expected <namespace>/<name>, as nextCursor returns it', 'cursor');
}

function summary(row: AgentRow) {
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
    source: row.source,
  };
}

/** Agent-level figures: the worst phase and the lowest score of its instances, the latest time any was seen. */
function agentsQuery(ctx: AppContext, filters: { namespace?: string; name?: string; after?: [string, string] }) {
  return sql<AgentRow>`
    select a.id, a.namespace, a.name, a.runtime, count(i.id)::int as instances, max(i.last_seen_at) as last_seen,
      min(i.score) as score,
      (array_agg(i.gap->>'source' order by i.score nulls last) filter (where i.gap ? 'source'))[1] as source,
      coalesce((array_agg(i.phase order by ${phaseRank}) filter (where i.id is not null))[1], 'Unknown') as phase
    from agents a left join instances i on i.agent_id = a.id
    where true
      ${filters.namespace !== undefined ? sql`and a.namespace = ${filters.namespace}` : sql``}
      ${filters.name !== undefined ? sql`and a.name = ${filters.name}` : sql``}
      ${filters.after ? sql`and (a.namespace, a.name) > (${filters.after[0]}, ${filters.after[1]})` : sql``}
    group by a.id`;
}

async function findAgent(ctx: AppContext, namespace: string, name: string): Promise<AgentRow> {
  const rows = await agentsQuery(ctx, { namespace, name }).execute(ctx.database.db);
  const row = rows.rows[0];
  if (!row) throw new ApiError(404, 'NotFound', `agent ${namespace}/${name} is not registered`);
  return row;
}

/** The agent's name when it is unique across namespaces (older clients address agents by name alone). */
async function findByName(ctx: AppContext, name: string): Promise<AgentRow> {
  const rows = (await agentsQuery(ctx, { name }).execute(ctx.database.db)).rows;
  if (rows.length === 0) throw new ApiError(404, 'NotFound', `agent ${name} is not registered`);
  if (rows.length > 1) {
    throw new ApiError(
      409,
      'AmbiguousAgentName',
      `agent ${name} exists in namespaces ${rows
        .map((r) => r.namespace)
        .sort()
        .join(', ')}: use /api/v1/namespaces/{namespace}/agents/${name}`,
    );
  }
  return rows[0] as AgentRow;
}

type DocumentKind = 'health' | 'gap' | 'proof';

async function latestDocument(ctx: AppContext, agent: AgentRow, kind: DocumentKind) {
  const row = await ctx.database.db
    .selectFrom('instances')
    .select(['instance_id', kind, 'documents_updated_at', 'last_seen_at'])
    .where('agent_id', '=', agent.id)
    .where(kind, 'is not', null)
    .orderBy('documents_updated_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row)
    throw new ApiError(404, 'NotFound', `agent ${agent.namespace}/${agent.name} has not reported its ${kind} yet`);
  return {
    namespace: agent.namespace,
    name: agent.name,
    instanceId: row.instance_id,
    updatedAt: row.documents_updated_at,
    [kind]: row[kind],
  };
}

const param = (req: Request, name: string): string => String(req.params[name] ?? '');

type Handler = (ctx: AppContext, req: Request) => Promise<unknown>;

/** GET /api/v1/agents: a page of agents, filtered by namespace and phase. */
const listAgents: Handler = async (ctx, req) => {
  const query = strictQuery(req, ['namespace', 'phase', 'limit', 'cursor']);
  const { namespace, phase } = query;
  if (namespace !== undefined && !isLabel(namespace)) {
    throw new ApiError(400, 'InvalidQuery', 'namespace: must be an RFC 1123 label', 'namespace');
  }
  if (phase !== undefined && !(PHASE_ORDER as readonly string[]).includes(phase)) {
    throw new ApiError(400, 'InvalidQuery', `phase: expected one of ${PHASE_ORDER.join(', ')}`, 'phase');
  }
  const limit = queryInt('limit', query.limit, 50, 1, 500);
  const after = query.cursor !== undefined ? decodeCursor(query.cursor) : undefined;
  const inner = agentsQuery(ctx, { ...(namespace !== undefined ? { namespace } : {}), ...(after ? { after } : {}) });
  const rows = (
    await sql<AgentRow>`select * from (${inner}) t ${phase ? sql`where t.phase = ${phase}` : sql``}
      order by t.namespace, t.name limit ${limit + 1}`.execute(ctx.database.db)
  ).rows;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(summary), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
};

const iso = (date: Date | string | null): string | null => (date ? new Date(date).toISOString() : null);

/** GET /api/v1/namespaces/{ns}/agents/{name}: the agent with its instances. */
const getAgent: Handler = async (ctx, req) => {
  const agent = await findAgent(ctx, param(req, 'namespace'), param(req, 'name'));
  const instances = await ctx.database.db
    .selectFrom('instances')
    .select(['instance_id', 'runtime', 'registered_at', 'last_seen_at', 'connection_state', 'phase', 'score', 'grade'])
    .select('health_status')
    .where('agent_id', '=', agent.id)
    .orderBy('instance_id')
    .execute();
  return {
    ...summary(agent),
    instances: instances.map((i) => ({
      instanceId: i.instance_id,
      runtime: i.runtime,
      registeredAt: iso(i.registered_at),
      lastSeen: iso(i.last_seen_at),
      connectionState: i.connection_state,
      status: i.health_status,
      phase: i.phase,
      score: i.score,
      grade: i.grade,
    })),
  };
};

/** GET /api/v1/namespaces/{ns}/agents/{name}/history: the newest 500 history rows of its instances. */
const getHistory: Handler = async (ctx, req) => {
  const agent = await findAgent(ctx, param(req, 'namespace'), param(req, 'name'));
  const rows = await ctx.database.db
    .selectFrom('heartbeats')
    .innerJoin('instances', 'instances.id', 'heartbeats.instance_pk')
    .select(['instances.instance_id', 'heartbeats.received_at', 'heartbeats.phase', 'heartbeats.score'])
    .select('heartbeats.grade')
    .where('instances.agent_id', '=', agent.id)
    .orderBy('heartbeats.id', 'desc')
    .limit(500)
    .execute();
  return {
    items: rows.map((r) => ({
      instanceId: r.instance_id,
      at: iso(r.received_at),
      phase: r.phase,
      score: r.score,
      grade: r.grade,
    })),
  };
};

/** DELETE /api/v1/namespaces/{ns}/agents/{name}: instances (and with them every token) go with the agent. */
async function deregister(ctx: AppContext, req: Request): Promise<void> {
  const agent = await findAgent(ctx, param(req, 'namespace'), param(req, 'name'));
  await ctx.database.db.deleteFrom('agents').where('id', '=', agent.id).execute();
  audit(ctx.logger, 'deregister', { namespace: agent.namespace, agent: agent.name, remote: req.socket.remoteAddress });
  ctx.events.emit('agent.deregistered', { agentId: agent.id, namespace: agent.namespace, name: agent.name });
}

/** Read API for operators and tools; every route needs the admin key. */
export function agentRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(['/api/v1/agents', '/api/v1/namespaces'], ctx.adminAuth);
  router.param('namespace', requireLabelParam);
  router.param('name', requireLabelParam);
  const json = (handler: Handler) => async (req: Request, res: Response) => void res.json(await handler(ctx, req));

  router.get('/api/v1/agents', json(listAgents));
  router.get('/api/v1/namespaces/:namespace/agents/:name', json(getAgent));
  for (const kind of ['health', 'gap', 'proof'] as const) {
    router.get(
      `/api/v1/namespaces/:namespace/agents/:name/${kind}`,
      json(async (c, req) => latestDocument(c, await findAgent(c, param(req, 'namespace'), param(req, 'name')), kind)),
    );
    router.get(
      `/api/v1/agents/:name/${kind}`,
      json(async (c, req) => latestDocument(c, await findByName(c, param(req, 'name')), kind)),
    );
  }
  router.get('/api/v1/namespaces/:namespace/agents/:name/history', json(getHistory));
  router.delete('/api/v1/namespaces/:namespace/agents/:name', async (req, res) => {
    await deregister(ctx, req);
    res.status(204).end();
  });
  return router;
}
