import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { ControlPlaneConfig } from './config.js';
import type { ControlPlaneDatabase } from './db/database.js';
import type { EventHub, EventLog } from './events.js';
import type { Batcher } from './batch.js';
import type { HostedCaller } from './hosted.js';
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
  /** The admin key only. */
  adminAuth: RequestHandler;
  /** The admin key or a namespace's registration key (registration). */
  registrarAuth: RequestHandler;
  /** Coalesces concurrent heartbeats into one statement. */
  heartbeatWriter: HeartbeatWriter;
  /** Appends fleet events (agent.registered, agent.heartbeat, …) to the event table every replica streams from. */
  events: EventLog;
  /** This replica's fan-out of committed events to its /api/v1/events subscribers. */
  hub: EventHub;
  /** Agent phase refreshes of heartbeats, batched. */
  fleetWriters: FleetWriters;
  /** Calls hosted instances (their card, their health) under the SSRF rules. */
  hosted: HostedCaller;
}

/** What heartbeats write besides the instance row, in batches (heartbeats.ts builds them). */
export interface FleetWriters {
  /** Agents whose phase may have moved. */
  phases: Batcher<string, void>;
}
