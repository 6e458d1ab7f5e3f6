import { Router } from 'express';
import type { AppContext } from '../app-context.js';
import { openApiDocument } from '../openapi.js';

/** /healthz (the process is up), /readyz (the database answers), /metrics. */
export function opsRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  router.get('/readyz', async (_req, res) => {
    try {
      await Promise.race([
        ctx.database.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('database ping timed out')), 2_000).unref()),
      ]);
      res.json({ status: 'ready', database: ctx.database.kind });
    } catch (err) {
      // The cause goes to the log, not to an unauthenticated caller.
      ctx.logger.warn({ err: (err as Error).message }, 'not ready: the database does not answer');
      res
        .status(503)
        .json({ status: 'not-ready', error: 'DatabaseUnavailable', message: 'the database does not answer' });
    }
  });
  const openapi = openApiDocument();
  router.get('/api/v1/openapi.json', (_req, res) => void res.json(openapi));
  router.get('/metrics', async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
  return router;
}
