import { backoffDelay, type BackoffOptions } from '../push/retry.js';
import type { ControlPlaneClient, FleetEvent } from './client.js';

export interface EventStreamOptions {
  client: ControlPlaneClient;
  /** Only this namespace's events. */
  namespace?: string;
  onEvent: (event: FleetEvent) => void;
  /** Connected (or reconnected): events from here on arrive in order, none missed since the last one seen. */
  onConnect?: () => void;
  /** The stream broke; it reconnects by itself after a jittered backoff. */
  onDisconnect?: (error: Error | undefined) => void;
  /** Events were missed (the control plane no longer keeps them): the consumer should resynchronise. */
  onReset?: () => void;
  /** Default 500 ms doubling to 30 s, with full jitter. */
  backoff?: BackoffOptions;
}

/**
 * A reconnecting reader of GET /api/v1/events: it resumes with Last-Event-ID from the last event seen, so a broken
 * connection loses nothing the control plane still keeps; when it no longer does, onReset says so.
 */
export class EventStream {
  private controller: AbortController | undefined;
  private stopped = true;
  private failures = 0;
  private last: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: EventStreamOptions) {}

  /** The id of the last event delivered. */
  get lastEventId(): number | undefined {
    return this.last;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.controller?.abort();
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    this.controller = new AbortController();
    let error: Error | undefined;
    try {
      await this.options.client.streamEvents({
        ...(this.last !== undefined ? { lastEventId: this.last } : {}),
        ...(this.options.namespace !== undefined ? { namespace: this.options.namespace } : {}),
        signal: this.controller.signal,
        onOpen: () => {
          this.failures = 0;
          this.options.onConnect?.();
        },
        onEvent: (event) => {
          this.last = event.id;
          this.options.onEvent(event);
        },
        onReset: () => this.options.onReset?.(),
      });
    } catch (err) {
      error = err as Error;
    }
    if (this.stopped) return;
    this.options.onDisconnect?.(error);
    const delay = backoffDelay(this.failures++, { baseMs: 500, maxMs: 30_000, ...this.options.backoff });
    this.timer = setTimeout(() => void this.run(), delay);
    this.timer.unref();
  }
}
