import { pino, type Logger, type LoggerOptions } from 'pino';
import { redact } from '@agentspec/sdk';

const REDACTED = '[REDACTED]';

/**
 * JSON lines. Admin keys, JWTs and the JWT secret never reach a log line: known fields are redacted by path,
 * and message strings are scrubbed of JWTs and the configured secrets.
 */
export function createLogger(
  level: string,
  secrets: readonly (string | undefined)[] = [],
  destination?: NodeJS.WritableStream,
): Logger {
  const scrub = (text: string): string => redact(text, secrets);
  const options: LoggerOptions = {
    level,
    base: { component: 'agentspec-control-plane' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
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
      censor: REDACTED,
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? scrub(a) : a)) as Parameters<typeof method>);
      },
    },
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}
