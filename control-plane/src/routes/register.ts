import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { sql } from 'kysely';
import { z } from 'zod';
import { DNS_LABEL, formatPath, RUNTIMES } from '@agentspec/sdk';
import { keyScopeOf } from '../admin-auth.js';
import { ApiError } from '../api-error.js';
import type { AppContext } from '../app-context.js';
import { audit } from '../audit.js';
import { refreshAgentPhases } from '../fleet.js';
import {
  AGENT_CARD_PATH,
  agentCardSchema,
  checkPublicUrl,
  HostedCallError,
  hostedUrl,
  type HostedResponse,
} from '../hosted.js';
import { instanceInterval } from '../liveness.js';
import { hashTokenId } from '../tokens.js';
import { parseBody } from '../validation.js';
import { DEPLOYMENT_MODES } from './connections.js';

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
  // Seed 003: connected (default; the agent dials out) or hosted (the control plane calls its public HTTPS URL).
  deploymentMode: z.enum(DEPLOYMENT_MODES).optional(),
  publicUrl: z
    .string()
    .max(2_048)
    .regex(/^https:\/\/\S+$/, 'publicUrl must be an https:// URL (the control plane does not call http:// endpoints)')
    .optional(),
});

/** The largest agent card the control plane reads. */
export const MAX_AGENT_CARD_BYTES = 64 * 1024;

const modeMismatch = (instanceId: string, registered: string, asked: string) =>
  new ApiError(
    409,
    'DEPLOYMENT_MODE_MISMATCH',
    `deploymentMode: instance ${instanceId} is registered as ${registered}; an instance cannot switch to ${asked} ` +
      'in place: register the new mode under a new instanceId (the old one is removed once it stops heartbeating)',
    'deploymentMode',
  );

/**
 * Admits a hosted instance: its publicUrl is https, resolves to addresses the control plane may call, and serves a
 * valid agent card at /.well-known/agent-card.json. Returns the URL as it will be stored.
 */
async function admitHosted(ctx: AppContext, text: string): Promise<string> {
  let url: URL;
  try {
    url = checkPublicUrl(text);
  } catch (err) {
    throw new ApiError(422, 'InvalidPublicUrl', `publicUrl: ${(err as Error).message}`, 'publicUrl');
  }
  const cardUrl = hostedUrl(url.href, AGENT_CARD_PATH);
  let answer: HostedResponse;
  try {
    answer = await ctx.hosted.getJson(cardUrl, MAX_AGENT_CARD_BYTES);
  } catch (err) {
    if (!(err instanceof HostedCallError)) throw err;
    if (err.reason === 'address') throw new ApiError(422, 'ForbiddenAddress', `publicUrl: ${err.message}`, 'publicUrl');
    throw new ApiError(
      422,
      'AgentCardUnavailable',
      `publicUrl: the agent card at ${cardUrl.href} could not be fetched: ${err.message}`,
      'publicUrl',
    );
  }
  if (answer.status !== 200) {
    throw new ApiError(
      422,
      'AgentCardUnavailable',
      `publicUrl: ${cardUrl.href} answered ${answer.status}, not an agent card`,
      'publicUrl',
    );
  }
  const card = agentCardSchema.safeParse(answer.body);
  if (!card.success) {
    const issue = card.error.issues[0];
    const where = issue?.path.length ? `${formatPath(issue.path)}: ` : '';
    throw new ApiError(
      422,
      'InvalidAgentCard',
      `publicUrl: ${cardUrl.href} is not a valid agent card (${where}${issue?.message ?? 'invalid'})`,
      'publicUrl',
    );
  }
  return url.href;
}

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
    const mode = body.deploymentMode ?? (body.publicUrl === undefined ? 'connected' : 'hosted');
    if (mode === 'connected' && body.publicUrl !== undefined) {
      throw new ApiError(
        422,
        'InvalidDeploymentMode',
        'deploymentMode: a connected instance has no publicUrl (omit deploymentMode, or set it to hosted)',
        'deploymentMode',
      );
    }
    if (mode === 'hosted' && body.publicUrl === undefined) {
      throw new ApiError(
        422,
        'InvalidDeploymentMode',
        'publicUrl: a hosted instance needs its public https:// URL',
        'publicUrl',
      );
    }
    const registered = await ctx.database.db
      .selectFrom('instances as i')
      .innerJoin('agents as a', 'a.id', 'i.agent_id')
      .select('i.deployment_mode')
      .where('a.namespace', '=', namespace)
      .where('a.name', '=', body.agentName)
      .where('i.instance_id', '=', instanceId)
      .executeTakeFirst();
    if (registered && registered.deployment_mode !== mode) {
      throw modeMismatch(instanceId, registered.deployment_mode, mode);
    }
    // The card is fetched before the transaction: no row is locked while a remote server answers.
    const publicUrl = mode === 'hosted' ? await admitHosted(ctx, body.publicUrl!) : null;
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
          deployment_mode: mode,
          public_url: publicUrl,
        })
        .onConflict((oc) =>
          oc
            .columns(['agent_id', 'instance_id'])
            .doUpdateSet({
              runtime: body.runtime,
              token_id_hash: hashTokenId(jti),
              token_expires_at: expiresAt,
              registered_at: sql`now()`,
              last_heartbeat_at: null,
              interval_seconds: intervalSeconds,
              connection_state: 'registered',
              public_url: publicUrl,
            })
            .where('instances.deployment_mode', '=', mode),
        )
        .returning('id')
        .executeTakeFirst();
      // Registered in the other mode since the check above: the transaction (and the agent's upsert) rolls back.
      if (!instance) throw modeMismatch(instanceId, mode === 'hosted' ? 'connected' : 'hosted', mode);
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
        deploymentMode: mode,
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
      deploymentMode: mode,
      // A hosted instance is called into; it has no socket to keep.
      ...(mode === 'connected' ? connectUrlFor(req.protocol, req.get('host')) : { publicUrl }),
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
