import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { DNS_LABEL, scopedKeyNamespace, scopedRegistrationKey } from '@agentspec/sdk';
import { audit, FailureCounter, type AuditAction } from './audit.js';
import { ApiError } from './api-error.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** What a key may do: everything (the admin key), or register instances of one namespace (its registration key). */
export type KeyScope = { kind: 'admin' } | { kind: 'namespace'; namespace: string };

/** The scope the registrar middleware found (routes behind it read it). */
export const keyScopeOf = (res: Response): KeyScope => res.locals['keyScope'] as KeyScope;

export interface KeyAuth {
  /** The admin key only: reads, deletes, the event stream, connection endpoints. */
  admin: RequestHandler;
  /** The admin key or a namespace's registration key: registration (the route checks the namespace). */
  registrar: RequestHandler;
}

/**
 * X-Admin-Key, compared in constant time: 503 when no admin key is configured, 403 when missing or wrong. A
 * namespace's registration key (`agentspec-ns.<namespace>.<mac>`, derived from the admin key) is recognised by
 * recomputing it; it passes the registrar check only.
 */
export function keyAuth(adminKey: string | undefined, logger?: Logger): KeyAuth {
  const expected = adminKey ? digest(adminKey) : undefined;
  const failures = new FailureCounter();
  const identify = (given: string): KeyScope | undefined => {
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    if (timingSafeEqual(digest(given), expected!)) return { kind: 'admin' };
    const namespace = scopedKeyNamespace(given);
    if (namespace === undefined || namespace.length > 63 || !DNS_LABEL.test(namespace)) return undefined;
    const scoped = scopedRegistrationKey(adminKey!, namespace);
    return timingSafeEqual(digest(given), digest(scoped)) ? { kind: 'namespace', namespace } : undefined;
  };
  const refuse = (req: Request, what: AuditAction, message: string): ApiError => {
    const remote = req.socket.remoteAddress ?? 'unknown';
    const count = failures.fail(remote);
    if (logger && count) {
      audit(logger, what, { remote, failures: count, method: req.method, path: req.originalUrl.split('?')[0] });
    }
    return new ApiError(403, 'Forbidden', message);
  };
  const check =
    (allowScoped: boolean): RequestHandler =>
    (req, res, next) => {
      if (!expected) {
        return next(
          new ApiError(503, 'AdminKeyNotConfigured', 'the control plane has no admin key: set AGENTSPEC_ADMIN_KEY'),
        );
      }
      const given = req.header('x-admin-key');
      const scope = given ? identify(given) : undefined;
      if (!scope) return next(refuse(req, 'auth-failed', 'missing or wrong X-Admin-Key'));
      if (scope.kind === 'namespace' && !allowScoped) {
        return next(
          refuse(
            req,
            'out-of-scope',
            `this key registers instances of namespace ${scope.namespace} only: reads, deletes, events and ` +
              'connection state need the admin key',
          ),
        );
      }
      res.locals['keyScope'] = scope;
      next();
    };
  return { admin: check(false), registrar: check(true) };
}
