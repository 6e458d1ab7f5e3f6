import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AgentManifest } from '../manifest/load.js';
import { loadManifest } from '../manifest/load.js';
import { AutoRegistration, autoRegistrationConfig } from '../control-plane/auto-register.js';
import { isPushModeActive, startPushLoop, stopPushMode, type PushModeOptions } from '../push/push-loop.js';
import { runHealthChecks, type HealthCheckOptions } from './checks.js';
import { summarize, type HealthReport } from './types.js';

export interface AgentSpecReporterOptions {
  manifest: AgentManifest;
  /** Directory `$file:` references resolve against. Default: the working directory. */
  baseDir?: string;
  /** Background refresh interval. Default 30 000 ms. */
  refreshIntervalMs?: number;
  /** A report older than this is re-checked synchronously by getReport(). Default 60 000 ms. */
  staleAfterMs?: number;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /**
   * Register with the control plane and heartbeat when AGENTSPEC_CONTROL_PLANE_URL is set (and
   * AGENTSPEC_REGISTRAR is not "sidecar"). Default true.
   */
  autoRegister?: boolean;
}

export const HEALTH_PATH = '/agentspec/health';

/**
 * Runs the manifest's health checks inside the agent process (real connectivity, real keys), caches the
 * last report and serves it at GET /agentspec/health.
 */
export class AgentSpecReporter {
  readonly manifest: AgentManifest;
  private readonly options: AgentSpecReporterOptions;
  private readonly tools = new Set<string>();
  private report: HealthReport | undefined;
  private checkedAt = 0;
  private inFlight: Promise<HealthReport> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Set while this reporter registers itself with the control plane (see autoRegister). */
  registration: AutoRegistration | undefined;

  constructor(options: AgentSpecReporterOptions) {
    this.options = options;
    this.manifest = options.manifest;
  }

  /** Loads an agent.yaml (either form) and makes a reporter for it. */
  static fromFile(
    path: string,
    options: Omit<AgentSpecReporterOptions, 'manifest' | 'baseDir'> = {},
  ): AgentSpecReporter {
    const loaded = loadManifest(path);
    return new AgentSpecReporter({ ...options, manifest: loaded.manifest, baseDir: loaded.baseDir });
  }

  get refreshIntervalMs(): number {
    return this.options.refreshIntervalMs ?? 30_000;
  }

  get staleAfterMs(): number {
    return this.options.staleAfterMs ?? 60_000;
  }

  /**
   * Marks a tool handler as present; `tool:<name>` checks pass for registered tools. The handler (upstream's second
   * argument) is accepted and not called.
   */
  registerTool(name: string, _handler?: unknown): this {
    this.tools.add(name);
    return this;
  }

  /**
   * Upstream's push mode on the reporter: heartbeats this reporter's report to `{controlPlaneUrl}/api/v1/heartbeat`
   * (or `url`) every `intervalSeconds` (30) — the module's push mode (one per process; idempotent) with this reporter.
   */
  startPushMode(
    options: { apiKey: string; controlPlaneUrl?: string; url?: string; intervalSeconds?: number } & Omit<
      PushModeOptions,
      'manifest' | 'url' | 'apiKey' | 'reporter'
    >,
  ): void {
    const { controlPlaneUrl, url, intervalSeconds, ...rest } = options;
    const target = url ?? (controlPlaneUrl ? `${controlPlaneUrl.replace(/\/+$/, '')}/api/v1/heartbeat` : undefined);
    if (!target) throw new Error('startPushMode needs controlPlaneUrl (or url)');
    startPushLoop({
      ...rest,
      manifest: this.manifest,
      reporter: this,
      url: target,
      ...(intervalSeconds !== undefined ? { intervalMs: intervalSeconds * 1000 } : {}),
    });
  }

  /** Stops push mode (upstream's method; the module's stopPushMode). */
  stopPushMode(): void {
    stopPushMode();
  }

  isPushModeActive(): boolean {
    return isPushModeActive();
  }

  /** Checks now and then every refreshIntervalMs in the background. Idempotent. */
  start(): this {
    if (this.timer || this.stopped) return this;
    void this.refresh().catch(() => undefined);
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.refreshIntervalMs);
    this.timer.unref();
    const config = autoRegistrationConfig(this.options.env ?? process.env, this.manifest.metadata.name);
    if (config && this.options.autoRegister !== false) {
      this.registration = new AutoRegistration({
        config,
        manifest: this.manifest,
        report: () => this.getReport(),
        ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
      }).start();
    }
    return this;
  }

  /** Stops background checks; getReport() then returns the last report without checking again. */
  stop(): void {
    this.stopped = true;
    this.registration?.stop();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Runs every check now (concurrent callers share one run). */
  refresh(): Promise<HealthReport> {
    this.inFlight ??= this.check().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** The cached report; re-checked first when none exists yet or it is older than staleAfterMs. */
  async getReport(): Promise<HealthReport> {
    if (this.stopped) {
      if (this.report) return this.report;
      throw new Error('the reporter was stopped before its first check');
    }
    if (!this.report || Date.now() - this.checkedAt > this.staleAfterMs) return this.refresh();
    return this.report;
  }

  private async check(): Promise<HealthReport> {
    const options: HealthCheckOptions = {
      baseDir: this.options.baseDir ?? process.cwd(),
      registeredTools: this.tools,
      ...(this.options.env ? { env: this.options.env } : {}),
      ...(this.options.timeoutMs ? { timeoutMs: this.options.timeoutMs } : {}),
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
    };
    const checks = await runHealthChecks(this.manifest, options);
    const report = summarize(this.manifest.metadata.name, checks);
    if (!this.stopped || !this.report) {
      this.report = report;
      this.checkedAt = Date.now();
    }
    return report;
  }

  /**
   * Serves GET /agentspec/health. Use it as a node:http listener (404 for other paths), as express/connect
   * middleware (`app.use(reporter.handler())`, other paths go to next()), or as a fastify route handler
   * (`app.get('/agentspec/health', reporter.handler())`).
   */
  handler(): (
    req: IncomingMessage | { raw: IncomingMessage },
    res: ServerResponse | { raw: ServerResponse },
    next?: unknown,
  ) => void {
    return (req, res, next) => {
      const rawReq = 'raw' in req ? req.raw : req;
      const rawRes = 'raw' in res ? res.raw : res;
      const path = (rawReq.url ?? '').split('?')[0];
      if (path !== HEALTH_PATH || (rawReq.method !== 'GET' && rawReq.method !== 'HEAD')) {
        if (typeof next === 'function') return void (next as () => void)();
        rawRes.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'NotFound' }));
        return;
      }
      const reply = res as { hijack?: () => void };
      if ('raw' in res && typeof reply.hijack === 'function') reply.hijack(); // fastify: we write the raw response
      this.respond(rawReq, rawRes);
    };
  }

  /** Answers one GET or HEAD with the report (200), or 503 when no report can be had. */
  respond(req: IncomingMessage, res: ServerResponse): void {
    this.getReport().then(
      (report) => {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : JSON.stringify(report));
      },
      (err: unknown) => {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'HealthUnavailable', message: (err as Error).message }));
      },
    );
  }

  /** Upstream's handler for frameworks with `res.status(code).json(body)` (mount it at GET /agentspec/health). */
  httpHandler(): (req: unknown, res: { status(code: number): { json(body: unknown): void } }) => Promise<void> {
    return async (_req, res) => {
      try {
        res.status(200).json(await this.getReport());
      } catch (err) {
        res.status(503).json({ error: 'HealthUnavailable', message: (err as Error).message });
      }
    };
  }
}

/**
 * Upstream's Express adapter: middleware answering GET /health relative to where it is mounted —
 * `app.use('/agentspec', agentSpecExpressRouter(reporter))` serves GET /agentspec/health; other requests go on.
 */
export function agentSpecExpressRouter(
  reporter: AgentSpecReporter,
): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
  return (req, res, next) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/health' || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    reporter.respond(req, res);
  };
}

/** Upstream's Fastify adapter: `await app.register(agentSpecFastifyPlugin(reporter))` serves GET /agentspec/health. */
export function agentSpecFastifyPlugin(
  reporter: AgentSpecReporter,
): (app: { get(path: string, handler: ReturnType<AgentSpecReporter['handler']>): unknown }) => Promise<void> {
  return async (app) => {
    app.get(HEALTH_PATH, reporter.handler());
  };
}
