import { resolve } from 'node:path';

export interface ControlPlaneConfig {
  port: number;
  /** PostgreSQL URL; undefined: embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Unset: admin endpoints answer 503. */
  adminKey: string | undefined;
  jwtSecret: string;
  tokenTtlSeconds: number;
  /** Heartbeats faster than this get 429. */
  minHeartbeatIntervalSeconds: number;
  /** What registration tells instances to use. */
  heartbeatIntervalSeconds: number;
  /** Heartbeat history rows kept per instance. */
  historyLimit: number;
  logLevel: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid control-plane configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const MIN_JWT_SECRET_LENGTH = 32;

/** Reads the configuration from the environment; every problem is reported at once, naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ControlPlaneConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const jwtSecret = env['JWT_SECRET'] ?? '';
  if (jwtSecret.length < MIN_JWT_SECRET_LENGTH) {
    problems.push(
      `JWT_SECRET must be at least ${MIN_JWT_SECRET_LENGTH} characters (it signs the agents' tokens)` +
        `${jwtSecret ? `; it has ${jwtSecret.length}` : ' and is not set'}. Generate one with: export JWT_SECRET=$(openssl rand -hex 32)`,
    );
  }
  const databaseUrl = env['DATABASE_URL'] || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const config: ControlPlaneConfig = {
    port: int('PORT', 8080, 0, 65535),
    databaseUrl,
    dataDir: resolve(env['AGENTSPEC_DATA_DIR'] || './.agentspec-data'),
    adminKey: env['AGENTSPEC_ADMIN_KEY'] || undefined,
    jwtSecret,
    tokenTtlSeconds: int('AGENTSPEC_TOKEN_TTL_SECONDS', 86_400, 60, 31_536_000),
    minHeartbeatIntervalSeconds: int('AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS', 10, 0, 3_600),
    heartbeatIntervalSeconds: int('AGENTSPEC_HEARTBEAT_INTERVAL_SECONDS', 30, 1, 3_600),
    historyLimit: int('AGENTSPEC_HISTORY_LIMIT', 100, 1, 100_000),
    logLevel: env['LOG_LEVEL'] || 'info',
  };
  if (config.heartbeatIntervalSeconds < config.minHeartbeatIntervalSeconds) {
    problems.push('AGENTSPEC_HEARTBEAT_INTERVAL_SECONDS must not be below AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS');
  }
  if (problems.length) throw new ConfigError(problems);
  return config;
}
