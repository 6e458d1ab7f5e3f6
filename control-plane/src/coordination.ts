import pg from 'pg';
import type { Logger } from 'pino';
import { EVENTS_CHANNEL } from './events.js';

/** The reaper's session-level advisory lock: exactly one replica holds it; it goes with that replica's connection. */
const REAPER_LOCK = 7_363_002;

export interface CoordinatorOptions {
  /** PostgreSQL; undefined with PGlite, where this process is the only replica. */
  databaseUrl: string | undefined;
  logger: Logger;
  /** Another replica (or this one) committed events. */
  onNotify: () => void;
  /** More channels to LISTEN on, each with the receiver of its notifications. */
  channels?: Record<string, { onNotification(channel: string, payload: string | undefined): void }>;
}

/**
 * One dedicated PostgreSQL connection per replica: it LISTENs for committed events and holds the reaper lock. When it
 * breaks (the database restarted, the network dropped) the lock is gone with it; it reconnects with jittered backoff
 * and tells the hub to read, so nothing notified meanwhile is missed for long. A killed replica's connection closes
 * with the process, so another replica takes the lock at its next try.
 */
export class Coordinator {
  private client: pg.Client | undefined;
  private lockHeld = false;
  private stopped = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CoordinatorOptions) {}

  async start(): Promise<void> {
    if (this.options.databaseUrl) await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    this.lockHeld = false;
    await client?.end().catch(() => undefined);
  }

  /** Whether this replica runs the reaper now: it holds the lock, or takes it if free. */
  async holdsReaperLock(): Promise<boolean> {
    if (!this.options.databaseUrl) return true;
    if (this.lockHeld) return true;
    if (!this.client) return false;
    try {
      const result = await this.client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [
        REAPER_LOCK,
      ]);
      this.lockHeld = result.rows[0]?.locked === true;
      if (this.lockHeld) this.options.logger.info('this replica runs the reaper');
    } catch {
      this.lockHeld = false;
    }
    return this.lockHeld;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl, connectionTimeoutMillis: 5_000 });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => {
      const receiver = this.options.channels?.[message.channel];
      if (receiver) receiver.onNotification(message.channel, message.payload);
      else this.options.onNotify();
    });
    try {
      await client.connect();
      await client.query(`listen ${EVENTS_CHANNEL}`);
      for (const channel of Object.keys(this.options.channels ?? {})) await client.query(`listen ${channel}`);
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, 'event listener cannot connect; retrying');
      await client.end().catch(() => undefined);
      this.lost(client);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.failures = 0;
    this.options.onNotify(); // whatever committed while we were not listening
  }

  private lost(client: pg.Client): void {
    if (this.client !== undefined && this.client !== client) return;
    if (this.client === client) {
      this.client = undefined;
      if (this.lockHeld) this.options.logger.warn('the reaper lock went with the listener connection');
      this.lockHeld = false;
    }
    if (this.stopped || this.timer) return; // a reconnect is already scheduled
    const delay = Math.min(30_000, 500 * 2 ** this.failures++) * (0.5 + Math.random() / 2);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, delay);
    this.timer.unref();
  }
}
