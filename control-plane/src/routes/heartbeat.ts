import { Router } from 'express';
import { ApiError } from '../api-error.js';
import type { AppContext } from '../app-context.js';
import { recordHeartbeat } from '../heartbeats.js';
import type { TokenClaims } from '../tokens.js';

async function authenticate(ctx: AppContext, header: string | undefined): Promise<TokenClaims> {
  const token = /^Bearer ([^\s]+)$/i.exec(header ?? '')?.[1];
  if (!token) throw new ApiError(401, 'Unauthorized', 'missing Authorization: Bearer <token>');
  try {
    return await ctx.tokens.verify(token);
  } catch {
    throw new ApiError(401, 'Unauthorized', 'invalid or expired token');
  }
}

/** POST /api/v1/heartbeat: the HTTP face of recordHeartbeat. */
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
    const outcome = await recordHeartbeat(ctx, claims, req.body);
    switch (outcome.result) {
      case 'invalid':
        ctx.metrics.heartbeats.inc({ result: 'invalid' });
        throw outcome.error;
      case 'revoked':
        ctx.metrics.heartbeats.inc({ result: 'unauthorized' });
        throw new ApiError(401, 'Unauthorized', 'token revoked: register again');
      case 'rate-limited': {
        const interval = ctx.config.minHeartbeatIntervalSeconds;
        ctx.metrics.heartbeats.inc({ result: 'rate_limited' });
        throw new ApiError(429, 'TooManyHeartbeats', `heartbeats are limited to one every ${interval} s`, undefined, {
          'retry-after': String(outcome.retryAfterSeconds),
        });
      }
      case 'written':
        ctx.metrics.heartbeats.inc({ result: 'accepted' });
        ctx.events.emit('agent.heartbeat', {
          agentId: claims.agentId,
          instanceId: outcome.instanceId,
          phase: outcome.phase,
          score: outcome.score,
        });
        res.status(204).end();
    }
  });
  return router;
}
