// The pool survives a database that goes away while a connection is checked out (found by the outage test under
// load: the control plane ended with an unheard pg 'error' event when PostgreSQL shut down mid-transaction).
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { startTestPostgres, waitFor } from '@agentspec/e2e';
import { openDatabase } from './database.js';

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
});
