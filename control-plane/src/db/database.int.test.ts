// The pool survives a database that goes away while a connection is checked out (found by the outage test under
// load: the control plane ended with an unheard pg 'error' event when PostgreSQL shut down mid-transaction), and
// prepares the statements marked `prepared`.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { startTestPostgres, waitFor } from '@agentspec/e2e';
import { openDatabase } from './database.js';
import { prepared } from './prepared.js';

describe('the control plane database pool', () => {
  it('turns a connection lost between the statements of a transaction into a failed statement, and recovers', async () => {
    const postgres = await startTestPostgres();
    const database = await openDatabase({ databaseUrl: await postgres.createDatabase('lost'), dataDir: '' });
    try {
      let proceed: (() => void) | undefined;
      const transaction = database.db.transaction().execute(async (trx) => {
        await sql`select 1`.execute(trx);
        await new Promise<void>((resolve) => (proceed = resolve)); // idle in transaction, checked out
        await sql`select 1`.execute(trx);
      });
      await waitFor('the transaction to hold its connection', async () => proceed !== undefined);
      await postgres.pause(); // the server ends every backend: the idle one's client emits 'error'
      proceed?.();
      await expect(transaction).rejects.toThrow();
      await postgres.resume();
      await waitFor('the pool to serve again', async () => database.ping().then(() => true));
    } finally {
      await database.close();
      await postgres.stop();
    }
  });

  it('prepares a statement marked prepared once per connection, with one plan, and leaves the others unnamed', async () => {
    const postgres = await startTestPostgres();
    const database = await openDatabase({ databaseUrl: await postgres.createDatabase('prepared'), dataDir: '' });
    try {
      const seen = await database.db.connection().execute(async (connection) => {
        for (const n of [1, 2, 3]) {
          const rows = await sql<{ n: number }>`${prepared}select ${n}::int as n`.execute(connection);
          expect(rows.rows).toEqual([{ n }]);
        }
        await sql`select 4`.execute(connection);
        const statements = await sql<{ name: string; generic_plans: number; custom_plans: number }>`
          select name, generic_plans::int, custom_plans::int from pg_prepared_statements`.execute(connection);
        const mode = await sql<{ plan_cache_mode: string }>`show plan_cache_mode`.execute(connection);
        return { statements: statements.rows, mode: mode.rows[0]?.plan_cache_mode };
      });
      expect(seen.mode).toBe('force_generic_plan');
      expect(seen.statements).toHaveLength(1);
      expect(seen.statements[0]).toMatchObject({ generic_plans: 3, custom_plans: 0 });
      expect(seen.statements[0]!.name).toMatch(/^agentspec_[0-9a-f]{24}$/);
    } finally {
      await database.close();
      await postgres.stop();
    }
  });

  it('prepares nothing with AGENTSPEC_DATABASE_PREPARED_STATEMENTS=false (a pooler that cannot keep them)', async () => {
    const postgres = await startTestPostgres();
    const database = await openDatabase({
      databaseUrl: await postgres.createDatabase('unprepared'),
      dataDir: '',
      databasePreparedStatements: false,
    });
    try {
      const seen = await database.db.connection().execute(async (connection) => {
        const rows = await sql<{ n: number }>`${prepared}select ${5}::int as n`.execute(connection);
        const statements = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(connection);
        const mode = await sql<{ plan_cache_mode: string }>`show plan_cache_mode`.execute(connection);
        return { rows: rows.rows, statements: statements.rows, mode: mode.rows[0]?.plan_cache_mode };
      });
      expect(seen).toEqual({ rows: [{ n: 5 }], statements: [], mode: 'auto' });
    } finally {
      await database.close();
      await postgres.stop();
    }
  });
});
