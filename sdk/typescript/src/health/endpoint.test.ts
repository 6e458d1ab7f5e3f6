import { describe, expect, it } from 'vitest';
import { parseEndpoint } from './endpoint.js';

describe('parseEndpoint', () => {
  it.each([
    ['postgres://u:p@db.internal:6543/app', 'postgres', 'db.internal', 6543],
    ['postgresql://db/app', 'postgres', 'db', 5432],
    ['redis://:secret@cache:6380/0', 'redis', 'cache', 6380],
    ['rediss://cache', 'redis', 'cache', 6379],
    ['localhost:6379', 'redis', 'localhost', 6379],
    ['[::1]:5432', 'postgres', '::1', 5432],
    ['mongo.internal', 'mongodb', 'mongo.internal', 27017],
    ['https://mcp.example.com/sse', 'http', 'mcp.example.com', 443],
  ])('%s', (connection, kind, host, port) => {
    expect(parseEndpoint(connection, kind)).toMatchObject({ host, port });
  });

  it('has no address for files and garbage', () => {
    expect(parseEndpoint('./data/memory.db', 'sqlite')).toBeUndefined();
    expect(parseEndpoint('not a url at all', 'redis')).toBeUndefined();
  });
});
