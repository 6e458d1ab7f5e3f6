import { createHash } from 'node:crypto';
import { Router } from 'express';
import { sql } from 'kysely';
import { z } from 'zod';
import { ApiError } from '../api-error.js';
import type { AppContext } from '../app-context.js';
import { gradeOf, phaseOf } from '../phase.js';
import { hashTokenId, type TokenClaims } from '../tokens.js';
import { parseBody } from '../validation.js';

const score = z.number().min(0).max(100);

/** {health, gap, proof?}; `gap.overallScore` and health status ready/unavailable are accepted for older clients. */
export const heartbeatBodySchema = z.looseObject({
  health: z.looseObject({ status: z.string().max(32).optional() }),
  gap: z.looseObject({ score: score.optional(), overallScore: score.optional() }),
  proof: z.unknown().optional(),
});

const sha256 = (json: string): string => createHash('sha256').update(json).digest('hex');

async function authenticate(ctx: AppContext, header: string | undefined): Promise<TokenClaims> {
  const token = /^Bearer ([^\s]+)$/i.exec(header ?? '')?.[1];
  if (!token) throw new ApiError(401, 'Unauthorized', 'missing Authorization: Bearer <token>');
  try {
    return await ctx.tokens.verify(token);
  } catch {
    throw new ApiError(401, 'Unauthorized', 'invalid or expired token');
  }
}

/** POST /api/v1/heartbeat */
export function heartbeatRoutes(ctx: AppContext): Router {
  const router = Router();
  router.post('/api/v1/heartbeat', async (req, res) => {
    let claims: TokenClaims;
    try {
      claims = await authenticate(ctx, req.header('authorization'));
    } catch (err) {
      ctx.metrics.heartbeats.inc({ result: 'unauthorized' });
      throw err;
    }
    let body: z.output<typeof heartbeatBodySchema>;
    try {
      body = parseBody(heartbeatBodySchema, req.body);
    } catch (err) {
      ctx.metrics.heartbeats.inc({ result: 'invalid' });
      throw err;
    }
    // Stored as an integer; older clients send fractions.
    const rawScore = body.gap.score ?? body.gap.overallScore;
    const scoreValue = rawScore === undefined ? null : Math.round(rawScore);
    const phase = phaseOf(body.health.status);
    const grade = gradeOf(rawScore) ?? null;
    // Each document is serialised once: the same JSON is hashed and, when it changed, stored.
    const healthJson = JSON.stringify(body.health);
    const gapJson = JSON.stringify(body.gap);
    const proofJson = body.proof === undefined ? null : JSON.stringify(body.proof);
    const healthHash = sha256(healthJson);
    const gapHash = sha256(gapJson);
    const proofHash = proofJson === null ? null : sha256(proofJson);
    const interval = ctx.config.minHeartbeatIntervalSeconds;
    const tokenIdHash = hashTokenId(claims.jti);
    const result = await ctx.heartbeatWriter.write({
      instancePk: claims.instancePk,
      tokenIdHash,
      healthStatus: body.health.status ?? null,
      phase,
      score: scoreValue,
      grade,
      healthJson,
      healthHash,
      gapJson,
      gapHash,
      proofJson,
      proofHash,
    });

    if (!result.written) {
      const instance = await ctx.db
        .selectFrom('instances')
        .select([
          'token_id_hash',
          sql<number>`extract(epoch from (clock_timestamp() - last_heartbeat_at))`.as('elapsed'),
        ])
        .where('id', '=', claims.instancePk)
        .executeTakeFirst();
      if (!instance || instance.token_id_hash !== tokenIdHash) {
        ctx.metrics.heartbeats.inc({ result: 'unauthorized' });
        throw new ApiError(401, 'Unauthorized', 'token revoked: register again');
      }
      const retryAfter = Math.max(1, Math.ceil(interval - Number(instance.elapsed ?? 0)));
      ctx.metrics.heartbeats.inc({ result: 'rate_limited' });
      throw new ApiError(429, 'TooManyHeartbeats', `heartbeats are limited to one every ${interval} s`, undefined, {
        'retry-after': String(retryAfter),
      });
    }
    if (result.changed) {
      await ctx.db
        .insertInto('heartbeats')
        .values({ instance_pk: claims.instancePk, phase, score: scoreValue, grade })
        .execute();
      // Bounded history: keep the newest historyLimit rows of this instance.
      await sql`
        delete from heartbeats where instance_pk = ${claims.instancePk} and id < (
          select id from heartbeats where instance_pk = ${claims.instancePk} order by id desc offset ${ctx.config.historyLimit - 1} limit 1
        )`.execute(ctx.db);
    }
    ctx.metrics.heartbeats.inc({ result: 'accepted' });
    ctx.events.emit('agent.heartbeat', {
      agentId: claims.agentId,
      instanceId: result.instanceId,
      phase,
      score: scoreValue,
    });
    res.status(204).end();
  });
  return router;
}
