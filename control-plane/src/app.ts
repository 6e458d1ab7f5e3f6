import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { ConnectServer } from './connect.js';
import { Prober, PROBE_CHANNEL, PROBE_DONE_CHANNEL } from './probe.js';
import type { Logger } from 'pino';
import { keyAuth } from './admin-auth.js';
import { ApiError } from './api-error.js';
import { clientErrorOf, rejectUnsafeJson } from './client-errors.js';
import type { AppContext } from './app-context.js';
import type { ControlPlaneConfig } from './config.js';
import { isDatabaseOutage, type ControlPlaneDatabase } from './db/database.js';
import { createLogger } from './logger.js';
import { createMetrics, type ControlPlaneMetrics } from './metrics.js';
import { agentRoutes } from './routes/agents.js';
import { HeartbeatWriter } from './heartbeat-writer.js';
import { HostedCaller } from './hosted.js';
import { fleetWriters } from './heartbeats.js';
import { heartbeatRoutes } from './routes/heartbeat.js';
import { openApiDocument, servedMethods } from './openapi.js';
import { opsRoutes } from './routes/ops.js';
import { registerRoutes } from './routes/register.js';
import { TokenService } from './tokens.js';
import { Coordinator } from './coordination.js';
import { EventHub, EventLog } from './events.js';
import { Reaper } from './reaper.js';
import { eventRoutes } from './routes/events.js';
import { connectionRoutes } from './routes/connections.js';
import { dashboardRoutes } from './dashboard.js';

export const MAX_BODY_BYTES = 64 * 1024;

export interface CreateAppOptions {
  config: ControlPlaneConfig;
  database: ControlPlaneDatabase;
  logger?: Logger;
  metrics?: ControlPlaneMetrics;
  /** The built dashboard served at / (default: the installed @agentspec/dashboard's dist/). */
  dashboardDir?: string;
}

export interface ControlPlaneApp {
  app: Express;
  context: AppContext;
  /** Starts the background work: the event fan-out, its LISTEN connection and the reaper. */
  start(): Promise<void>;
  /** Stops it (event streams end; pending events are written first; connected agents are told to go elsewhere). */
  stop(): Promise<void>;
  /** Serves connected mode's WebSocket (`GET /api/v1/connect`) on the HTTP server that serves `app`. */
  attach(server: Server): void;
}

/** The control plane as an express app (tests use it without listening). The database must be migrated. */
export function createApp(options: CreateAppOptions): ControlPlaneApp {
  const { config, database } = options;
  const logger = options.logger ?? createLogger(config.logLevel, [config.adminKey, config.jwtSecret]);
  const hub = new EventHub(database.db, logger);
  const metrics = options.metrics ?? createMetrics(database.pool, () => hub.subscribers);
  const keys = keyAuth(config.adminKey, logger);
  const base = {
    config,
    database,
    logger,
    metrics,
    tokens: new TokenService(config.jwtSecret, config.tokenTtlSeconds),
    adminAuth: keys.admin,
    registrarAuth: keys.registrar,
    events: new EventLog(database.db, logger, () => void hub.poll()),
    hub,
    heartbeatWriter: new HeartbeatWriter(database.db, {
      minIntervalSeconds: config.minHeartbeatIntervalSeconds,
      historyLimit: config.historyLimit,
    }),
    hosted: new HostedCaller({
      allowedNetworks: config.hostedAllowedNetworks,
      extraCa: config.hostedCaFile ? readFileSync(config.hostedCaFile, 'utf8') : undefined,
      timeoutMs: config.hostedTimeoutSeconds * 1000,
    }),
  };
  const context: AppContext = { ...base, fleetWriters: fleetWriters(base) };

  // Connected mode: pinged at the heartbeat interval; one missed pong closes the socket. Probes reach its sockets
  // from any replica.
  const connect = new ConnectServer(context, { pingIntervalMs: config.heartbeatIntervalSeconds * 1000 });
  const prober = new Prober(context, connect);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((req, res, next) => {
    const end = metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      end({ route: route ? `${req.baseUrl}${route}` : 'unmatched', status: String(res.statusCode) });
    });
    next();
  });
  // Bodies over 64 KiB are refused from Content-Length before any of the body is read (and the connection closed, as
  // the rest of the body will not be read), or as soon as a stream without one passes the limit.
  app.use((req, res, next) => {
    const declared = req.headers['content-length'];
    if (declared === undefined || Number(declared) <= MAX_BODY_BYTES) return next();
    res.set('connection', 'close');
    next(Object.assign(new Error('declared body too large'), { type: 'entity.too.large' }));
  });
  app.use(express.json({ limit: MAX_BODY_BYTES, strict: true }));
  app.use(rejectUnsafeJson);
  app.use(opsRoutes(context));
  app.use(registerRoutes(context));
  app.use(heartbeatRoutes(context));
  app.use(eventRoutes(context));
  app.use(connectionRoutes(context));
  app.use(agentRoutes(context, prober));
  app.use(dashboardRoutes(options.dashboardDir));
  const served = servedMethods(openApiDocument());
  app.use((req, res, next) => {
    const methods = served.find((p) => p.pattern.test(req.path))?.methods;
    if (!methods) return next(new ApiError(404, 'NotFound', 'no such endpoint'));
    const allow = methods.includes('GET') ? [...methods, 'HEAD'] : methods;
    res.set('allow', allow.join(', '));
    next(new ApiError(405, 'MethodNotAllowed', `${req.method} is not served here; allowed: ${allow.join(', ')}`));
  });

  const errors: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    let error = clientErrorOf(err, MAX_BODY_BYTES);
    if (error) {
      if (req.path === '/api/v1/heartbeat' && error.status === 413) metrics.heartbeats.inc({ result: 'too_large' });
      logger.debug({ status: error.status, error: error.error, path: req.path }, 'client error');
    } else if (isDatabaseOutage(err)) {
      error = new ApiError(503, 'DatabaseUnavailable', 'the database is unavailable; retry later', undefined, {
        'retry-after': '5',
      });
      logger.warn({ err: (err as Error).message, path: req.path }, 'database unavailable');
    } else {
      error = new ApiError(500, 'InternalError', 'internal error');
      logger.error({ err: (err as Error).message, path: req.path }, 'request failed');
    }
    if (req.path === '/api/v1/heartbeat' && error.status >= 500) metrics.heartbeats.inc({ result: 'error' });
    res.status(error.status).set(error.headers).json(error.toJSON());
  };
  app.use(errors);
  const coordinator = new Coordinator({
    databaseUrl: config.databaseUrl,
    logger,
    onNotify: () => void hub.poll(),
    channels: { [PROBE_CHANNEL]: prober, [PROBE_DONE_CHANNEL]: prober },
  });
  const reaper = new Reaper(context, coordinator);
  return {
    app,
    context,
    attach: (server) => connect.attach(server),
    async start() {
      await hub.start();
      await coordinator.start();
      reaper.start();
    },
    async stop() {
      await connect.close();
      reaper.stop();
      await context.events.flushed();
      hub.stop();
      await coordinator.stop();
    },
  };
}
