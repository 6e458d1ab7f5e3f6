import { logError } from '../log-error.js';
import { currentRequestId } from './middleware.js';

/** One behavioural event of EventPush (seed 001), e.g. `{type: 'tool', name, success, latencyMs}`. */
export type BehaviourEvent = Record<string, unknown> & { type: string };

/**
 * EventPush: behavioural events of a proxied request to the sidecar's `POST /agentspec/events` (its diagnostics port,
 * default http://localhost:4001), joined there to the request's audit entry and evaluated with OPA. Fire and forget:
 * a failure resolves undefined (logged with `debug`), never throws into the agent's request handling.
 */
export class SidecarClient {
  private readonly url: string;

  constructor(
    url = 'http://localhost:4001',
    private readonly options: { timeoutMs?: number; debug?: boolean } = {},
  ) {
    this.url = url.replace(/\/+$/, '');
  }

  /** Sends `events` for `requestId` (default: the current request's, under agentSpecMiddleware). */
  async pushEvents(
    agentName: string,
    events: BehaviourEvent[],
    requestId: string | undefined = currentRequestId(),
  ): Promise<{ status: number; body: unknown } | undefined> {
    try {
      const response = await fetch(`${this.url}/agentspec/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ requestId, agentName, events }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 3_000),
      });
      return { status: response.status, body: (await response.json()) as unknown };
    } catch (err) {
      if (this.options.debug) logError(`[agentspec] event push to ${this.url} failed: ${(err as Error).message}`);
      return undefined;
    }
  }
}
