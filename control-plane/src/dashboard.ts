import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { Router, type Response } from 'express';

/**
 * The dashboard's Content-Security-Policy: scripts, styles and connections from this origin only, no inline script or
 * style element, no framing, no plugins.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Where the built dashboard is (`@agentspec/dashboard`'s dist/), or undefined when it is not installed. */
export function dashboardDir(): string | undefined {
  try {
    const require_ = createRequire(import.meta.url);
    return join(dirname(require_.resolve('@agentspec/dashboard/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

function secure(res: Response): void {
  res.set({
    'content-security-policy': DASHBOARD_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
  });
}

/**
 * GET / serves the fleet dashboard (index.html, revalidated on every load) and /assets/* its files, whose names carry
 * their content hash (cached for a year as immutable). The admin key never travels in a URL: the page sends it as the
 * X-Admin-Key header of its API calls.
 */
export function dashboardRoutes(dir = dashboardDir()): Router {
  const router = Router();
  const indexPath = dir ? join(dir, 'index.html') : undefined;
  const index = indexPath && existsSync(indexPath) ? readFileSync(indexPath, 'utf8') : undefined;
  router.get('/', (_req, res) => {
    if (!index) {
      res.status(404).json({
        error: 'DashboardNotBuilt',
        message: 'the dashboard is not built into this install: run `make build` (the images include it)',
      });
      return;
    }
    secure(res);
    res.set('cache-control', 'no-cache').type('html').send(index);
  });
  if (dir && index) {
    router.use(
      '/assets',
      express.static(join(dir, 'assets'), {
        immutable: true,
        maxAge: '365d',
        index: false,
        redirect: false,
        setHeaders: secure,
      }),
    );
  }
  return router;
}
