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
    if (!this.options.adminKey) throw new Error('registration needs the admin key (AGENTSPEC_ADMIN_KEY)');
    const adminKey = this.options.adminKey;
    const response = await this.send('/api/v1/register', { 'x-admin-key': adminKey }, request);
    return (await this.expectOk(response, [adminKey])) as RegisterResponse;
  }

  /** POST /api/v1/heartbeat with the instance's token; 204 on success. */
  async heartbeat(token: string, body: HeartbeatBody): Promise<void> {
    const response = await this.send('/api/v1/heartbeat', { authorization: `Bearer ${token}` }, body);
    await this.expectOk(response, [token]);
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
