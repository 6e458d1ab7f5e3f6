import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { AppContext } from './app-context.js';
import type { ConnectServer } from './connect.js';
import { HEALTH_PATH, HostedCallError, hostedUrl } from './hosted.js';

/** The largest health report a probe of a hosted instance reads (a heartbeat body's limit). */
const MAX_PROBE_REPORT_BYTES = 64 * 1024;

/** A replica asks every replica for a probe of one instance: {r: request id, i: instance pk, t: timeout ms}. */
export const PROBE_CHANNEL = 'agentspec_probe';
/** The replica that held the socket wrote the outcome to probe_results: {r: request id}. */
export const PROBE_DONE_CHANNEL = 'agentspec_probe_done';

/** The outcome of a probe that got no answer in time. */
const timedOut = (instanceId: string, timeoutMs: number): ProbeOutcome => ({
  instanceId,
  status: 'timeout',
  error: `timeout: no answer within ${timeoutMs} ms`,
});

export type ProbeOutcome =
  | { instanceId: string; status: 'ok'; report: unknown; latencyMs: number }
  | { instanceId: string; status: 'offline' | 'timeout' | 'unreachable'; error: string };

/**
 * Probes connected instances through whichever replica holds their WebSocket: directly when it is this one, else by
 * NOTIFY to every replica — the holder probes, stores the outcome in `probe_results` and NOTIFYs it back. Hosted
 * instances are asked at `{publicUrl}/agentspec/health` by the replica that was asked. Each probe has a deadline;
 * an instance on HTTP push cannot be asked (`unreachable`).
 */
export class Prober {
  private readonly waiting = new Map<string, () => void>();

  constructor(
    private readonly ctx: AppContext,
    private readonly connect: ConnectServer,
  ) {}

  /** A notification on PROBE_CHANNEL or PROBE_DONE_CHANNEL (from the coordinator's LISTEN connection). */
  onNotification(channel: string, payload: string | undefined): void {
    let message: { r?: string; i?: string; t?: number };
    try {
      message = JSON.parse(payload ?? '') as typeof message;
    } catch {
      return;
    }
    if (typeof message.r !== 'string') return;
    if (channel === PROBE_DONE_CHANNEL) this.waiting.get(message.r)?.();
    else if (channel === PROBE_CHANNEL && typeof message.i === 'string' && this.connect.holds(message.i)) {
      void this.answer(message.r, message.i, Math.min(Number(message.t) || 5_000, 30_000));
    }
  }

  /**
   * Probes one instance (its row's pk and id, whether it is live, its transport and, when hosted, its publicUrl).
   */
  async probe(
    instance: { pk: string; instanceId: string; offline: boolean; transport: string; publicUrl: string | null },
    timeoutMs: number,
  ): Promise<ProbeOutcome> {
    const { instanceId } = instance;
    // A hosted instance is reachable (or not) whatever its heartbeats say: ask it.
    if (instance.publicUrl !== null) return this.hosted(instanceId, instance.publicUrl, timeoutMs);
    if (instance.offline) return { instanceId, status: 'offline', error: 'offline: no heartbeat for 3 intervals' };
    if (instance.transport !== 'ws') {
      return {
        instanceId,
        status: 'unreachable',
        error: 'unreachable: the instance pushes over HTTP (no connected-mode socket)',
      };
    }
    const started = Date.now();
    if (this.connect.holds(instance.pk)) return this.local(instance.pk, instanceId, timeoutMs, started);
    if (!this.ctx.config.databaseUrl) {
      return { instanceId, status: 'unreachable', error: 'unreachable: its socket is not held by this control plane' };
    }
    const request = randomUUID();
    const done = new Promise<void>((resolve) => this.waiting.set(request, resolve));
    const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs + 500).unref());
    try {
      const payload = JSON.stringify({ r: request, i: instance.pk, t: timeoutMs });
      await sql`select pg_notify(${PROBE_CHANNEL}, ${payload})`.execute(this.ctx.database.db);
      await Promise.race([done, timer]);
      const row = await this.ctx.database.db
        .deleteFrom('probe_results')
        .where('request_id', '=', request)
        .returning('result')
        .executeTakeFirst();
      this.ctx.metrics.probeRouting.observe((Date.now() - started) / 1000);
      if (!row) return timedOut(instanceId, timeoutMs);
      return { ...(JSON.parse(row.result) as Omit<ProbeOutcome, 'instanceId'>), instanceId } as ProbeOutcome;
    } finally {
      this.waiting.delete(request);
    }
  }

  private async local(pk: string, instanceId: string, timeoutMs: number, started: number): Promise<ProbeOutcome> {
    try {
      const report = await this.connect.probe(pk, timeoutMs);
      return { instanceId, status: 'ok', report, latencyMs: Date.now() - started };
    } catch (err) {
      const reason = (err as Error).message;
      return reason === 'timeout'
        ? timedOut(instanceId, timeoutMs)
        : { instanceId, status: 'unreachable', error: `unreachable: ${reason}` };
    }
  }

  /** GET {publicUrl}/agentspec/health under the SSRF rules, within the probe's deadline. */
  private async hosted(instanceId: string, publicUrl: string, timeoutMs: number): Promise<ProbeOutcome> {
    const started = Date.now();
    const url = hostedUrl(publicUrl, HEALTH_PATH);
    try {
      const answer = await this.ctx.hosted.getJson(url, MAX_PROBE_REPORT_BYTES, timeoutMs);
      // The health endpoint answers 503 with the report when a check fails: still a live report.
      if ((answer.status === 200 || answer.status === 503) && typeof answer.body === 'object' && answer.body) {
        return { instanceId, status: 'ok', report: answer.body, latencyMs: Date.now() - started };
      }
      return { instanceId, status: 'unreachable', error: `unreachable: ${url.href} answered ${answer.status}` };
    } catch (err) {
      if (err instanceof HostedCallError && err.reason === 'timeout') {
        return timedOut(instanceId, timeoutMs);
      }
      return { instanceId, status: 'unreachable', error: `unreachable: ${(err as Error).message}` };
    }
  }

  /** This replica holds the socket another replica asked about: probe, store, tell. */
  private async answer(request: string, pk: string, timeoutMs: number): Promise<void> {
    const outcome = await this.local(pk, '', timeoutMs, Date.now());
    const { instanceId: _omitted, ...result } = outcome;
    void _omitted;
    try {
      await this.ctx.database.db
        .insertInto('probe_results')
        .values({ request_id: request, result: JSON.stringify(result) })
        .execute();
      await sql`select pg_notify(${PROBE_DONE_CHANNEL}, ${JSON.stringify({ r: request })})`.execute(
        this.ctx.database.db,
      );
    } catch (err) {
      this.ctx.logger.warn({ err: (err as Error).message }, 'could not return a probe to the replica that asked');
    }
  }
}
