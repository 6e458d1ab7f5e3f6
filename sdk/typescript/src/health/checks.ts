import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { AgentManifest } from '../manifest/load.js';
import { findReferences } from '../manifest/references.js';
import { resolveRef } from '../manifest/resolve-ref.js';
import { parseEndpoint } from './endpoint.js';
import { modelEndpointEnvName, modelEndpointFor } from './model-endpoints.js';
import { postgresPing, redisPing, tcpProbe } from './probes.js';
import type { CheckCategory, HealthCheck } from './types.js';

export interface HealthCheckOptions {
  /** Directory of the manifest, for `$file:` references. */
  baseDir: string;
  env?: NodeJS.ProcessEnv;
  /** Tool handlers registered in the process; tool checks run only when given. */
  registeredTools?: ReadonlySet<string>;
  /** Categories to run; all by default. */
  categories?: readonly CheckCategory[];
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Every `$env:NAME` in the manifest, with the field that uses it. */
export function envReferences(manifest: AgentManifest): Map<string, string> {
  return new Map(
    findReferences(manifest)
      .filter((r) => r.kind === 'env')
      .map((r) => [r.target, r.field]),
  );
}

function envChecks(manifest: AgentManifest, env: NodeJS.ProcessEnv): HealthCheck[] {
  const names = new Map<string, string>();
  for (const name of manifest.spec.requires?.envVars ?? []) names.set(name, 'spec.requires.envVars');
  for (const [name, field] of envReferences(manifest)) if (!names.has(name)) names.set(name, field);
  return [...names].map(([name, field]) =>
    env[name]
      ? { id: `env:${name}`, category: 'env', status: 'pass', severity: 'error' }
      : {
          id: `env:${name}`,
          category: 'env',
          status: 'fail',
          severity: 'error',
          message: `${name} is not set (used by ${field})`,
          remediation: `Set ${name} in the agent container's environment.`,
        },
  );
}

async function modelCheck(
  id: string,
  provider: string,
  apiKey: string | undefined,
  severity: 'error' | 'warning',
  options: Required<Pick<HealthCheckOptions, 'baseDir' | 'timeoutMs' | 'fetch'>> & { env: NodeJS.ProcessEnv },
): Promise<HealthCheck> {
  const base = { id, category: 'model' as const, severity };
  if (!apiKey) {
    return { ...base, status: 'skip', message: 'no apiKey in the manifest' };
  }
  const key = resolveRef(apiKey, { baseDir: options.baseDir, env: options.env });
  if (key.value === undefined) {
    return {
      ...base,
      status: 'skip',
      message: `API key reference not resolved (${apiKey}): ${key.problem ?? ''}`.trim(),
    };
  }
  const endpoint = modelEndpointFor(provider, options.env);
  if (!endpoint) {
    return {
      ...base,
      status: 'skip',
      message: `no known models endpoint for provider ${provider}`,
      remediation: `Set ${modelEndpointEnvName(provider)} to the provider's list-models URL.`,
    };
  }
  const started = performance.now();
  try {
    const response = await options.fetch(endpoint.url, {
      headers: endpoint.headers(key.value),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    await response.body?.cancel();
    const latencyMs = Math.round(performance.now() - started);
    if (response.ok) return { ...base, status: 'pass', latencyMs };
    if (response.status === 401 || response.status === 403) {
      return {
        ...base,
        status: 'fail',
        latencyMs,
        message: `the provider rejected the API key (HTTP ${response.status})`,
        remediation: `Check the key referenced by ${apiKey}.`,
      };
    }
    return { ...base, status: 'fail', latencyMs, message: `models endpoint answered HTTP ${response.status}` };
  } catch (err) {
    return {
      ...base,
      status: 'fail',
      message: `models endpoint unreachable: ${errorMessage(err)}`,
      remediation: `Check network access from the agent to ${new URL(endpoint.url).host}.`,
    };
  }
}

/** TCP connect, then a protocol-level ping where we speak the protocol (Redis PING, Postgres SELECT 1). */
async function connectionCheck(
  id: string,
  category: 'service' | 'memory',
  kind: string,
  connection: string,
  options: { baseDir: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<HealthCheck> {
  const base = { id, category, severity: 'info' as const };
  const resolved = resolveRef(connection, { baseDir: options.baseDir, env: options.env });
  if (resolved.value === undefined) {
    return {
      ...base,
      status: 'skip',
      message: `connection reference not resolved (${connection}): ${resolved.problem ?? ''}`.trim(),
    };
  }
  const endpoint = parseEndpoint(resolved.value, kind);
  if (!endpoint) return { ...base, status: 'skip', message: `no network address in the ${kind} connection` };
  try {
    const latencyMs =
      kind === 'redis'
        ? await redisPing(endpoint, options.timeoutMs)
        : (kind === 'postgres' || kind === 'pgvector') && endpoint.url
          ? await postgresPing(resolved.value, options.timeoutMs)
          : await tcpProbe(endpoint, options.timeoutMs);
    return { ...base, status: 'pass', latencyMs };
  } catch (err) {
    return {
      ...base,
      status: 'fail',
      message: `${kind} at ${endpoint.host}:${endpoint.port}: ${errorMessage(err)}`,
      remediation: `Check that ${kind} is running and reachable from the agent, and its credentials.`,
    };
  }
}

function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  const candidates = isAbsolute(command)
    ? [command]
    : (env['PATH'] ?? '').split(delimiter).map((dir) => join(dir, command));
  return candidates.some((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function uniqueId(ids: Set<string>, id: string): string {
  let candidate = id;
  for (let n = 2; ids.has(candidate); n++) candidate = `${id}#${n}`;
  ids.add(candidate);
  return candidate;
}

type CheckContext = Parameters<typeof modelCheck>[4];

/** Collects the checks of one run: those known at once, those still running, and their unique ids. */
interface Collector {
  checks: HealthCheck[];
  pending: Promise<HealthCheck>[];
  ids: Set<string>;
  ctx: CheckContext;
}

function modelChecks(manifest: AgentManifest, c: Collector): void {
  const { model } = manifest.spec;
  c.pending.push(
    modelCheck(uniqueId(c.ids, `model:${model.provider}/${model.id}`), model.provider, model.apiKey, 'error', c.ctx),
  );
  const fb = model.fallback;
  if (fb)
    c.pending.push(
      modelCheck(uniqueId(c.ids, `model:${fb.provider}/${fb.id}`), fb.provider, fb.apiKey, 'warning', c.ctx),
    );
}

function serviceChecks(manifest: AgentManifest, c: Collector): void {
  for (const service of manifest.spec.requires?.services ?? []) {
    const id = uniqueId(c.ids, `service:${service.type}`);
    c.pending.push(connectionCheck(id, 'service', service.type, service.connection, c.ctx));
  }
}

function memoryChecks(manifest: AgentManifest, c: Collector): void {
  const { memory } = manifest.spec;
  if (memory?.shortTerm?.backend === 'redis' && memory.shortTerm.connection) {
    c.pending.push(connectionCheck('memory:shortTerm', 'memory', 'redis', memory.shortTerm.connection, c.ctx));
  }
  const longTerm = memory?.longTerm;
  if (longTerm && longTerm.backend !== 'sqlite' && longTerm.connectionString) {
    c.pending.push(connectionCheck('memory:longTerm', 'memory', longTerm.backend, longTerm.connectionString, c.ctx));
  }
  if (memory?.vector?.connectionString) {
    c.pending.push(
      connectionCheck('memory:vector', 'memory', memory.vector.backend, memory.vector.connectionString, c.ctx),
    );
  }
}

const INSTALL_MCP = 'Install the MCP server in the agent image.';

function mcpChecks(manifest: AgentManifest, c: Collector): void {
  for (const server of manifest.spec.mcp?.servers ?? []) {
    const id = uniqueId(c.ids, `mcp:${server.name}`);
    const failed = (message: string, remediation: string): HealthCheck => ({
      id,
      category: 'mcp',
      status: 'fail',
      severity: 'warning',
      message,
      remediation,
    });
    if (server.transport === 'stdio') {
      if (server.command === undefined) {
        c.checks.push(failed('a stdio MCP server without a command cannot be started', INSTALL_MCP));
      } else if (onPath(server.command, c.ctx.env)) {
        c.checks.push({ id, category: 'mcp', status: 'pass', severity: 'warning' });
      } else {
        c.checks.push(failed(`command ${server.command} not found on PATH`, INSTALL_MCP));
      }
    } else if (server.url) {
      const timeoutMs = (server.healthCheck?.timeoutSeconds ?? 5) * 1000;
      c.pending.push(
        connectionCheck(id, 'memory', 'http', server.url, { ...c.ctx, timeoutMs }).then((check) => ({
          ...check,
          category: 'mcp' as const,
          severity: 'warning' as const,
        })),
      );
    } else {
      c.checks.push(
        failed(`an ${server.transport} MCP server without a url cannot be reached`, 'Set the url of the MCP server.'),
      );
    }
  }
}

function toolChecks(manifest: AgentManifest, registeredTools: ReadonlySet<string>, c: Collector): void {
  for (const tool of manifest.spec.tools ?? []) {
    const registered = registeredTools.has(tool.name);
    c.checks.push({
      id: uniqueId(c.ids, `tool:${tool.name}`),
      category: 'tool',
      status: registered ? 'pass' : 'fail',
      severity: 'info',
      ...(registered
        ? {}
        : {
            message: `no handler registered for tool ${tool.name}`,
            remediation: `Register its handler: reporter.registerTool('${tool.name}') (TypeScript), reporter.register_tool("${tool.name}") (Python).`,
          }),
    });
  }
}

/** Runs the manifest's health checks (seed 002 ids: env:NAME, model:provider/id, service:type, tool:name, ...). */
export async function runHealthChecks(manifest: AgentManifest, options: HealthCheckOptions): Promise<HealthCheck[]> {
  const env = options.env ?? process.env;
  const want = (category: CheckCategory): boolean => !options.categories || options.categories.includes(category);
  const c: Collector = {
    checks: want('env') ? envChecks(manifest, env) : [],
    pending: [],
    ids: new Set<string>(),
    ctx: { baseDir: options.baseDir, env, timeoutMs: options.timeoutMs ?? 5_000, fetch: options.fetch ?? fetch },
  };
  if (want('model')) modelChecks(manifest, c);
  if (want('service')) serviceChecks(manifest, c);
  if (want('memory')) memoryChecks(manifest, c);
  if (want('mcp')) mcpChecks(manifest, c);
  if (want('tool') && options.registeredTools) toolChecks(manifest, options.registeredTools, c);
  c.checks.push(...(await Promise.all(c.pending)));
  return c.checks;
}
