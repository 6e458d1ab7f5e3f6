import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import { prepared } from './db/prepared.js';
import type { Database } from './db/schema.js';

export const EVENT_TYPES = [
  'agent.registered',
  'agent.deregistered',
  'agent.connected',
  'agent.disconnected',
  'agent.phase_changed',
  'agent.offline',
  'agent.heartbeat',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What happened to one agent (and, for instance events, which instance). */
export interface FleetEvent {
  type: EventType;
  namespace: string;
  name: string;
  instanceId?: string;
  [field: string]: unknown;
}

/** An event as stored: `data` is its JSON without the id, which the database assigns. */
export interface StoredEvent {
  id: number;
  type: string;
  namespace: string;
  data: string;
}

/** The NOTIFY channel that tells every replica new events are committed. */
export const EVENTS_CHANNEL = 'agentspec_events';
/** Serialises event inserts across replicas, so ids commit in order and a reader never skips a late commit. */
const EVENTS_LOCK = 7_363_001;

/** The event's JSON as sent on the stream, with its id first. */
export const eventJson = (event: StoredEvent): string => `{"id":${event.id},${event.data.slice(1)}`;

/**
 * Appends fleet events to the bounded `events` table. Appends are batched (one statement per batch, one batch in
 * flight per process) and serialised across replicas by a transaction-scoped advisory lock: ids are assigned and
 * committed in order, which is what makes `Last-Event-ID` resumption exact. Each commit sends a NOTIFY; `onCommitted`
 * lets this process's hub read at once.
 */
export class EventLog {
  private queue: string[][] = [];
  private running = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly logger: Logger,
    private readonly onCommitted: () => void,
    private readonly maxBatch = 500,
  ) {}

  append(event: FleetEvent): void {
    const data = JSON.stringify({ ...event, at: new Date().toISOString() });
    this.queue.push([event.type, event.namespace, event.name, data]);
    if (!this.running) void this.pump();
  }

  /** Resolves once every appended event is committed (or failed). */
  flushed(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private async pump(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.insert(batch);
        this.onCommitted();
      } catch (err) {
        // Events are notifications: a lost batch costs subscribers a resync, never a request.
        this.logger.warn({ err: (err as Error).message, events: batch.length }, 'events not recorded');
      }
    }
    this.running = false;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  /**
   * One statement, so one round trip: the advisory lock is taken before any row gets its id (the insert reads the
   * lock's row), the NOTIFY is sent at commit, and the lock is released at commit.
   */
  private async insert(batch: string[][]): Promise<void> {
    const column = (n: number) => batch.map((row) => row[n]!);
    await sql`${prepared}
      with lock as (select pg_advisory_xact_lock(${EVENTS_LOCK}) as held),
      added as (
        insert into events (type, namespace, name, data)
        select t.* from lock, unnest(${column(0)}::text[], ${column(1)}::text[], ${column(2)}::text[], ${column(3)}::text[])
          as t(type, namespace, name, data)
        returning id
      )
      select pg_notify(${EVENTS_CHANNEL}, (select count(*) from added)::text)`.execute(this.db);
  }
}

/** One reader of the stream. `send` returns false when the subscriber cannot keep up (it is then dropped). */
export interface Subscriber {
  lastId: number;
  wants(event: StoredEvent): boolean;
  send(event: StoredEvent): boolean;
  reset(oldestId: number): void;
  drop(reason: string): void;
}

const PAGE = 1_000;

/**
 * Fans committed events out to this replica's subscribers. It reads the table after its cursor whenever told that
 * something committed (NOTIFY from any replica, or this process's own EventLog) and on a safety interval, so a lost
 * notification only delays delivery. A subscriber resuming from an id catches up from the table before it joins.
 */
export class EventHub {
  private cursor = 0;
  private readonly live = new Set<Subscriber>();
  private catchingUp = 0;
  private polling: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly logger: Logger,
    private readonly safetyPollMs = 5_000,
  ) {}

  async start(): Promise<void> {
    const row = await sql<{ max: string | null }>`select max(id) as max from events`.execute(this.db);
    this.cursor = Number(row.rows[0]?.max ?? 0);
    const tick = (): void => {
      this.timer = setTimeout(() => void this.poll().finally(tick), this.safetyPollMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
    for (const sub of [...this.live]) sub.drop('shutting down');
    this.live.clear();
  }

  get subscribers(): number {
    return this.live.size + this.catchingUp;
  }

  get lastId(): number {
    return this.cursor;
  }

  /** Reads and delivers what committed after the cursor; concurrent calls coalesce into one more read. */
  poll(): Promise<void> {
    if (this.polling) {
      this.again = true;
      return this.polling;
    }
    this.polling = (async () => {
      try {
        do {
          this.again = false;
          let rows: StoredEvent[];
          do {
            rows = await this.read(this.cursor, PAGE);
            for (const event of rows) this.deliver(event);
            if (rows.length) this.cursor = rows[rows.length - 1]!.id;
          } while (rows.length === PAGE);
        } while (this.again);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'reading events failed; retrying on the next notification');
      } finally {
        this.polling = undefined;
      }
    })();
    return this.polling;
  }

  /** Adds a subscriber; with `after`, first the events after that id that the table still holds. */
  async subscribe(sub: Subscriber, after: number | undefined): Promise<void> {
    if (after === undefined || after === this.cursor) {
      sub.lastId = this.cursor;
      this.live.add(sub);
      return;
    }
    this.catchingUp++;
    try {
      const bounds = await sql<{ min: string | null; max: string | null }>`
        select min(id) as min, max(id) as max from events`.execute(this.db);
      const oldest = Number(bounds.rows[0]?.min ?? this.cursor + 1);
      const newest = Number(bounds.rows[0]?.max ?? 0);
      if (after < oldest - 1) sub.reset(oldest);
      // An id the table never issued (a restored database, a made-up header) must not silence the stream until ids
      // catch up with it: the client is told to read everything again and gets what comes next.
      if (after > newest) sub.reset(newest + 1);
      sub.lastId = Math.min(after, newest);
      for (;;) {
        const upTo = this.cursor;
        if (sub.lastId >= upTo) break;
        const rows = (await this.read(sub.lastId, PAGE)).filter((e) => e.id <= upTo);
        for (const event of rows) if (!this.send(sub, event)) return;
        sub.lastId = rows.length === PAGE ? rows[rows.length - 1]!.id : upTo;
      }
      this.live.add(sub); // no await between the check above and here: nothing is delivered in between
    } finally {
      this.catchingUp--;
    }
  }

  unsubscribe(sub: Subscriber): void {
    this.live.delete(sub);
  }

  private deliver(event: StoredEvent): void {
    for (const sub of this.live) {
      if (event.id > sub.lastId && !this.send(sub, event)) this.live.delete(sub);
    }
  }

  private send(sub: Subscriber, event: StoredEvent): boolean {
    sub.lastId = event.id;
    if (!sub.wants(event) || sub.send(event)) return true;
    sub.drop('too slow: the client did not read its events');
    return false;
  }

  private async read(after: number, limit: number): Promise<StoredEvent[]> {
    const rows = await sql<{ id: string; type: string; namespace: string; data: string }>`${prepared}
      select id, type, namespace, data from events where id > ${after} order by id limit ${limit}`.execute(this.db);
    return rows.rows.map((r) => ({ ...r, id: Number(r.id) }));
  }
}
