import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';

const MARK = '/* prepared */ ';

/**
 * Put first in a statement run on every heartbeat (`sql\`${prepared}select …\``): PostgreSQL then parses and plans it
 * once per connection instead of once per execution (for the heartbeat statement, planning cost more than running it).
 * Only statements whose text never varies may carry it: each distinct text is one prepared statement per connection
 * for the connection's lifetime. Elsewhere (PGlite) it is an ordinary comment.
 */
export const prepared = sql.raw(MARK);

const names = new Map<string, string>();

/** The statement's name: a hash of its text, so a name always means the same text on every connection. */
function nameOf(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `agentspec_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * A pg client that runs a statement marked `prepared` as a named one (pg parses it on the connection's first use and
 * reuses it after). Kysely calls `query(text, values)`; every other form passes through untouched.
 */
export class PreparingClient extends pg.Client {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's overloads are forwarded as they are
  override query(...args: any[]): any {
    const [text, values] = args as [unknown, unknown];
    if (args.length === 2 && typeof text === 'string' && text.startsWith(MARK) && Array.isArray(values)) {
      return super.query({ name: nameOf(text), text, values });
    }
    return (super.query as (...a: unknown[]) => unknown)(...args);
  }
}
