import type { Server } from 'node:http';
import { createApp } from './app.js';
import type { ControlPlaneConfig } from './config.js';
import { migrateToLatest, openDatabase, waitForDatabase } from './db/database.js';
import { createLogger } from './logger.js';

export interface RunningControlPlane {
  server: Server;
  url: string;
  /** Stops accepting connections, lets in-flight requests finish, then closes the database. */
  shutdown(): Promise<void>;
}

/** Opens (and migrates) the database, then serves the API on config.port. */
export async function startControlPlane(config: ControlPlaneConfig): Promise<RunningControlPlane> {
  const { host } = config;
  const logger = createLogger(config.logLevel, [config.adminKey, config.jwtSecret]);
  if (!config.databaseUrl) {
    logger.warn(
      { dataDir: config.dataDir },
      `no DATABASE_URL: using an embedded PGlite database in ${config.dataDir} (fine for trying it out; use PostgreSQL in production)`,
    );
  }
  if (!config.adminKey) logger.warn('AGENTSPEC_ADMIN_KEY is not set: registration and the read API answer 503');
  const database = await openDatabase(config);
  try {
    await waitForDatabase(database.db, config.databaseWaitSeconds, (err) =>
      logger.warn(
        { err: err.message, seconds: config.databaseWaitSeconds },
        'waiting for the database to accept connections',
      ),
    );
  } catch (err) {
    await database.close();
    throw err;
  }
  const applied = await migrateToLatest(database.db);
  if (applied.length) logger.info({ migrations: applied }, 'database migrated');
  const { app, attach, start, stop } = createApp({ config, database, logger });
  await start();
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, host, () => resolve(s));
    s.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  attach(server); // connected mode's WebSockets on the same port
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  logger.info({ url, database: database.kind }, 'control plane listening');
  let closing: Promise<void> | undefined;
  return {
    server,
    url,
    shutdown() {
      closing ??= (async () => {
        logger.info('shutting down: finishing in-flight requests');
        const closed = new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await stop(); // ends the event streams and WebSockets, which would otherwise hold the server open
        await closed;
        await database.close();
        logger.info('stopped');
      })();
      return closing;
    },
  };
}
