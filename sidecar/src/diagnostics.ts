import { dirname } from 'node:path';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { HEALTH_PATH, runHealthChecks, summarize, type AgentManifest, type HealthReport } from '@agentspec/sdk';
import type { AuditRing } from './audit-ring.js';
import { gapReport, policyViolations, type GapReport, type Source } from './gap.js';
import { secretChecks } from './secret-checks.js';
import type { LlmGapAnalyzer } from './llm-gap.js';
import type { SidecarMetrics } from './metrics.js';
import { eventsRoute } from './events-route.js';
import type { OpaClient, OpaFacts } from './opa.js';

export interface DiagnosticsOptions {
  manifest: AgentManifest;
  manifestPath: string;
  upstream: URL;
  /** The proxy's port, for the agent card's URL. */
  proxyPort: number;
  ring: AuditRing;
  metrics: SidecarMetrics;
  logger: Logger;
  opa?: OpaClient;
  /** Seed 001's LLM gap analysis, when ANTHROPIC_API_KEY is set. */
  llm?: LlmGapAnalyzer;
  env?: NodeJS.ProcessEnv;
  /** Upstream probe timeout. Default 2 s. */
  probeTimeoutMs?: number;
}

export type ReadyStatus = 'ready' | 'degraded' | 'not-ready';

export interface ReadyReport {
  status: ReadyStatus;
  source: Source;
  agentName: string;
  timestamp: string;
  upstream: { url: string; reachable: boolean };
  summary: HealthReport['summary'];
  checks: HealthReport['checks'];
}

/** What one GET /agentspec/health on the agent showed. */
export interface AgentProbe {
  reachable: boolean;
  live: HealthReport | undefined;
}

const isHealthReport = (value: unknown): value is HealthReport =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as HealthReport).status === 'string' &&
  Array.isArray((value as HealthReport).checks);

/** What the diagnostics endpoints and the registrar read: live from the agent when it reports, else static. */
export class Diagnostics {
  private lastSource: Source = 'manifest-static';
  private lastLive: HealthReport | undefined;

  constructor(readonly options: DiagnosticsOptions) {}

  get source(): Source {
    return this.lastSource;
  }

  /** What upstream's OPA input says about the agent, from the manifest and the last probe of the agent. */
  opaFacts(): OpaFacts {
    const { spec } = this.options.manifest;
    return {
      modelId: `${spec.model.provider}/${spec.model.id}`,
      guardrailsDeclared: (spec.guardrails?.input ?? []).map((g) => g.type),
      toolsRegistered: this.lastLive
        ? this.lastLive.checks.filter((c) => c.category === 'tool' && c.status === 'pass').map((c) => c.id.slice(5))
        : (spec.tools ?? []).map((t) => t.name),
      sdkAvailable: this.lastSource === 'agent-sdk',
      hasHealthEndpoint: this.lastLive !== undefined,
      allChecksPassing: this.lastLive?.checks.every((c) => c.status === 'pass') ?? false,
    };
  }

  private async get(path: string): Promise<globalThis.Response | undefined> {
    const url = new URL(
      path.replace(/^\//, ''),
      this.options.upstream.href.endsWith('/') ? this.options.upstream : `${this.options.upstream.href}/`,
    );
    try {
      return await fetch(url, { signal: AbortSignal.timeout(this.options.probeTimeoutMs ?? 2_000) });
    } catch {
      return undefined;
    }
  }

  /** GET /agentspec/health on the agent: its live HealthReport when AgentSpecReporter is mounted. */
  async probeAgent(): Promise<AgentProbe> {
    const response = await this.get(HEALTH_PATH);
    if (!response) {
      this.lastSource = 'manifest-static';
      return { reachable: false, live: undefined };
    }
    let live: HealthReport | undefined;
    try {
      const body: unknown = await response.json();
      live = isHealthReport(body) ? body : undefined;
    } catch {
      live = undefined;
    }
    this.lastSource = live ? 'agent-sdk' : 'manifest-static';
    this.lastLive = live;
    return { reachable: true, live };
  }

  private async answers(path: string): Promise<boolean> {
    const response = await this.get(path);
    await response?.body?.cancel();
    return response !== undefined && response.ok;
  }

  /** `probe`: a probe already made for this moment (the registrar reads ready and gap from one). */
  async ready(probe?: AgentProbe): Promise<ReadyReport> {
    const { manifest } = this.options;
    const agentName = manifest.metadata.name;
    probe ??= await this.probeAgent();
    let report: HealthReport;
    if (probe.live) {
      report = probe.live;
    } else {
      const env = this.options.env ?? process.env;
      const baseDir = dirname(this.options.manifestPath);
      const checks = await runHealthChecks(manifest, {
        baseDir,
        env,
        categories: ['env', 'service', 'memory', 'mcp'],
        timeoutMs: 2_000,
      });
      report = summarize(agentName, [...checks, ...secretChecks(manifest, env, baseDir)]);
    }
    const status: ReadyStatus = !probe.reachable
      ? 'not-ready'
      : report.status === 'healthy'
        ? 'ready'
        : report.status === 'degraded'
          ? 'degraded'
          : 'not-ready';
    return {
      status,
      source: probe.live ? 'agent-sdk' : 'manifest-static',
      agentName,
      timestamp: new Date().toISOString(),
      upstream: { url: this.options.upstream.origin, reachable: probe.reachable },
      summary: report.summary,
      checks: report.checks,
    };
  }

  /**
   * The gap report; with `analysis`, the LLM gap analysis too (GET /agentspec/gap waits for it, up to its timeout;
   * the registrar's heartbeats carry the static report only, so they never wait for a model).
   */
  async gap(probe?: AgentProbe, options: { analysis?: boolean } = {}): Promise<GapReport> {
    probe ??= await this.probeAgent();
    const [health, capabilities] = probe.live
      ? [true, true]
      : await Promise.all([this.answers('/health'), this.answers('/capabilities')]);
    const report = gapReport({
      manifest: this.options.manifest,
      live: probe.live,
      upstream: { health, capabilities },
      policy: policyViolations(this.options.ring),
    });
    if (!options.analysis) return report;
    const { llm } = this.options;
    return {
      ...report,
      analysis: llm
        ? await llm.analysis(this.options.manifest, probe.live, report.issues)
        : { source: 'static', reason: 'ANTHROPIC_API_KEY is not set: the gap analysis is static' },
    };
  }

  async explore(): Promise<Record<string, unknown>> {
    const { manifest } = this.options;
    const spec = manifest.spec;
    const probe = await this.probeAgent();
    const checks = new Map((probe.live?.checks ?? []).map((c) => [c.id, c]));
    const live = (id: string) => {
      const check = checks.get(id);
      return check
        ? { status: check.status, ...(check.latencyMs !== undefined ? { latencyMs: check.latencyMs } : {}) }
        : probe.live
          ? { status: 'unreported' }
          : { status: 'unknown' };
    };
    return {
      source: probe.live ? 'agent-sdk' : 'manifest-static',
      agentName: manifest.metadata.name,
      version: manifest.metadata.version,
      description: manifest.metadata.description,
      upstream: { url: this.options.upstream.origin, reachable: probe.reachable },
      model: {
        provider: spec.model.provider,
        id: spec.model.id,
        ...live(`model:${spec.model.provider}/${spec.model.id}`),
      },
      tools: (spec.tools ?? []).map((t) => ({
        name: t.name,
        type: t.type,
        description: t.description,
        ...live(`tool:${t.name}`),
      })),
      services: (spec.requires?.services ?? []).map((s) => ({
        ...(s as Record<string, unknown>),
        ...live(`service:${(s as { name?: string; type?: string }).name ?? (s as { type?: string }).type ?? ''}`),
      })),
      guardrails: spec.guardrails ?? null,
      memory: spec.memory ?? null,
      timestamp: new Date().toISOString(),
    };
  }

  agentCard(): Record<string, unknown> {
    const { manifest } = this.options;
    return {
      name: manifest.metadata.name,
      description: manifest.metadata.description,
      version: manifest.metadata.version,
      url: `http://localhost:${this.options.proxyPort}`,
      capabilities: { streaming: true, pushNotifications: false },
      defaultInputModes: ['text'],
      defaultOutputModes: ['text'],
      skills: (manifest.spec.tools ?? []).map((t) => ({ id: t.name, name: t.name, description: t.description })),
      source: this.lastSource,
    };
  }
}

const asyncRoute =
  (handler: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) =>
    void handler(req, res).catch(next);

/** GET /agentspec/audit?limit=N: the newest N audit entries, newest first. */
function auditRoute(diagnostics: Diagnostics) {
  const { ring } = diagnostics.options;
  return (req: Request, res: Response): void => {
    const raw = req.query['limit'];
    const limit = raw === undefined ? ring.capacity : Number(raw);
    if (typeof raw !== 'undefined' && (typeof raw !== 'string' || !Number.isInteger(limit) || limit < 1)) {
      res.status(400).json({
        error: 'InvalidQuery',
        message: 'limit: expected a whole number of at least 1',
        field: 'limit',
        source: diagnostics.source,
      });
      return;
    }
    res.json({ source: diagnostics.source, total: ring.size, limit, entries: ring.latest(limit) });
  };
}

const ERROR_NAMES: Record<number, string> = {
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  500: 'InternalError',
};

/** 404 for unknown routes; client errors of the body parser as 4xx; anything else a logged 500. */
function errorRoutes(app: Express, diagnostics: Diagnostics): void {
  app.use((req, res) => {
    res
      .status(404)
      .json({ error: 'NotFound', message: `no route ${req.method} ${req.path}`, source: diagnostics.source });
  });
  app.use((err: { status?: number; message?: string }, _req: Request, res: Response, _next: NextFunction) => {
    const status = err.status && err.status < 500 ? err.status : 500;
    if (status === 500) diagnostics.options.logger.error({ err: err.message }, 'diagnostics request failed');
    res.status(status).json({
      error: ERROR_NAMES[status] ?? 'BadRequest',
      message: status === 500 ? 'internal error' : (err.message ?? 'bad request'),
      source: diagnostics.source,
    });
  });
}

/** The diagnostics app on CONTROL_PLANE_PORT: every JSON answer carries `source`. */
export function createDiagnosticsApp(diagnostics: Diagnostics): Express {
  const { ring, metrics, opa } = diagnostics.options;
  const app = express();
  app.disable('x-powered-by');
  const json = (report: () => Promise<unknown>) => asyncRoute(async (_req, res) => void res.json(await report()));
  // Every diagnostics path also answers without the /agentspec prefix, as upstream's sidecar serves them (seed 002).
  app.get(
    // /agentspec/health too: what the control plane's probe of a hosted instance asks for (seed 003).
    ['/agentspec/health/ready', '/health/ready', '/agentspec/health'],
    asyncRoute(async (_req, res) => {
      const report = await diagnostics.ready();
      res.status(report.status === 'not-ready' ? 503 : 200).json(report);
    }),
  );
  app.get(['/agentspec/health/live', '/health/live'], (_req, res) => {
    res.json({ status: 'alive', source: diagnostics.source, timestamp: new Date().toISOString() });
  });
  app.get(
    ['/agentspec/explore', '/explore'],
    json(() => diagnostics.explore()),
  );
  app.get(
    ['/agentspec/gap', '/gap'],
    json(() => diagnostics.gap(undefined, { analysis: true })),
  );
  app.get(['/agentspec/audit', '/audit'], auditRoute(diagnostics));
  const agentName = diagnostics.options.manifest.metadata.name;
  app.use(eventsRoute({ ring, metrics, ...(opa ? { opa } : {}), agentName, source: () => diagnostics.source }));
  // The A2A card at both names: agent-card.json (seed 003) and upstream's agent.json.
  app.get(
    ['/.well-known/agent-card.json', '/.well-known/agent.json'],
    (_req, res) => void res.json(diagnostics.agentCard()),
  );
  app.get(
    '/metrics',
    asyncRoute(async (_req, res) => {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    }),
  );
  errorRoutes(app, diagnostics);
  return app;
}
