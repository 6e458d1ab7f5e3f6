import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { migrationProvider } from './migrations.js';
import { PGliteDialect } from './pglite-dialect.js';
import { PreparingClient } from './prepared.js';
import type { Database } from './schema.js';

export interface ControlPlaneDatabase {
  db: Kysely<Database>;
  kind: 'postgres' | 'pglite';
  /** The pg pool (PostgreSQL only), for pool metrics. */
  pool?: pg.Pool;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A pg pool on DATABASE_URL, or an embedded PGlite database in `dataDir`. */
export async function openDatabase(options: {
  databaseUrl?: string | undefined;
  dataDir: string;
  /** Statements marked `prepared` are prepared once per connection (default true; see AGENTSPEC_DATABASE_PREPARED_STATEMENTS). */
  databasePreparedStatements?: boolean;
}): Promise<ControlPlaneDatabase> {
  if (options.databaseUrl) {
    const preparing = options.databasePreparedStatements ?? true;
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: 20,
      connectionTimeoutMillis: 5_000,
      ...(preparing ? { Client: PreparingClient } : {}),
    });
    pool.on('error', () => undefined); // a dropped idle connection is replaced on next use; /readyz reports outages
    // A connection lost while checked out (between the statements of a transaction, when the server shuts down) emits
    // 'error' on its client, which pg-pool listens to only while the client is idle: unheard, it would end the
    // process. The statement using it fails instead, and the pool discards it on release (it is no longer queryable).
    pool.on('connect', (client) => {
      client.on('error', () => undefined);
      // The statements marked `prepared` (the heartbeat path; no other statement is named) keep one plan per
      // connection rather than being planned again on every execution, which cost more than running them. A plan made
      // while a table was nearly empty lasts until ANALYZE (autovacuum's, within minutes) changes its statistics; the
      // statements look rows up by key, so such a plan is slower but still right. Queued before any other statement.
      if (preparing) void client.query('set plan_cache_mode = force_generic_plan').catch(() => undefined);
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      kind: 'postgres',
      pool,
      ping: async () => void (await sql`select 1`.execute(db)),
      close: () => db.destroy(),
    };
  }
  mkdirSync(options.dataDir, { recursive: true });
  const client = await PGlite.create(options.dataDir);
  const db = new Kysely<Database>({ dialect: new PGliteDialect(client) });
  return { db, kind: 'pglite', ping: async () => void (await sql`select 1`.execute(db)), close: () => db.destroy() };
}

/** Runs every pending migration; throws with the failing migration's error. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** The database cannot be reached (as opposed to refusing a statement): every query fails alike until it is back. */
export function isDatabaseOutage(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  const message = (err as Error).message ?? '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08000', '08003', '08006'].includes(
      code,
    ) ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(
      message,
    )
  );
}

/**
 * Waits until the database answers `SELECT 1` — a PostgreSQL starting beside the control plane (the chart's
 * StatefulSet, a compose service) is waited for rather than crashed on. Errors that are no outage (a wrong password,
 * an unknown database) and an outage longer than `seconds` are thrown at once.
 */
export async function waitForDatabase(
  db: Kysely<Database>,
  seconds: number,
  onWait: (err: Error) => void,
  sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)),
): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (let attempt = 0; ; attempt++) {
    try {
      await sql`select 1`.execute(db);
      return;
    } catch (err) {
      const unreachable =
        isDatabaseOutage(err) ||
        ['ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'].includes((err as { code?: string }).code ?? '');
      if (!unreachable || Date.now() >= deadline) throw err;
      if (attempt === 0) onWait(err as Error);
      await sleep(Math.min(5_000, 200 * 2 ** attempt));
    }
  }
}
