import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ApiError } from './api-error.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** X-Admin-Key, compared in constant time: 503 when no key is configured, 403 when missing or wrong. */
export function requireAdminKey(adminKey: string | undefined): RequestHandler {
  const expected = adminKey ? digest(adminKey) : undefined;
  return (req, _res, next) => {
    if (!expected) {
      return next(
        new ApiError(503, 'AdminKeyNotConfigured', 'the control plane has no admin key: set AGENTSPEC_ADMIN_KEY'),
      );
    }
    const given = req.header('x-admin-key');
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    if (!given || !timingSafeEqual(digest(given), expected)) {
      return next(new ApiError(403, 'Forbidden', 'missing or wrong X-Admin-Key'));
    }
    next();
  };
}
