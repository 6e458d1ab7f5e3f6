import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { audit, FailureCounter } from './audit.js';
import { ApiError } from './api-error.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** X-Admin-Key, compared in constant time: 503 when no key is configured, 403 when missing or wrong. */
export function requireAdminKey(adminKey: string | undefined, logger?: Logger): RequestHandler {
  const expected = adminKey ? digest(adminKey) : undefined;
  const failures = new FailureCounter();
  return (req, _res, next) => {
    if (!expected) {
      return next(
        new ApiError(503, 'AdminKeyNotConfigured', 'the control plane has no admin key: set AGENTSPEC_ADMIN_KEY'),
      );
    }
    const given = req.header('x-admin-key');
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    if (!given || !timingSafeEqual(digest(given), expected)) {
      const remote = req.socket.remoteAddress ?? 'unknown';
      const count = failures.fail(remote);
      if (logger && count) {
        const path = req.originalUrl.split('?')[0];
        audit(logger, 'auth-failed', { remote, failures: count, method: req.method, path });
      }
      return next(new ApiError(403, 'Forbidden', 'missing or wrong X-Admin-Key'));
    }
    next();
  };
}
