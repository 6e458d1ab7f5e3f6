import type { Logger } from 'pino';
import { createServiceLogger } from '@agentspec/service-kit';

/**
 * JSON lines. Admin keys, JWTs and the JWT secret never reach a log line: known fields are redacted by path,
 * and message strings are scrubbed of JWTs and the configured secrets.
 */
export function createLogger(
  level: string,
  secrets: readonly (string | undefined)[] = [],
  destination?: NodeJS.WritableStream,
): Logger {
  return createServiceLogger({
    component: 'agentspec-control-plane',
    level,
    secrets,
    redactPaths: [
      'req.headers.authorization',
      'req.headers["x-admin-key"]',
      'headers.authorization',
      'headers["x-admin-key"]',
      'apiKey',
      '*.apiKey',
      'jwtSecret',
      'adminKey',
      'token',
    ],
    ...(destination ? { destination } : {}),
  });
}
