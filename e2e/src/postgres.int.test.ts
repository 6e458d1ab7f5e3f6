import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startTestPostgres } from './postgres.js';
import { testPostgresUrl } from './vitest/test-context.js';

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('test PostgreSQL', () => {
  it('is a real PostgreSQL 17 server shared by the run', async () => {
    const { rows } = await query(testPostgresUrl(), 'select version() as v');
    expect(rows[0]?.v).toMatch(/^PostgreSQL 17\./);
  });

  it('creates databases, and can be paused and resumed with its data', async () => {
    const server = await startTestPostgres();
    try {
      const url = await server.createDatabase('pause_resume');
      await query(url, 'create table kept (id int); insert into kept values (42)');
      await server.pause();
      await expect(query(url, 'select 1')).rejects.toThrow();
      await server.resume();
      const { rows } = await query(url, 'select id from kept');
      expect(rows).toEqual([{ id: 42 }]);
      await expect(server.createDatabase('Bad-Name')).rejects.toThrow(/invalid database name/);
    } finally {
      await server.stop();
    }
  });
});
