import { runAudit } from '../audit/run-audit.js';
import type { HealthReport } from '../health/types.js';
import type { AgentManifest } from '../manifest/load.js';
import { logError } from '../log-error.js';
import { buildPushPayload } from './payload.js';
import { redact } from './redact.js';
import { ControlPlaneClient } from '../control-plane/client.js';
import { controlPlaneUrlFor, refreshTime } from '../control-plane/token-lifetime.js';
import { sendWithRetry, type BackoffOptions } from './retry.js';
import {
  ConnectedChannel,
  connectUrlFor,
  reconnectSpreadFor,
  transportFrom,
  type AgentDisconnectedError,
  type Transport,
} from '../control-plane/connected.js';

/** What push mode reads reports from: an AgentSpecReporter, or anything with its two methods. */
export interface PushReporter {
  getReport(): Promise<HealthReport>;
  refresh(): Promise<HealthReport>;
}

export interface PushModeOptions {
  /** Loaded via loadManifest(). */
  manifest: AgentManifest;
  /** POST endpoint on your control plane. */
  url: string;
  /** Bearer token sent in the Authorization header. */
  apiKey: string;
  /** Default 30 000 (30 seconds). */
  intervalMs?: number;
  /** Reuse a running reporter (with its registered tools) instead of a new one. */
  reporter?: PushReporter;
  /** Directory of the manifest for `$file:` references, when no reporter is given. */
  baseDir?: string;
  backoff?: BackoffOptions;
  fetch?: typeof fetch;
  /**
   * Called with each refreshed key. Push mode swaps the key for a fresh one at two thirds of its lifetime (when `url`
   * is a control plane's /api/v1/heartbeat) and the old key stops working: persist the new one here if the process
   * may restart with the key it was started with.
   */
  onKeyRefreshed?: (apiKey: string, expiresAt: string) => void;
  /**
   * How heartbeats travel when `url` is a control plane's /api/v1/heartbeat (default AGENTSPEC_TRANSPORT, else
   * `auto`): `ws` keeps the connected-mode WebSocket open and queues heartbeats while it is down; `auto` uses it while
   * it is connected and HTTP otherwise (and for good when the upgrade is refused); `http` never opens it.
   */
  transport?: Transport;
  /** With `ws`: a disconnect longer than disconnectBoundMs (default 60 s) is reported here (else logged). */
  onDisconnected?: (error: AgentDisconnectedError) => void;
  disconnectBoundMs?: number;
  /** Push failures go here (already redacted) instead of console.error (upstream's option). */
  onError?: (error: Error) => void;
}

interface PushState {
  timer: NodeJS.Timeout;
  running: boolean;
  /** The key in use: the given one until it is refreshed. */
  apiKey: string;
  transport: Transport;
  channel: ConnectedChannel | undefined;
}

let state: PushState | undefined;

const DEFAULT_INTERVAL_MS = 30_000;
/** The control plane's default AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS. */
const DEFAULT_MIN_INTERVAL_MS = 10_000;

/** Swaps the key for a fresh one once two thirds of its lifetime have passed; keeps the old one when that fails. */
/** A push failure: to onError when given, else console.error. */
function fail(options: PushModeOptions, message: string): void {
  if (options.onError) options.onError(new Error(message));
  else logError(message);
}

async function refreshIfDue(options: PushModeOptions, state: PushState): Promise<void> {
  const due = refreshTime(state.apiKey);
  const baseUrl = controlPlaneUrlFor(options.url);
  if (due === undefined || baseUrl === undefined || Date.now() < due) return;
  const client = new ControlPlaneClient({
    baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.backoff ? { backoff: options.backoff } : {}),
  });
  try {
    const fresh = await client.refreshToken(state.apiKey);
    state.apiKey = fresh.apiKey;
    state.channel?.reconnect(); // the socket was authenticated with the revoked key
    options.onKeyRefreshed?.(fresh.apiKey, fresh.expiresAt);
  } catch (err) {
    // The client's errors are already redacted of the token.
    fail(options, `[agentspec] key refresh at ${baseUrl} failed: ${(err as Error).message}`);
  }
}

async function pushOnce(options: PushModeOptions, reporter: PushReporter, state: PushState): Promise<void> {
  await refreshIfDue(options, state);
  const secrets = [options.apiKey, state.apiKey];
  try {
    const health = await reporter.getReport();
    const payload = {
      ...buildPushPayload(health, runAudit(options.manifest)),
      // Liveness is judged against the interval the agent really uses, whatever registration assumed.
      intervalSeconds: Math.max(1, Math.round((options.intervalMs ?? DEFAULT_INTERVAL_MS) / 1000)),
    };
    const channel = state.channel;
    if (channel && (state.transport === 'ws' || (channel.connected && !channel.refused))) {
      const sent = await channel.send(payload);
      if (sent.result === 'refused') {
        const hint = sent.status === 401 ? ' — the key is expired or was revoked; run agentspec register again' : '';
        fail(
          options,
          redact(`[agentspec] push over the WebSocket rejected: ${sent.status} ${sent.message}${hint}`, secrets),
        );
      }
      return;
    }
    const fetchImpl = options.fetch ?? fetch;
    const body = JSON.stringify(payload);
    const response = await sendWithRetry(
      () =>
        fetchImpl(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${state.apiKey}` },
          body,
          signal: AbortSignal.timeout(10_000),
        }),
      options.backoff,
    );
    await response.body?.cancel().catch(() => undefined);
    if (response.status === 401) {
      fail(
        options,
        redact(
          `[agentspec] push to ${options.url} rejected: HTTP 401 — the key is expired or was revoked; ` +
            'run agentspec register again (or use auto-registration, which re-registers by itself)',
          secrets,
        ),
      );
    } else if (!response.ok) {
      fail(options, redact(`[agentspec] push to ${options.url} rejected: HTTP ${response.status}`, secrets));
    }
  } catch (err) {
    fail(options, redact(`[agentspec] push to ${options.url} failed: ${(err as Error).message}`, secrets));
  }
}

/**
 * The push loop of `startPushMode` (push-mode.ts), with its reporter given: pushes {health, gap} to `url` now and every
 * `intervalMs`. Calling it again while active does nothing.
 */
export function startPushLoop(options: PushModeOptions & { reporter: PushReporter }): void {
  if (state) return;
  const { reporter } = options;
  const transport = options.transport ?? transportFrom(process.env['AGENTSPEC_TRANSPORT']);
  const baseUrl = controlPlaneUrlFor(options.url);
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  if (baseUrl !== undefined && intervalMs < DEFAULT_MIN_INTERVAL_MS) {
    logError(
      `[agentspec] push interval ${intervalMs / 1000} s is shorter than the control plane's default minimum of ` +
        `${DEFAULT_MIN_INTERVAL_MS / 1000} s (AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS there): faster heartbeats are ` +
        'answered 429 unless it was lowered',
    );
  }
  const current: PushState = {
    running: false,
    apiKey: options.apiKey,
    timer: setInterval(() => tick(), options.intervalMs ?? DEFAULT_INTERVAL_MS),
    transport,
    channel: undefined,
  };
  if (transport !== 'http' && baseUrl !== undefined) {
    current.channel = new ConnectedChannel({
      url: connectUrlFor(baseUrl),
      token: () => current.apiKey,
      reconnectSpreadMs: reconnectSpreadFor(options.intervalMs ?? DEFAULT_INTERVAL_MS),
      replayGapMs: options.intervalMs ?? DEFAULT_INTERVAL_MS,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      ...(options.onDisconnected ? { onDisconnected: options.onDisconnected } : {}),
      ...(options.disconnectBoundMs !== undefined ? { disconnectBoundMs: options.disconnectBoundMs } : {}),
      log: (message) => fail(options, redact(message, [options.apiKey, current.apiKey])),
      // "Probe now": a fresh health report (checks run again) and the audit, as a heartbeat carries them.
      onProbe: async () => buildPushPayload(await reporter.refresh(), runAudit(options.manifest)),
    });
  }
  current.timer.unref();
  const tick = (): void => {
    if (current.running) return; // a slow push never overlaps the next one
    current.running = true;
    void pushOnce(options, reporter, current).finally(() => {
      current.running = false;
    });
  };
  state = current;
  tick();
}

/** Clears the interval. */
export function stopPushMode(): void {
  if (state) clearInterval(state.timer);
  state?.channel?.close();
  state = undefined;
}

export function isPushModeActive(): boolean {
  return state !== undefined;
}
