import { Router, type Request, type Response } from 'express';
import { sql } from 'kysely';
import { ApiError } from '../api-error.js';
import { isLabel, queryInt, requireLabelParam, strictQuery } from '../client-errors.js';
import type { AppContext } from '../app-context.js';
import { audit } from '../audit.js';
import { AGENT_PHASES, agentsQuery, agentSummary, type AgentRow } from '../fleet.js';
import { connectionStatusSql, liveSql } from '../liveness.js';
import type { Prober } from '../probe.js';

/** A page ends after `namespace/name`; the next page starts after it (any such position is a valid cursor). */
function encodeCursor(row: { namespace: string; name: string }): string {
  return `${row.namespace}/${row.name}`;
}

function decodeCursor(cursor: string): [string, string] {
  const [namespace = '', name = '', ...rest] = cursor.split('/');
  if (rest.length === 0 && isLabel(namespace) && isLabel(name)) return [namespace, name];
  throw new ApiError(400, 'InvalidQuery', 'cursor: expected <namespace>/<name>, as nextCursor returns it', 'cursor');
}

async function findAgent(ctx: AppContext, namespace: string, name: string): Promise<AgentRow> {
  if (namespace === ALL_NAMESPACES) {
    // 404 rather than 400: the path is well-formed, there is just no agent there.
    throw new ApiError(
      404,
      'NotFound',
      `namespace - (every namespace) only lists agents: name the namespace of ${name}`,
    );
  }
  const rows = await agentsQuery({ namespace, name }).execute(ctx.database.db);
  const row = rows.rows[0];
  if (!row) throw new ApiError(404, 'NotFound', `agent ${namespace}/${name} is not registered`);
  return row;
}

/** The agent's name when it is unique across namespaces (older clients address agents by name alone). */
async function findByName(ctx: AppContext, name: string): Promise<AgentRow> {
  const rows = (await agentsQuery({ name }).execute(ctx.database.db)).rows;
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

/** The newest document of this kind any instance sent (live instances first). */
async function newestDocument(ctx: AppContext, agent: AgentRow, kind: DocumentKind) {
  return ctx.database.db
    .selectFrom('instances as i')
    .select(['i.instance_id', `i.${kind} as document`, 'i.documents_updated_at', 'i.last_heartbeat_at'])
    .where('i.agent_id', '=', agent.id)
    .where(`i.${kind}`, 'is not', null)
    .orderBy(liveSql('i'), 'desc')
    .orderBy('i.documents_updated_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

async function latestDocument(ctx: AppContext, agent: AgentRow, kind: DocumentKind) {
  const row = await newestDocument(ctx, agent, kind);
  if (!row)
    throw new ApiError(404, 'NotFound', `agent ${agent.namespace}/${agent.name} has not reported its ${kind} yet`);
  return {
    namespace: agent.namespace,
    name: agent.name,
    instanceId: row.instance_id,
    updatedAt: row.documents_updated_at,
    [kind]: row.document,
  };
}

/**
 * The by-name routes kept for upstream AgentSpec clients answer in upstream's shapes: the health report itself, the
 * gap report with `receivedAt`, and `{records, receivedAt}` for proof (empty records when none was sent). 404 until
 * the agent's first heartbeat.
 */
async function upstreamDocument(ctx: AppContext, agent: AgentRow, kind: DocumentKind) {
  const heartbeat = await ctx.database.db
    .selectFrom('instances as i')
    .select(['i.last_heartbeat_at'])
    .where('i.agent_id', '=', agent.id)
    .where('i.last_heartbeat_at', 'is not', null)
    .orderBy('i.last_heartbeat_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const row = await newestDocument(ctx, agent, kind);
  if (!heartbeat && !row) throw new ApiError(404, 'NotFound', `No heartbeat received yet for '${agent.name}'`);
  const receivedAt = iso(row?.last_heartbeat_at ?? heartbeat?.last_heartbeat_at ?? null);
  switch (kind) {
    case 'health':
      if (!row) throw new ApiError(404, 'NotFound', `No heartbeat received yet for '${agent.name}'`);
      return row.document;
    case 'gap':
      return { ...((row?.document as Record<string, unknown> | undefined) ?? {}), receivedAt };
    case 'proof':
      return { records: row?.document ?? [], receivedAt };
  }
}

const param = (req: Request, name: string): string => String(req.params[name] ?? '');

type Handler = (ctx: AppContext, req: Request) => Promise<unknown>;

/** `-` in the namespace position lists every namespace (as in AIP-159's wildcard collection). */
export const ALL_NAMESPACES = '-';

/** GET /api/v1/namespaces/{ns|-}/agents: a page of agents, filtered by phase and name. */
const listAgents: Handler = async (ctx, req) => {
  const namespaceParam = param(req, 'namespace');
  const namespace = namespaceParam === ALL_NAMESPACES ? undefined : namespaceParam;
  if (namespace !== undefined && !isLabel(namespace)) {
    throw new ApiError(
      400,
      'InvalidPath',
      'namespace: must be an RFC 1123 label, or - for every namespace',
      'namespace',
    );
  }
  const query = strictQuery(req, ['phase', 'name', 'limit', 'cursor']);
  const { phase, name } = query;
  if (phase !== undefined && !(AGENT_PHASES as readonly string[]).includes(phase)) {
    throw new ApiError(400, 'InvalidQuery', `phase: expected one of ${AGENT_PHASES.join(', ')}`, 'phase');
  }
  if (name !== undefined && !isLabel(name)) {
    throw new ApiError(400, 'InvalidQuery', 'name: must be an RFC 1123 label', 'name');
  }
  const limit = queryInt('limit', query.limit, 50, 1, 500);
  const after = query.cursor !== undefined ? decodeCursor(query.cursor) : undefined;
  const inner = agentsQuery({
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(after ? { after } : {}),
  });
  const rows = (
    await sql<AgentRow>`select * from (${inner}) t ${phase ? sql`where t.phase = ${phase}` : sql``}
      order by t.namespace, t.name limit ${limit + 1}`.execute(ctx.database.db)
  ).rows;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(agentSummary), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
};

/** GET /api/v1/agents: upstream AgentSpec's list, a bare array (its MCP server and SDK read `agentName`). */
const listAgentsUpstream: Handler = async (ctx, req) => {
  const { namespace } = strictQuery(req, ['namespace']);
  if (namespace !== undefined && !isLabel(namespace)) {
    throw new ApiError(400, 'InvalidQuery', 'namespace: must be an RFC 1123 label', 'namespace');
  }
  const inner = agentsQuery(namespace !== undefined ? { namespace } : {});
  const rows = (await sql<AgentRow>`select * from (${inner}) t order by t.namespace, t.name`.execute(ctx.database.db))
    .rows;
  return rows.map((row) => {
    const s = agentSummary(row);
    return {
      agentId: s.agentId,
      agentName: s.name,
      namespace: s.namespace,
      runtime: s.runtime,
      phase: s.phase,
      grade: s.grade,
      score: s.score,
      lastSeen: s.lastSeen,
    };
  });
};

const iso = (date: Date | string | null): string | null => (date ? new Date(date).toISOString() : null);

/** GET /api/v1/namespaces/{ns}/agents/{name}: the agent with its instances. */
const getAgent: Handler = async (ctx, req) => {
  const agent = await findAgent(ctx, param(req, 'namespace'), param(req, 'name'));
  const instances = await ctx.database.db
    .selectFrom('instances as i')
    .select(['i.instance_id', 'i.runtime', 'i.registered_at', 'i.last_seen_at', 'i.phase', 'i.score', 'i.grade'])
    .select(['i.health_status', 'i.interval_seconds', 'i.transport', 'i.deployment_mode'])
    .select(connectionStatusSql('i').as('connection_status'))
    .where('i.agent_id', '=', agent.id)
    .orderBy('i.instance_id')
    .execute();
  const { instances: live, ...figures } = agentSummary(agent);
  return {
    ...figures,
    instancesLive: live,
    instances: instances.map((i) => ({
      instanceId: i.instance_id,
      runtime: i.runtime,
      registeredAt: iso(i.registered_at),
      lastSeen: iso(i.last_seen_at),
      connectionStatus: i.connection_status,
      intervalSeconds: i.interval_seconds,
      transport: i.transport,
      deploymentMode: i.deployment_mode,
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
    .select(['heartbeats.instance_id', 'heartbeats.received_at', 'heartbeats.phase', 'heartbeats.score'])
    .select('heartbeats.grade')
    .where('heartbeats.agent_id', '=', agent.id)
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
  ctx.events.append({ type: 'agent.deregistered', namespace: agent.namespace, name: agent.name });
}

/** Read API for operators and tools; every route needs the admin key. */
/**
 * POST .../probe: each instance's live report now, through whichever transport reaches it (connected mode's socket,
 * on any replica; a hosted instance's health URL), with a deadline (`timeoutSeconds`, default 5, at most 30) and a named error per instance.
 */
async function probeAgent(ctx: AppContext, prober: Prober, req: Request) {
  const query = strictQuery(req, ['timeoutSeconds'] as const);
  const timeoutMs = queryInt('timeoutSeconds', query.timeoutSeconds, 5, 1, 30) * 1000;
  const agent = await findAgent(ctx, param(req, 'namespace'), param(req, 'name'));
  const instances = await ctx.database.db
    .selectFrom('instances as i')
    .select((eb) => [
      'i.id',
      'i.instance_id',
      'i.transport',
      'i.public_url',
      eb.val(connectionStatusSql('i')).as('connection_status'),
    ])
    .where('i.agent_id', '=', agent.id)
    .orderBy('i.instance_id')
    .execute();
  const results = await Promise.all(
    instances.map((i) =>
      prober.probe(
        {
          pk: String(i.id),
          instanceId: i.instance_id,
          offline: i.connection_status === 'offline',
          transport: i.transport,
          publicUrl: i.public_url,
        },
        timeoutMs,
      ),
    ),
  );
  return { namespace: agent.namespace, name: agent.name, instances: results };
}

export function agentRoutes(ctx: AppContext, prober: Prober): Router {
  const router = Router();
  router.use(['/api/v1/agents', '/api/v1/namespaces'], ctx.adminAuth);
  router.param('namespace', (req, res, next, value: string, name: string) =>
    value === ALL_NAMESPACES ? next() : requireLabelParam(req, res, next, value, name),
  );
  router.param('name', requireLabelParam);
  const json = (handler: Handler) => async (req: Request, res: Response) => void res.json(await handler(ctx, req));

  router.get('/api/v1/agents', json(listAgentsUpstream));
  router.get('/api/v1/namespaces/:namespace/agents', json(listAgents));
  router.get('/api/v1/namespaces/:namespace/agents/:name', json(getAgent));
  for (const kind of ['health', 'gap', 'proof'] as const) {
    router.get(
      `/api/v1/namespaces/:namespace/agents/:name/${kind}`,
      json(async (c, req) => latestDocument(c, await findAgent(c, param(req, 'namespace'), param(req, 'name')), kind)),
    );
    router.get(
      `/api/v1/agents/:name/${kind}`,
      json(async (c, req) => upstreamDocument(c, await findByName(c, param(req, 'name')), kind)),
    );
  }
  router.get('/api/v1/namespaces/:namespace/agents/:name/history', json(getHistory));
  router.post(
    '/api/v1/namespaces/:namespace/agents/:name/probe',
    json((c, req) => probeAgent(c, prober, req)),
  );
  router.delete('/api/v1/namespaces/:namespace/agents/:name', async (req, res) => {
    await deregister(ctx, req);
    res.status(204).end();
  });
  return router;
}
