import { ENV } from '../k8s/contract.js';
import { hostname } from 'node:os';
import { runAudit } from '../audit/run-audit.js';
import type { HealthReport } from '../health/types.js';
import type { AgentManifest } from '../manifest/load.js';
import { logError } from '../log-error.js';
import { buildPushPayload } from '../push/payload.js';
import { redact } from '../push/redact.js';
import { backoffDelay, type BackoffOptions } from '../push/retry.js';
import {
  ControlPlaneClient,
  ControlPlaneError,
  type HeartbeatBody,
  type RegisterResponse,
  type Runtime,
} from './client.js';
import { refreshTime } from './token-lifetime.js';
import {
  ConnectedChannel,
  connectUrlFor,
  reconnectSpreadFor,
  transportFrom,
  type ConnectedResult,
  type Transport,
} from './connected.js';

export interface AutoRegistrationConfig {
  controlPlaneUrl: string;
  adminKey: string | undefined;
  agentName: string;
  namespace: string | undefined;
  instanceId: string;
  runtime: Runtime;
  /** AGENTSPEC_TRANSPORT: heartbeats over connected mode's WebSocket (ws), HTTP (http), or the socket while up (auto). */
  transport?: Transport;
  /** AGENTSPEC_PUBLIC_URL: register in hosted mode at this https:// URL (heartbeats over HTTP, no socket). */
  publicUrl?: string;
}

/**
 * What the webhook injects: AGENTSPEC_CONTROL_PLANE_URL, AGENTSPEC_ADMIN_KEY, AGENTSPEC_AGENT_NAME,
 * AGENTSPEC_NAMESPACE, AGENTSPEC_INSTANCE_ID (and, set by the user, AGENTSPEC_PUBLIC_URL for hosted mode). Undefined
 * when there is no control plane, or when the agentspec-sidecar of the pod registers instead
 * (AGENTSPEC_REGISTRAR=sidecar).
 */
export function autoRegistrationConfig(
  env: NodeJS.ProcessEnv,
  manifestName: string,
): AutoRegistrationConfig | undefined {
  const controlPlaneUrl = env[ENV.controlPlaneUrl];
  if (!controlPlaneUrl || env[ENV.registrar] === 'sidecar') return undefined;
  return {
    controlPlaneUrl,
    adminKey: env[ENV.adminKey] || undefined,
    agentName: env[ENV.agentName] || manifestName,
    namespace: env[ENV.namespace] || undefined,
    instanceId: env[ENV.instanceId] || hostname(),
    runtime: env['KUBERNETES_SERVICE_HOST'] ? 'k8s' : 'local',
    transport: transportFrom(env['AGENTSPEC_TRANSPORT']),
    ...(env[ENV.publicUrl] ? { publicUrl: env[ENV.publicUrl] } : {}),
  };
}

export interface AutoRegistrationOptions {
  config: AutoRegistrationConfig;
  /** The agent's manifest: sent at registration, audited for each heartbeat's gap. */
  manifest: AgentManifest;
  /** The agent's live health report (an AgentSpecReporter's getReport): with the manifest's audit, each heartbeat. */
  report?: () => Promise<HealthReport>;
  /** Or: a builder of each heartbeat's whole {health, gap} (the sidecar sends its own reports). */
  heartbeat?: () => Promise<HeartbeatBody>;
  fetch?: typeof fetch;
  /** Backoff between registration attempts (and after a 401). Default: 1 s doubling to 5 min. */
  backoff?: BackoffOptions;
  log?: (message: string) => void;
}

export interface AutoRegistrationStatus {
  registered: boolean;
  instanceId?: string;
  registrations: number;
  heartbeats: number;
  /** Tokens swapped for fresh ones at two thirds of their lifetime. */
  refreshes: number;
  /** How the last heartbeat went: over connected mode's WebSocket or HTTP. */
  transport?: 'ws' | 'http';
  lastError?: string;
}

/** Registers this instance, then heartbeats {health, gap} at the interval the control plane asks for. */
export class AutoRegistration {
  readonly status: AutoRegistrationStatus = { registered: false, registrations: 0, heartbeats: 0, refreshes: 0 };
  private readonly client: ControlPlaneClient;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private registration: RegisterResponse | undefined;
  private failures = 0;
  private channel: ConnectedChannel | undefined;

  constructor(private readonly options: AutoRegistrationOptions) {
    if (!options.report && !options.heartbeat) {
      throw new Error('AutoRegistration needs a report function or a heartbeat builder');
    }
    this.client = new ControlPlaneClient({
      baseUrl: options.config.controlPlaneUrl,
      ...(options.config.adminKey ? { adminKey: options.config.adminKey } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      backoff: { maxAttempts: 3 },
    });
  }

  private get manifest(): AgentManifest {
    return this.options.manifest;
  }

  private async heartbeatBody(): Promise<HeartbeatBody> {
    if (this.options.heartbeat) return this.options.heartbeat();
    return buildPushPayload(await this.options.report!(), runAudit(this.options.manifest));
  }

  start(): this {
    this.schedule(0);
    return this;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.channel?.close();
  }

  /** Opens connected mode's WebSocket after the first registration (AGENTSPEC_TRANSPORT ws or auto). */
  private openChannel(registration: RegisterResponse): void {
    const transport = this.options.config.transport ?? 'auto';
    // A hosted instance is called at its publicUrl: it keeps no socket.
    if (transport === 'http' || registration.deploymentMode === 'hosted') return;
    if (this.channel) return this.channel.reconnect(); // a new token: authenticate the socket with it
    this.channel = new ConnectedChannel({
      url: registration.connectUrl ?? connectUrlFor(this.options.config.controlPlaneUrl),
      token: () => this.registration?.apiKey ?? '',
      reconnectSpreadMs: reconnectSpreadFor(registration.heartbeatIntervalSeconds * 1000),
      replayGapMs: registration.heartbeatIntervalSeconds * 1000,
      onProbe: () => this.heartbeatBody(),
      log: (message) => this.log(message.replace(/^\[agentspec\] /, '')),
    });
  }

  /** Whether this heartbeat goes over the socket: always with ws, while it is up with auto. */
  private useChannel(): boolean {
    if (!this.channel) return false;
    return this.options.config.transport === 'ws' || (this.channel.connected && !this.channel.refused);
  }

  private log(message: string): void {
    const secrets = [this.options.config.adminKey, this.registration?.apiKey];
    (this.options.log ?? logError)(redact(`[agentspec] ${message}`, secrets));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.step(), ms);
    this.timer.unref();
  }

  private retryDelay(): number {
    const backoff = { baseMs: 1_000, maxMs: 300_000, ...this.options.backoff };
    return Math.max(backoff.baseMs, backoffDelay(this.failures++, backoff));
  }

  /** Swaps the token for a fresh one at two thirds of its lifetime; a refused refresh means registering again. */
  private async refreshIfDue(): Promise<void> {
    const due = this.registration && refreshTime(this.registration.apiKey);
    if (!this.registration || due === undefined || Date.now() < due) return;
    try {
      this.registration = await this.client.refreshToken(this.registration.apiKey);
      this.status.refreshes++;
      this.channel?.reconnect();
    } catch (err) {
      if (err instanceof ControlPlaneError && err.status === 401) {
        this.log('token refresh refused (401): registering again');
        this.registration = undefined;
        Object.assign(this.status, { registered: false });
        return;
      }
      // Unreachable for now: the token is still valid for a third of its lifetime; the next heartbeat retries.
      this.log(`token refresh failed: ${(err as Error).message}`);
    }
  }

  private async step(): Promise<void> {
    const { config } = this.options;
    if (!this.registration) {
      try {
        this.registration = await this.client.register({
          agentName: config.agentName,
          runtime: config.runtime,
          instanceId: config.instanceId,
          ...(config.namespace ? { namespace: config.namespace } : {}),
          ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
          manifest: this.manifest,
        });
        this.failures = 0;
        Object.assign(this.status, { registered: true, instanceId: this.registration.instanceId });
        this.status.registrations++;
        this.log(
          `registered ${config.agentName} (instance ${this.registration.instanceId}) with ${config.controlPlaneUrl}`,
        );
        this.openChannel(this.registration);
      } catch (err) {
        this.status.lastError = (err as Error).message;
        this.log(`registration with ${config.controlPlaneUrl} failed: ${(err as Error).message}`);
        return this.schedule(this.retryDelay());
      }
    }
    const interval = this.registration.heartbeatIntervalSeconds * 1000;
    await this.refreshIfDue();
    if (!this.registration) return this.schedule(this.retryDelay());
    try {
      const body = await this.heartbeatBody();
      if (this.useChannel()) return this.afterSocketHeartbeat(await this.channel!.send(body), interval);
      await this.client.heartbeat(this.registration.apiKey, body);
      this.status.heartbeats++;
      this.status.transport = 'http';
      this.schedule(interval);
    } catch (err) {
      this.status.lastError = (err as Error).message;
      if (err instanceof ControlPlaneError && err.status === 401) {
        this.log('heartbeat token rejected (401): registering again');
        this.registration = undefined;
        Object.assign(this.status, { registered: false });
        return this.schedule(this.retryDelay());
      }
      if (err instanceof ControlPlaneError && err.status === 429) {
        return this.schedule(Math.max(interval, err.retryAfterMs ?? 0));
      }
      this.log(`heartbeat failed: ${(err as Error).message}`);
      this.schedule(interval);
    }
  }

  /** A heartbeat over the socket: the same outcomes as over HTTP (401 registers again, 429 waits). */
  private afterSocketHeartbeat(sent: ConnectedResult, interval: number): void {
    if (sent.result === 'acked') {
      this.status.heartbeats++;
      this.status.transport = 'ws';
      return this.schedule(interval);
    }
    // Sent when the socket is back; or not sent, a replay on reconnect having just carried the newest state.
    if (sent.result === 'queued' || sent.result === 'coalesced') return this.schedule(interval);
    this.status.lastError = `${sent.status} ${sent.message}`;
    if (sent.status === 401) {
      this.log('heartbeat token rejected (401): registering again');
      this.registration = undefined;
      Object.assign(this.status, { registered: false });
      return this.schedule(this.retryDelay());
    }
    if (sent.status === 429) return this.schedule(Math.max(interval, (sent.retryAfterSeconds ?? 0) * 1000));
    this.log(`heartbeat over the WebSocket refused: ${sent.status} ${sent.message}`);
    this.schedule(interval);
  }
}
