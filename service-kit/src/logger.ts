import { pino, type Logger, type LoggerOptions } from 'pino';
import { redact } from '@agentspec/sdk';

export interface ServiceLoggerOptions {
  component: string;
  level: string;
  /** Values scrubbed from every message string (keys, tokens, secrets); JWTs are scrubbed always. */
  secrets?: readonly (string | undefined)[];
  /** Fields censored by path, e.g. `apiKey`, `req.headers.authorization`. */
  redactPaths?: string[];
  destination?: NodeJS.WritableStream;
}

/** The JSON-lines logger of every service: ISO time, level names, the component, secrets never written. */
export function createServiceLogger(options: ServiceLoggerOptions): Logger {
  const secrets = options.secrets ?? [];
  const config: LoggerOptions = {
    level: options.level,
    base: { component: options.component },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    ...(options.redactPaths?.length ? { redact: { paths: options.redactPaths, censor: '[REDACTED]' } } : {}),
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? redact(a, secrets) : a)) as Parameters<typeof method>,
        );
      },
    },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}
