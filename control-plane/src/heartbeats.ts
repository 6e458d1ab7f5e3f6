import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import type { AppContext, FleetWriters } from './app-context.js';
import { Batcher } from './batch.js';
import { refreshAgentPhases } from './fleet.js';
import { instanceInterval, problemsOf } from './liveness.js';
import { gradeOf, phaseOf } from './phase.js';
import { hashTokenId, type TokenClaims } from './tokens.js';
import { parseBody } from './validation.js';

const score = z.number().min(0).max(100);

/** {health, gap, proof?, intervalSeconds?}; `gap.overallScore` and health status ready/unavailable are accepted for older clients. */
export const heartbeatBodySchema = z.looseObject({
  health: z.looseObject({ status: z.string().max(32).optional() }),
  gap: z.looseObject({ score: score.optional(), overallScore: score.optional() }),
  proof: z.unknown().optional(),
  intervalSeconds: z.number().int().min(1).max(3_600).optional(),
});

/** What became of one authenticated heartbeat. */
export type HeartbeatOutcome =
  | { result: 'written'; instanceId: string; agentId: string; phase: string; score: number | null }
  | { result: 'revoked' }
  | { result: 'rate-limited'; retryAfterSeconds: number }
  | { result: 'invalid'; error: unknown };

const sha256 = (json: string): string => createHash('sha256').update(json).digest('hex');

/**
 * The whole decision for one heartbeat of an authenticated instance: validate the body, write liveness (and the
 * documents when they changed) through the coalescing writer, tell a revoked token from a rate limit when nothing was
 * written, and keep the bounded history when phase, score or a document moved.
 */
export async function recordHeartbeat(ctx: AppContext, claims: TokenClaims, raw: unknown): Promise<HeartbeatOutcome> {
  let body: z.output<typeof heartbeatBodySchema>;
  try {
    body = parseBody(heartbeatBodySchema, raw);
  } catch (error) {
    return { result: 'invalid', error };
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
  const tokenIdHash = hashTokenId(claims.jti);
  const written = await ctx.heartbeatWriter.write({
    instancePk: claims.instancePk,
    tokenIdHash,
    healthStatus: body.health.status ?? null,
    phase,
    score: scoreValue,
    grade,
    healthJson,
    healthHash: sha256(healthJson),
    gapJson,
    gapHash: sha256(gapJson),
    proofJson,
    proofHash: proofJson === null ? null : sha256(proofJson),
    problemsJson: JSON.stringify(problemsOf(body.health, body.gap)),
    intervalSeconds: body.intervalSeconds === undefined ? null : instanceInterval(ctx.config, body.intervalSeconds),
  });
  if (!written.written) return refusal(ctx, claims.instancePk, tokenIdHash);
  if (written.announce) {
    ctx.events.append({
      type: 'agent.heartbeat',
      namespace: written.namespace,
      name: written.name,
      instanceId: written.instanceId,
      phase,
      score: scoreValue,
      grade,
    });
  }
  if (written.phaseChanged) await ctx.fleetWriters.phases.submit(written.agentId);
  return { result: 'written', instanceId: written.instanceId, agentId: written.agentId, phase, score: scoreValue };
}

/** Nothing was written: the token was revoked (or the instance is gone), or the instance reports too fast. */
async function refusal(ctx: AppContext, instancePk: string, tokenIdHash: string): Promise<HeartbeatOutcome> {
  const instance = await ctx.database.db
    .selectFrom('instances')
    .select(['token_id_hash', sql<number>`extract(epoch from (clock_timestamp() - last_heartbeat_at))`.as('elapsed')])
    .where('id', '=', instancePk)
    .executeTakeFirst();
  if (!instance || instance.token_id_hash !== tokenIdHash) return { result: 'revoked' };
  const interval = ctx.config.minHeartbeatIntervalSeconds;
  return {
    result: 'rate-limited',
    retryAfterSeconds: Math.max(1, Math.ceil(interval - Number(instance.elapsed ?? 0))),
  };
}

/** The agents' phase refreshes of heartbeats, coalesced across concurrent heartbeats: once per batch. */
export function fleetWriters(ctx: Pick<AppContext, 'config' | 'database' | 'events'>): FleetWriters {
  return {
    phases: new Batcher<string, void>(async (agentIds) => {
      await refreshAgentPhases(ctx, [...new Set(agentIds)]);
      return agentIds.map(() => undefined);
    }),
  };
}
