import { createParser } from 'eventsource-parser';
import type { FleetEvent } from './types.js';

/** A non-2xx answer of the control plane: `{error, message}` and the status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const KEY_STORAGE = 'agentspec.adminKey';

/** The admin key lives in this tab's sessionStorage only: never in a URL, a cookie or a log. */
export const savedKey = (): string | null => sessionStorage.getItem(KEY_STORAGE);
export const saveKey = (key: string): void => sessionStorage.setItem(KEY_STORAGE, key);
export const forgetKey = (): void => sessionStorage.removeItem(KEY_STORAGE);

export type StreamState = 'connecting' | 'live' | 'reconnecting';

/** The control plane's API with the admin key, on the origin that served the dashboard. */
export class Api {
  constructor(private readonly key: string) {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers: {
          'x-admin-key': this.key,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'Unreachable', 'The control plane did not answer: check that it is running and reachable.');
    }
    const text = await response.text();
    if (!response.ok) {
      let parsed: { error?: string; message?: string } = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        // not JSON: the status says enough
      }
      throw new ApiError(
        response.status,
        parsed.error ?? `HTTP ${response.status}`,
        parsed.message ?? response.statusText,
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  /**
   * Follows GET /api/v1/events until stopped: each event to `onEvent`; after a break, reconnects with Last-Event-ID
   * (1 s doubling to 15 s) so nothing is missed, or `onReset` when the events in between are no longer kept.
   * Returns the function that stops it.
   */
  followEvents(handlers: {
    onEvent: (event: FleetEvent) => void;
    onReset: () => void;
    onState: (state: StreamState) => void;
    onUnauthorized: () => void;
  }): () => void {
    const controller = new AbortController();
    let lastEventId: string | undefined;
    let failures = 0;
    const run = async (): Promise<void> => {
      while (!controller.signal.aborted) {
        handlers.onState(failures === 0 ? 'connecting' : 'reconnecting');
        try {
          const response = await fetch('/api/v1/events', {
            headers: {
              'x-admin-key': this.key,
              accept: 'text/event-stream',
              ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
            },
            signal: controller.signal,
            cache: 'no-store',
          });
          if (response.status === 401 || response.status === 403) return handlers.onUnauthorized();
          if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
          const parser = createParser({
            onEvent: (message) => {
              if (message.event === 'reset') return handlers.onReset();
              if (!message.id) return;
              lastEventId = message.id;
              try {
                handlers.onEvent(JSON.parse(message.data) as FleetEvent);
              } catch {
                // not an event of ours
              }
            },
          });
          handlers.onState('live');
          failures = 0;
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            parser.feed(value);
          }
        } catch {
          if (controller.signal.aborted) return;
        }
        failures++;
        handlers.onState('reconnecting');
        const delay = Math.min(15_000, 1_000 * 2 ** Math.min(failures - 1, 4)) * (0.5 + Math.random() / 2);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          controller.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    };
    void run();
    return () => controller.abort();
  }
}

/** Whether the control plane accepts this key for its read API. */
export async function checkKey(key: string): Promise<void> {
  await new Api(key).get('/api/v1/namespaces/-/agents?limit=1');
}
