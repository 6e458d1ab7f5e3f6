import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ENV } from '@agentspec/sdk';
import { parseNetworks } from './hosted.js';
import { readSettings, settingsErrorClass, type SettingsTable, type SettingsValues } from '@agentspec/service-kit';

export interface ControlPlaneConfig {
  port: number;
  /** Listen address. */
  host: string;
  /** PostgreSQL URL; undefined: embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** How long `serve` waits for PostgreSQL to accept connections at start before it exits. */
  databaseWaitSeconds: number;
  /** The heartbeat path's statements prepared once per connection (off behind poolers that cannot keep them). */
  databasePreparedStatements: boolean;
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
  /** Instances offline for longer than this are deleted. */
  instanceRetentionSeconds: number;
  /** How often the reaper runs (in one replica). */
  reaperIntervalSeconds: number;
  /** Events kept for Last-Event-ID resumption. */
  eventRetention: number;
  /** Concurrent /api/v1/events streams per replica; more get 503. */
  eventsMaxSubscribers: number;
  /** Seconds between keep-alive comments on an idle event stream. */
  eventsKeepAliveSeconds: number;
  /** Hosted mode: networks whose private addresses publicUrl may point into (CIDR). */
  hostedAllowedNetworks: string[];
  /** Hosted mode: a PEM file of CAs trusted in addition to the system roots; undefined: system roots only. */
  hostedCaFile: string | undefined;
  /** Hosted mode: deadline of one call to an agent (its card, a probe). */
  hostedTimeoutSeconds: number;
  logLevel: string;
}

export const ConfigError = settingsErrorClass('ConfigError', 'control-plane configuration');
export type ConfigError = InstanceType<typeof ConfigError>;

export const MIN_JWT_SECRET_LENGTH = 32;

/** Every setting (environment only), written once: the reader, --help and docs/control-plane.md use these rows. */
export const SETTINGS = {
  port: { type: 'int', env: 'PORT', default: 8080, min: 0, max: 65_535, help: 'listen port' },
  host: { type: 'string', env: 'HOST', default: '0.0.0.0', help: 'listen address (127.0.0.1: this machine only)' },
  databaseUrl: {
    type: 'optional',
    env: 'DATABASE_URL',
    shown: 'unset',
    help: 'PostgreSQL ≥ 13 URL; unset: embedded PGlite in AGENTSPEC_DATA_DIR (announced in the log)',
  },
  dataDir: { type: 'string', env: 'AGENTSPEC_DATA_DIR', default: './.agentspec-data', help: "PGlite's directory" },
  databaseWaitSeconds: {
    type: 'int',
    env: 'AGENTSPEC_DATABASE_WAIT_SECONDS',
    default: 120,
    min: 0,
    max: 3_600,
    help: 'at start, how long to wait for PostgreSQL to accept connections (a database starting beside it) before exiting',
  },
  databasePreparedStatements: {
    type: 'bool',
    env: 'AGENTSPEC_DATABASE_PREPARED_STATEMENTS',
    default: true,
    help: "prepare the heartbeat path's statements once per connection, each with one plan; false behind a pooler that cannot keep prepared statements (PgBouncer before 1.21 in transaction mode)",
  },
  adminKey: {
    type: 'secret',
    env: ENV.adminKey,
    help: 'admin key for registration and the read API (unset: they answer 503)',
  },
  jwtSecret: {
    type: 'secret',
    env: 'JWT_SECRET',
    help: `signs the agents' tokens; required, at least ${MIN_JWT_SECRET_LENGTH} characters, or the process exits saying how to make one`,
  },
  tokenTtlSeconds: {
    type: 'int',
    env: 'AGENTSPEC_TOKEN_TTL_SECONDS',
    default: 2_592_000,
    min: 60,
    max: 31_536_000,
    help: 'token lifetime (30 days, as upstream); clients refresh at two thirds of it',
  },
  minHeartbeatIntervalSeconds: {
    type: 'int',
    env: 'AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS',
    default: 10,
    min: 0,
    max: 3_600,
    help: 'faster heartbeats get 429',
  },
  heartbeatIntervalSeconds: {
    type: 'int',
    env: 'AGENTSPEC_HEARTBEAT_INTERVAL_SECONDS',
    default: 30,
    min: 1,
    max: 3_600,
    help: 'the interval registration tells instances to use',
  },
  historyLimit: {
    type: 'int',
    env: 'AGENTSPEC_HISTORY_LIMIT',
    default: 100,
    min: 1,
    max: 100_000,
    help: 'history rows kept per instance',
  },
  instanceRetention: {
    type: 'string',
    env: 'AGENTSPEC_INSTANCE_RETENTION',
    default: '24h',
    help: 'instances offline for longer are deleted (the agent and its history stay); e.g. 90s, 30m, 24h, 7d',
  },
  reaperIntervalSeconds: {
    type: 'int',
    env: 'AGENTSPEC_REAPER_INTERVAL_SECONDS',
    default: 10,
    min: 1,
    max: 3_600,
    help: 'how often the reaper marks silent instances offline (one replica at a time)',
  },
  eventRetention: {
    type: 'int',
    env: 'AGENTSPEC_EVENT_RETENTION',
    default: 100_000,
    min: 100,
    max: 100_000_000,
    help: 'events kept for resuming a stream with Last-Event-ID',
  },
  eventsMaxSubscribers: {
    type: 'int',
    env: 'AGENTSPEC_EVENTS_MAX_SUBSCRIBERS',
    default: 100,
    min: 1,
    max: 100_000,
    help: 'concurrent /api/v1/events streams per replica; more get 503',
  },
  eventsKeepAliveSeconds: {
    type: 'int',
    env: 'AGENTSPEC_EVENTS_KEEPALIVE_SECONDS',
    default: 15,
    min: 1,
    max: 300,
    help: 'keep-alive comment interval on an idle event stream',
  },
  hostedAllowedNetworks: {
    type: 'list',
    env: 'AGENTSPEC_HOSTED_ALLOWED_NETWORKS',
    shown: 'none',
    help: 'hosted mode: comma-separated networks (CIDR) whose private addresses a publicUrl may resolve to; public addresses need no entry',
  },
  hostedCaFile: {
    type: 'optional',
    env: 'AGENTSPEC_HOSTED_CA_FILE',
    shown: 'unset',
    help: "hosted mode: PEM file of CAs trusted, besides the system's, for agents' HTTPS",
  },
  hostedTimeoutSeconds: {
    type: 'int',
    env: 'AGENTSPEC_HOSTED_TIMEOUT_SECONDS',
    default: 5,
    min: 1,
    max: 60,
    help: "hosted mode: deadline of one call to an agent (its card at registration, a probe's health report)",
  },
  logLevel: { type: 'string', env: 'LOG_LEVEL', default: 'info', help: 'pino log level' },
} as const satisfies SettingsTable;

/** The checks that span settings. */
function checkControlPlaneSettings(v: SettingsValues<typeof SETTINGS>, problems: string[]): void {
  const secret = v.jwtSecret ?? '';
  if (secret.length < MIN_JWT_SECRET_LENGTH) {
    problems.push(
      `JWT_SECRET must be at least ${MIN_JWT_SECRET_LENGTH} characters (it signs the agents' tokens)` +
        `${secret ? `; it has ${secret.length}` : ' and is not set'}. Generate one with: export JWT_SECRET=$(openssl rand -hex 32)`,
    );
  }
  if (v.databaseUrl && !/^postgres(ql)?:\/\//.test(v.databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  if (parseDuration(v.instanceRetention) === undefined) {
    problems.push('AGENTSPEC_INSTANCE_RETENTION must be a duration such as 90s, 30m, 24h or 7d (or plain seconds)');
  }
  try {
    parseNetworks(v.hostedAllowedNetworks ?? []);
  } catch (err) {
    problems.push(`AGENTSPEC_HOSTED_ALLOWED_NETWORKS: ${(err as Error).message}`);
  }
  if (v.hostedCaFile && !existsSync(v.hostedCaFile)) {
    problems.push(`AGENTSPEC_HOSTED_CA_FILE: ${v.hostedCaFile} does not exist`);
  }
  if (v.heartbeatIntervalSeconds < v.minHeartbeatIntervalSeconds) {
    problems.push('AGENTSPEC_HEARTBEAT_INTERVAL_SECONDS must not be below AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS');
  }
}

const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3_600, d: 86_400 };

/** Seconds of `90`, `90s`, `30m`, `24h` or `7d`; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  return match ? Number(match[1]) * UNIT_SECONDS[match[2]!]! : undefined;
}

/** Reads the configuration from the environment; every problem is reported at once, naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ControlPlaneConfig {
  const s = readSettings(SETTINGS, { env, validate: checkControlPlaneSettings, error: ConfigError });
  const { instanceRetention, ...rest } = s;
  return {
    ...rest,
    dataDir: resolve(s.dataDir),
    jwtSecret: s.jwtSecret ?? '',
    hostedAllowedNetworks: s.hostedAllowedNetworks ?? [],
    instanceRetentionSeconds: parseDuration(instanceRetention)!,
  };
}
