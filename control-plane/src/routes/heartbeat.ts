import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { ApiError } from '../api-error.js';
import type { AppContext } from '../app-context.js';
import { recordHeartbeat } from '../heartbeats.js';
import { hashTokenId, type TokenClaims } from '../tokens.js';

/** The instance a `Bearer` token speaks for (HTTP heartbeats, token refresh, the connected-mode WebSocket). */
export async function authenticateInstance(ctx: AppContext, header: string | undefined): Promise<TokenClaims> {
  const token = /^Bearer ([^\s]+)$/i.exec(header ?? '')?.[1];
  if (!token) throw new ApiError(401, 'Unauthorized', 'missing Authorization: Bearer <token>');
  try {
    return await ctx.tokens.verify(token);
  } catch {
    throw new ApiError(401, 'Unauthorized', 'invalid or expired token');
  }
}

/**
 * A fresh token for the instance of a valid one, revoking it: the swap is one conditional UPDATE, so of two refreshes
 * with the same token only one succeeds (the other gets 401, as any revoked token).
 */
async function refreshToken(ctx: AppContext, claims: TokenClaims) {
  const jti = randomUUID();
  const expiresAt = new Date(Date.now() + ctx.tokens.ttlSeconds * 1000);
  const row = await ctx.database.db
    .updateTable('instances')
    .set({ token_id_hash: hashTokenId(jti), token_expires_at: expiresAt })
    .where('id', '=', claims.instancePk)
    .where('token_id_hash', '=', hashTokenId(claims.jti))
    .returning(['instance_id', 'interval_seconds'])
    .executeTakeFirst();
  if (!row) throw new ApiError(401, 'Unauthorized', 'token revoked: register again');
  const { token } = await ctx.tokens.issue(claims.agentId, claims.instancePk, jti);
  return {
    agentId: claims.agentId,
    instanceId: row.instance_id,
    apiKey: token,
    expiresAt: expiresAt.toISOString(),
    heartbeatIntervalSeconds: row.interval_seconds,
  };
}

/** POST /api/v1/heartbeat (the HTTP face of recordHeartbeat) and POST /api/v1/token/refresh. */
export function heartbeatRoutes(ctx: AppContext): Router {
  const router = Router();
  router.post('/api/v1/heartbeat', async (req, res) => {
    let claims: TokenClaims;
    try {
      claims = await authenticateInstance(ctx, req.header('authorization'));
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
        res.status(204).end();
    }
  });
  // The WebSocket upgrade of this path is served by the HTTP server's upgrade handler (connect.ts); a plain GET is
  // authenticated like the upgrade, then told.
  router.get('/api/v1/connect', async (req) => {
    await authenticateInstance(ctx, req.header('authorization'));
    throw new ApiError(
      426,
      'UpgradeRequired',
      'GET /api/v1/connect only upgrades to a WebSocket (Upgrade: websocket)',
      undefined,
      {
        upgrade: 'websocket',
      },
    );
  });
  router.post('/api/v1/token/refresh', async (req, res) => {
    const claims = await authenticateInstance(ctx, req.header('authorization'));
    res.json(await refreshToken(ctx, claims));
  });
  return router;
}
