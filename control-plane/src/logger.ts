import { pino, type Logger, type LoggerOptions } from 'pino';

const REDACTED = '[REDACTED]';
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

/**
 * JSON lines. Admin keys, JWTs and the JWT secret never reach a log line: known fields are redacted by path,
 * and message strings are scrubbed of JWTs and the configured secrets.
 */
export function createLogger(
  level: string,
  secrets: readonly (string | undefined)[] = [],
  destination?: NodeJS.WritableStream,
): Logger {
  const scrub = (text: string): string => {
    let out = text.replace(JWT, REDACTED);
    for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join(REDACTED);
    return out;
  };
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
