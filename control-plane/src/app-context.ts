import type { EventEmitter } from 'node:events';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { ControlPlaneConfig } from './config.js';
import type { ControlPlaneDatabase } from './db/database.js';
import type { HeartbeatWriter } from './heartbeat-writer.js';
import type { ControlPlaneMetrics } from './metrics.js';
import type { TokenService } from './tokens.js';

/** What every route needs; built once by createApp. */
export interface AppContext {
  config: ControlPlaneConfig;
  /** The only database handle: `database.db` is the kysely instance. */
  database: ControlPlaneDatabase;
  logger: Logger;
  metrics: ControlPlaneMetrics;
  tokens: TokenService;
  adminAuth: RequestHandler;
  /** Coalesces concurrent heartbeats into one statement. */
  heartbeatWriter: HeartbeatWriter;
  /** agent.registered, agent.heartbeat, agent.deregistered: in-process for now. */
  events: EventEmitter;
}
