import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { sql } from 'kysely';
import { z } from 'zod';
import { DNS_LABEL, RUNTIMES } from '@agentspec/sdk';
import { keyScopeOf } from '../admin-auth.js';
import { ApiError } from '../api-error.js';
import type { AppContext } from '../app-context.js';
import { audit } from '../audit.js';
import { refreshAgentPhases } from '../fleet.js';
import { instanceInterval } from '../liveness.js';
import { hashTokenId } from '../tokens.js';
import { parseBody } from '../validation.js';

const label = (what: string) =>
  z.string().max(63).regex(DNS_LABEL, `${what} must be an RFC 1123 label (lowercase letters, digits and "-")`);

export const registerBodySchema = z.looseObject({
  agentName: label('agentName'),
  namespace: label('namespace').optional(),
  instanceId: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'instanceId may contain letters, digits, ".", "_" and "-"')
    .optional(),
  runtime: z.enum(RUNTIMES),
  manifest: z.unknown().optional(),
  intervalSeconds: z.number().int().min(1).max(3_600).optional(),
});

export const DEFAULT_NAMESPACE = 'default';

/**
 * POST /api/v1/register: one token per instance; re-registering an instance rotates only its own token. Without an
 * instanceId the agent has one instance named after it (upstream's model): registering again rotates its key.
 */
export function registerRoutes(ctx: AppContext): Router {
  const router = Router();
  router.post('/api/v1/register', ctx.registrarAuth, async (req, res) => {
    const body = parseBody(registerBodySchema, req.body);
    const scope = keyScopeOf(res);
    // A namespace's registration key registers there only (and there by default).
    const namespace = body.namespace ?? (scope.kind === 'namespace' ? scope.namespace : DEFAULT_NAMESPACE);
    if (scope.kind === 'namespace' && namespace !== scope.namespace) {
      throw new ApiError(
        403,
        'Forbidden',
        `namespace: this key registers instances of namespace ${scope.namespace} only`,
        'namespace',
      );
    }
    const instanceId = body.instanceId ?? body.agentName;
    const intervalSeconds = instanceInterval(ctx.config, body.intervalSeconds ?? ctx.config.heartbeatIntervalSeconds);
    const jti = randomUUID();
    const expiresAt = new Date(Date.now() + ctx.tokens.ttlSeconds * 1000);
    const manifest = body.manifest === undefined ? null : JSON.stringify(body.manifest);

    const { agentId, instancePk } = await ctx.database.db.transaction().execute(async (trx) => {
      const agent = await trx
        .insertInto('agents')
        .values({ namespace, name: body.agentName, runtime: body.runtime, manifest })
        .onConflict((oc) =>
          oc.columns(['namespace', 'name']).doUpdateSet({
            runtime: body.runtime,
            manifest: sql`coalesce(excluded.manifest, agents.manifest)`,
            updated_at: sql`now()`,
          }),
        )
        .returning('id')
        .executeTakeFirstOrThrow();
      const instance = await trx
        .insertInto('instances')
        .values({
          agent_id: agent.id,
          instance_id: instanceId,
          runtime: body.runtime,
          token_id_hash: hashTokenId(jti),
          token_expires_at: expiresAt,
          interval_seconds: intervalSeconds,
        })
        .onConflict((oc) =>
          oc.columns(['agent_id', 'instance_id']).doUpdateSet({
            runtime: body.runtime,
            token_id_hash: hashTokenId(jti),
            token_expires_at: expiresAt,
            registered_at: sql`now()`,
            last_heartbeat_at: null,
            interval_seconds: intervalSeconds,
            connection_state: 'registered',
          }),
        )
        .returning('id')
        .executeTakeFirstOrThrow();
      return { agentId: agent.id, instancePk: instance.id };
    });

    const { token } = await ctx.tokens.issue(agentId, instancePk, jti);
    ctx.metrics.registrations.inc({ result: 'registered' });
    ctx.events.append({ type: 'agent.registered', namespace, name: body.agentName, instanceId, runtime: body.runtime });
    await refreshAgentPhases(ctx, [agentId]);
    audit(
      ctx.logger,
      'register',
      {
        namespace,
        agent: body.agentName,
        instanceId,
        runtime: body.runtime,
        key: scope.kind === 'admin' ? 'admin' : 'namespace',
        remote: req.socket.remoteAddress,
      },
      'instance registered',
    );
    res.status(201).json({
      agentId,
      instanceId,
      apiKey: token,
      expiresAt: expiresAt.toISOString(),
      heartbeatIntervalSeconds: intervalSeconds,
      ...connectUrlFor(req.protocol, req.get('host')),
    });
  });
  return router;
}

/**
 * Where the instance may keep a connected-mode WebSocket (seed 003): the address it reached us at, with the
 * WebSocket scheme. Omitted when the Host header is not a plain host[:port].
 */
export function connectUrlFor(protocol: string, host: string | undefined): { connectUrl?: string } {
  if (!host || !/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)) return {};
  return { connectUrl: `${protocol === 'https' ? 'wss' : 'ws'}://${host}/api/v1/connect` };
}
