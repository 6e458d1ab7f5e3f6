import WebSocket from 'ws';
import { backoffDelay, type BackoffOptions } from '../push/retry.js';

/** How heartbeats travel (AGENTSPEC_TRANSPORT): the connected-mode WebSocket, HTTP POSTs, or the first that works. */
export type Transport = 'ws' | 'http' | 'auto';

export function transportFrom(value: string | undefined): Transport {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if (v === 'ws' || v === 'http') return v;
  throw new Error(`AGENTSPEC_TRANSPORT must be ws, http or auto, got "${value}"`);
}

/** The connected-mode URL of a control plane (its base URL with the WebSocket scheme). */
export function connectUrlFor(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '').replace(/^http/, 'ws')}/api/v1/connect`;
}

/** The reconnect window for an agent heartbeating every intervalMs: two intervals, at most 60 s. */
export function reconnectSpreadFor(intervalMs: number): number {
  return Math.min(2 * intervalMs, 60_000);
}

/** The WebSocket has been down for longer than the bound the caller set. */
export class AgentDisconnectedError extends Error {
  constructor(
    readonly url: string,
    readonly sinceMs: number,
    readonly lastError: string | undefined,
  ) {
    super(
      `disconnected from ${url} for ${Math.round(sinceMs / 1000)} s${lastError ? ` (last error: ${lastError})` : ''}`,
    );
    this.name = 'AgentDisconnectedError';
  }
}

/** What became of one heartbeat sent over the socket. */
export type ConnectedResult =
  | { result: 'acked' }
  /** Not connected: kept in the outbox and sent once the socket is back. */
  | { result: 'queued' }
  /** Not sent: the outbox was replayed less than `replayGapMs` ago, with state as fresh as this (the next one goes). */
  | { result: 'coalesced' }
  | { result: 'refused'; status: number; error: string; message: string; retryAfterSeconds?: number };

export interface ConnectedChannelOptions {
  /** ws:// or wss:// URL of GET /api/v1/connect. */
  url: string;
  /** The instance token to authenticate with (read at every connection: refreshed tokens are picked up). */
  token: () => string;
  backoff?: BackoffOptions;
  /** A disconnect longer than this is reported: to onDisconnected, else as a log line. Default 60 s. */
  disconnectBoundMs?: number;
  onDisconnected?: (error: AgentDisconnectedError) => void;
  /** Heartbeats kept while disconnected, replayed in order on reconnect; the oldest go first. Default 1. */
  outboxSize?: number;
  /** How long a sent heartbeat waits for its ack. Default 10 s. */
  ackTimeoutMs?: number;
  /** Answers the control plane's `probe` (POST .../probe, "probe now") with a live report. */
  onProbe?: () => Promise<unknown>;
  /** After an upgrade answered with plain HTTP, the next try comes this much later. Default 5 min. */
  refusedRetryMs?: number;
  /**
   * After an open socket is lost (a control-plane restart or rollout, a dropped connection), the first reconnect comes
   * at a random moment within this window, so a fleet does not come back all at once; later tries back off as usual.
   * Default 10 s (push mode and auto-registration: two heartbeat intervals, at most 60 s).
   */
  reconnectSpreadMs?: number;
  /**
   * After the outbox was replayed on reconnect, the next heartbeat within this time is not sent (`coalesced`): the
   * replay already carried the newest state, and a fleet coming back must not send two heartbeats each. Default 0
   * (push mode and auto-registration: one heartbeat interval).
   */
  replayGapMs?: number;
  log?: (message: string) => void;
}

type Pending = { resolve: (r: ConnectedResult) => void; timer: NodeJS.Timeout };

/**
 * The agent's side of connected mode: one WebSocket kept open with jittered, bounded reconnects (a lost socket comes
 * back at a random moment within `reconnectSpreadMs`, failed tries back off exponentially); heartbeats sent as
 * frames and settled by their ack or error; an outbox of the newest heartbeats taken while disconnected, replayed on
 * reconnect; probes answered with `onProbe`'s live report. An upgrade answered with plain HTTP (a proxy that strips
 * upgrades, an older control plane) sets `refused` — the caller falls back to HTTP — until a later try (every
 * `refusedRetryMs`) succeeds.
 */
export class ConnectedChannel {
  private ws: WebSocket | undefined;
  private failures = 0;
  private stopped = false;
  private nextId = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly outbox: unknown[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private downSince: number | undefined = Date.now();
  /** The current socket reached `open` (its loss is spread over reconnectSpreadMs). */
  private wasOpen = false;
  /** When the outbox was last replayed (the next send within replayGapMs is coalesced). */
  private replayedAt: number | undefined;
  private reported = false;
  private lastError: string | undefined;
  /** The upgrade was answered with HTTP status N instead of 101. */
  refusedStatus: number | undefined;
  /** Sockets opened so far (1 after the first connection; each reconnect adds one). */
  opened = 0;

  constructor(private readonly options: ConnectedChannelOptions) {
    this.open();
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  get refused(): boolean {
    return this.refusedStatus !== undefined;
  }

  /** Sends one heartbeat body; queued while disconnected. */
  send(body: unknown): Promise<ConnectedResult> {
    if (this.connected && this.replayedAt !== undefined) {
      const since = Date.now() - this.replayedAt;
      this.replayedAt = undefined;
      if (since < (this.options.replayGapMs ?? 0)) return Promise.resolve({ result: 'coalesced' });
    }
    if (!this.connected) {
      this.checkBound();
      this.outbox.push(body);
      while (this.outbox.length > (this.options.outboxSize ?? 1)) this.outbox.shift();
      return Promise.resolve({ result: 'queued' });
    }
    return this.transmit(body);
  }

  /** Reconnects now (after the token was refreshed: the socket was opened with the old one). */
  reconnect(): void {
    this.ws?.close(1000, 'reconnecting');
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.ws?.close(1000, 'stopped');
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ result: 'queued' });
    }
    this.pending.clear();
  }

  private transmit(body: unknown): Promise<ConnectedResult> {
    const id = `h${++this.nextId}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.outbox.push(body); // no ack in time: the socket is likely dead; sent again after reconnect
        this.ws?.terminate();
        resolve({ result: 'queued' });
      }, this.options.ackTimeoutMs ?? 10_000);
      timer.unref();
      this.pending.set(id, { resolve, timer });
      this.ws?.send(JSON.stringify({ type: 'heartbeat', id, body }));
    });
  }

  private open(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.options.url, {
      headers: { authorization: `Bearer ${this.options.token()}` },
      maxPayload: 1024 * 1024,
    });
    this.ws = ws;
    ws.on('unexpected-response', (_req, res) => {
      // Answered with HTTP: 401 is a token problem (the caller registers again); anything else means no WebSocket here.
      if (res.statusCode !== 401) this.refusedStatus = res.statusCode;
      this.lastError = `upgrade answered HTTP ${res.statusCode}`;
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      this.opened++;
      this.wasOpen = true;
      this.refusedStatus = undefined;
      this.failures = 0;
      this.downSince = undefined;
      this.reported = false;
      const replay = this.outbox.splice(0);
      if (replay.length > 0) this.replayedAt = Date.now();
      void (async () => {
        for (const body of replay) {
          const sent = await this.transmit(body);
          if (sent.result === 'refused' && sent.status === 429) break; // the newest is sent at the next interval
        }
      })();
    });
    ws.on('message', (data) => this.onFrame(data.toString()));
    ws.on('error', (err) => (this.lastError = err.message));
    ws.on('close', (code, reason) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      if (code !== 1000) this.lastError = `closed ${code}${reason.length ? ` ${reason.toString()}` : ''}`;
      this.downSince ??= Date.now();
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.resolve({ result: 'queued' });
        this.pending.delete(id);
      }
      if (this.stopped) return;
      // Refused (a proxy that strips upgrades, a replica being replaced): HTTP meanwhile, and a try now and then.
      const lost = this.wasOpen;
      this.wasOpen = false;
      const random = this.options.backoff?.random ?? Math.random;
      const delay = this.refused
        ? (this.options.refusedRetryMs ?? 300_000)
        : code === 1000
          ? 0
          : lost
            ? Math.round(random() * (this.options.reconnectSpreadMs ?? 10_000))
            : backoffDelay(this.failures++, { baseMs: 500, maxMs: 30_000, ...this.options.backoff });
      this.retryTimer = setTimeout(() => this.open(), delay);
      this.retryTimer.unref();
    });
  }

  private onFrame(text: string): void {
    let frame: {
      type?: string;
      id?: string;
      status?: number;
      error?: string;
      message?: string;
      retryAfterSeconds?: number;
    };
    try {
      frame = JSON.parse(text) as typeof frame;
    } catch {
      return;
    }
    if (frame.type === 'probe' && frame.id) {
      const id = frame.id;
      const onProbe = this.options.onProbe;
      void (async () => {
        let report: unknown;
        try {
          report = onProbe ? await onProbe() : { error: 'this agent does not answer probes' };
        } catch (err) {
          report = { error: (err as Error).message };
        }
        if (this.connected) this.ws?.send(JSON.stringify({ type: 'probe_result', id, report }));
      })();
      return;
    }
    const pending = frame.id ? this.pending.get(frame.id) : undefined;
    if (!pending || !frame.id) return;
    this.pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (frame.type === 'ack') pending.resolve({ result: 'acked' });
    else {
      pending.resolve({
        result: 'refused',
        status: frame.status ?? 0,
        error: frame.error ?? 'Error',
        message: frame.message ?? '',
        ...(frame.retryAfterSeconds !== undefined ? { retryAfterSeconds: frame.retryAfterSeconds } : {}),
      });
    }
  }

  private checkBound(): void {
    if (this.downSince === undefined || this.reported) return;
    const since = Date.now() - this.downSince;
    if (since < (this.options.disconnectBoundMs ?? 60_000)) return;
    this.reported = true;
    const error = new AgentDisconnectedError(this.options.url, since, this.lastError);
    if (this.options.onDisconnected) this.options.onDisconnected(error);
    else this.options.log?.(`[agentspec] ${error.message}`);
  }
}
