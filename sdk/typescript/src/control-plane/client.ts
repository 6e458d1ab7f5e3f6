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
}

export interface RegisterResponse {
  agentId: string;
  instanceId: string;
  /** HS256 JWT for this instance's heartbeats. */
  apiKey: string;
  expiresAt: string;
  heartbeatIntervalSeconds: number;
}

export interface HeartbeatBody {
  health: HealthReport | Record<string, unknown>;
  gap: AuditResult | Record<string, unknown>;
  proof?: unknown;
  truncated?: boolean;
}

/** One agent of the read API's list: agent-level figures over its instances. */
export interface AgentSummary {
  agentId: string;
  namespace: string;
  name: string;
  runtime: string;
  phase: 'Healthy' | 'Degraded' | 'Unhealthy' | 'Unknown';
  score: number | null;
  grade: 'A' | 'B' | 'C' | 'D' | 'F' | null;
  lastSeen: string | null;
  instances: number;
  source: 'agent-sdk' | 'manifest-static' | null;
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

  /** Every agent (of one namespace when given), following the read API's cursor pages. */
  async listAgents(filter: { namespace?: string } = {}): Promise<AgentSummary[]> {
    const adminKey = this.requireAdminKey('the read API');
    const items: AgentSummary[] = [];
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams({ limit: '500' });
      if (filter.namespace !== undefined) query.set('namespace', filter.namespace);
      if (cursor) query.set('cursor', cursor);
      const response = await this.fetchImpl(`${this.base}/api/v1/agents?${query}`, {
        headers: { 'x-admin-key': adminKey },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      const page = (await this.expectOk(response, [adminKey])) as { items: AgentSummary[]; nextCursor: string | null };
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
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
