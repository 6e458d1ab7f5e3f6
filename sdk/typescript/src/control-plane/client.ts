import { createParser } from 'eventsource-parser';
import type { AuditResult } from '../audit/types.js';
import type { HealthReport } from '../health/types.js';
import { redact } from '../push/redact.js';
import { parseRetryAfter, sendWithRetry, type BackoffOptions } from '../push/retry.js';

export const RUNTIMES = ['k8s', 'bedrock', 'vertex', 'docker', 'local'] as const;
export type Runtime = (typeof RUNTIMES)[number];

export interface RegisterRequest {
  agentName: string;
  namespace?: string;
  instanceId?: string;
  runtime: Runtime;
  manifest?: unknown;
  /** The interval this instance heartbeats at (liveness is judged against it); default the control plane's. */
  intervalSeconds?: number;
  /** Seed 003: connected (default) or hosted; a publicUrl alone means hosted. */
  deploymentMode?: 'connected' | 'hosted';
  /** Hosted mode: the instance's public https:// URL, serving /.well-known/agent-card.json and /agentspec/health. */
  publicUrl?: string;
}

export interface RegisterResponse {
  agentId: string;
  instanceId: string;
  /** HS256 JWT for this instance's heartbeats. */
  apiKey: string;
  expiresAt: string;
  heartbeatIntervalSeconds: number;
  deploymentMode?: 'connected' | 'hosted';
  /** Connected instances: where to keep the WebSocket. */
  connectUrl?: string;
  /** Hosted instances: the URL the control plane calls. */
  publicUrl?: string;
}

export interface HeartbeatBody {
  health: HealthReport | Record<string, unknown>;
  gap: AuditResult | Record<string, unknown>;
  proof?: unknown;
  truncated?: boolean;
  /** The interval the sender heartbeats at, when it differs from the registered one. */
  intervalSeconds?: number;
}

/** A failing check or a violation, as the agent summary names them. */
export interface AgentProblem {
  id: string;
  status?: string;
  severity?: string;
  message: string;
  remediation?: string;
}

/** One agent of the read API's list: agent-level figures over its instances. */
export interface AgentSummary {
  agentId: string;
  namespace: string;
  name: string;
  runtime: string;
  /** The worst phase of its live instances; Offline when none is live. */
  phase: 'Healthy' | 'Degraded' | 'Unhealthy' | 'Unknown' | 'Offline';
  score: number | null;
  grade: 'A' | 'B' | 'C' | 'D' | 'F' | null;
  lastSeen: string | null;
  /** Live instances (not offline). */
  instances: number;
  /** Registered instances, offline ones included. */
  instancesTotal: number;
  source: 'agent-sdk' | 'manifest-static' | null;
  /** How its most recently seen instance reaches the control plane (`ws` or `callback`); null without instances. */
  transport?: 'ws' | 'callback' | null;
  /** Its most recently seen instance's connection status; null without instances. */
  connectionStatus?: 'online' | 'healthy' | 'degraded' | 'offline' | 'unknown' | null;
  /** The worst live instance's failing checks, fail before warn, at most 5. */
  failingChecks: AgentProblem[];
  /** The lowest-scoring live instance's violations, most severe first, at most 5. */
  violations: AgentProblem[];
}

/** One event of GET /api/v1/events. */
export interface FleetEvent {
  id: number;
  type: string;
  at: string;
  namespace: string;
  name: string;
  instanceId?: string;
  [field: string]: unknown;
}

/** A non-2xx answer of the control plane: `{error, message, field?}` plus the status. */
export class ControlPlaneError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly field?: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ControlPlaneError';
  }
}

export interface ControlPlaneClientOptions {
  /** e.g. http://agentspec-control-plane.agentspec-system:8080 */
  baseUrl: string;
  /** X-Admin-Key for registration and the read API. */
  adminKey?: string;
  fetch?: typeof fetch;
  backoff?: BackoffOptions;
  timeoutMs?: number;
}

/** POST /api/v1/namespaces/{ns}/agents/{name}/probe. */
export interface ProbeResponse {
  namespace: string;
  name: string;
  instances: (
    | { instanceId: string; status: 'ok'; report: unknown; latencyMs: number }
    | { instanceId: string; status: 'offline' | 'timeout' | 'unreachable'; error: string }
  )[];
}

/** Typed client of the control plane API, shared by the SDK, the sidecar, the CLI and the operator. */
export class ControlPlaneClient {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ControlPlaneClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** POST /api/v1/register with the admin key; 5xx, 429 and network errors are retried with backoff. */
  async register(request: RegisterRequest): Promise<RegisterResponse> {
    const adminKey = this.requireAdminKey('registration');
    const response = await this.send('/api/v1/register', { 'x-admin-key': adminKey }, request);
    return (await this.expectOk(response, [adminKey])) as RegisterResponse;
  }

  /** POST /api/v1/heartbeat with the instance's token; 204 on success. */
  async heartbeat(token: string, body: HeartbeatBody): Promise<void> {
    const response = await this.send('/api/v1/heartbeat', { authorization: `Bearer ${token}` }, body);
    await this.expectOk(response, [token]);
  }

  /** POST /api/v1/token/refresh: a fresh token for the instance of `token`, which is revoked. */
  async refreshToken(token: string): Promise<RegisterResponse> {
    const response = await this.send('/api/v1/token/refresh', { authorization: `Bearer ${token}` }, {});
    return (await this.expectOk(response, [token])) as RegisterResponse;
  }

  /** Every agent (of one namespace when given, and of one name), following the read API's cursor pages. */
  async listAgents(filter: { namespace?: string; name?: string } = {}): Promise<AgentSummary[]> {
    const adminKey = this.requireAdminKey('the read API');
    const items: AgentSummary[] = [];
    const namespace = encodeURIComponent(filter.namespace ?? '-');
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams({ limit: '500' });
      if (filter.name !== undefined) query.set('name', filter.name);
      if (cursor) query.set('cursor', cursor);
      const response = await this.fetchImpl(`${this.base}/api/v1/namespaces/${namespace}/agents?${query}`, {
        headers: { 'x-admin-key': adminKey },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      const page = (await this.expectOk(response, [adminKey])) as { items: AgentSummary[]; nextCursor: string | null };
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }

  /**
   * "Probe now": each instance's live report through its connected-mode WebSocket (from any replica), or why it
   * cannot answer (offline, timeout, unreachable).
   */
  async probe(namespace: string, name: string, timeoutSeconds = 5): Promise<ProbeResponse> {
    const adminKey = this.requireAdminKey('probe');
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/agents/${encodeURIComponent(name)}/probe`;
    const response = await this.fetchImpl(`${this.base}${path}?timeoutSeconds=${timeoutSeconds}`, {
      method: 'POST',
      headers: { 'x-admin-key': adminKey },
      signal: AbortSignal.timeout(timeoutSeconds * 1000 + 10_000),
    });
    return (await this.expectOk(response, [adminKey])) as ProbeResponse;
  }

  /** One agent's summary, or undefined when it is not registered. */
  async getAgentSummary(namespace: string, name: string): Promise<AgentSummary | undefined> {
    return (await this.listAgents({ namespace, name }))[0];
  }

  /**
   * Opens GET /api/v1/events (after `lastEventId` when given) and calls `onEvent` for each event until the stream ends
   * or `signal` aborts; resolves when it ended. A `reset` (the events after lastEventId are no longer kept) calls
   * `onReset`. Reconnecting is the caller's choice (see EventStream).
   */
  async streamEvents(options: {
    lastEventId?: number;
    namespace?: string;
    signal?: AbortSignal;
    onOpen?: () => void;
    onEvent: (event: FleetEvent) => void;
    onReset?: () => void;
  }): Promise<void> {
    const adminKey = this.requireAdminKey('the event stream');
    const query = options.namespace !== undefined ? `?${new URLSearchParams({ namespace: options.namespace })}` : '';
    const response = await this.fetchImpl(`${this.base}/api/v1/events${query}`, {
      headers: {
        'x-admin-key': adminKey,
        accept: 'text/event-stream',
        ...(options.lastEventId !== undefined ? { 'last-event-id': String(options.lastEventId) } : {}),
      },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!response.ok || !response.body) await this.expectOk(response, [adminKey]);
    options.onOpen?.();
    const parser = createParser({
      onEvent: (message) => {
        if (message.event === 'reset') return options.onReset?.();
        if (!message.id) return;
        try {
          options.onEvent(JSON.parse(message.data) as FleetEvent);
        } catch {
          // not an event of ours: ignored
        }
      },
    });
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(chunk, { stream: true }));
    }
  }

  /** DELETE the agent (revokes every instance's token). Resolves false when it was not registered. */
  async deleteAgent(namespace: string, name: string): Promise<boolean> {
    const adminKey = this.requireAdminKey('deregistration');
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/agents/${encodeURIComponent(name)}`;
    const response = await this.fetchImpl(`${this.base}${path}`, {
      method: 'DELETE',
      headers: { 'x-admin-key': adminKey },
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    });
    if (response.status === 404) {
      await response.body?.cancel();
      return false;
    }
    await this.expectOk(response, [adminKey]);
    return true;
  }

  private requireAdminKey(what: string): string {
    if (!this.options.adminKey) throw new Error(`${what} needs the admin key (AGENTSPEC_ADMIN_KEY)`);
    return this.options.adminKey;
  }

  private send(path: string, headers: Record<string, string>, body: unknown): Promise<Response> {
    const url = `${this.base}${path}`;
    const payload = JSON.stringify(body);
    return sendWithRetry(
      () =>
        this.fetchImpl(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: payload,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        }),
      this.options.backoff,
    );
  }

  private async expectOk(response: Response, secrets: string[]): Promise<unknown> {
    const text = await response.text();
    if (response.ok) return text ? (JSON.parse(text) as unknown) : undefined;
    let parsed: { error?: string; message?: string; field?: string } = {};
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      // not JSON: keep the status alone
    }
    throw new ControlPlaneError(
      response.status,
      parsed.error ?? `HTTP${response.status}`,
      redact(`control plane answered ${response.status}${parsed.message ? `: ${parsed.message}` : ''}`, secrets),
      parsed.field,
      parseRetryAfter(response.headers.get('retry-after')),
    );
  }
}
