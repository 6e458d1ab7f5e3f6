import { DIAGNOSTICS_PORT, ENV, MANIFEST_FILE, MANIFEST_MOUNT_DIR, PROXY_PORT } from '@agentspec/sdk';
import { OPA_POLICY_LAYOUTS, type OpaPolicyLayout } from './opa.js';
import { SettingsError, type SettingsTable } from '@agentspec/service-kit';

/** The sidecar's settings (seed 001): environment only. */
export interface SidecarConfig {
  upstreamUrl: URL;
  manifestPath: string;
  proxyPort: number;
  controlPlanePort: number;
  auditRingSize: number;
  opaUrl: string | undefined;
  opaProxyMode: 'track' | 'enforce' | 'off';
  opaPolicyLayout: OpaPolicyLayout;
  /** Seed 001's LLM gap analysis, when ANTHROPIC_API_KEY is set. */
  llm: { apiKey: string; baseUrl?: string; model: string; refreshMinutes: number; timeoutSeconds: number } | undefined;
  logLevel: string;
}

/** A bad setting, with seed 001's own message (the command prints it and exits 2). */
export class SidecarConfigError extends SettingsError {
  constructor(message: string) {
    super([message], 'sidecar configuration');
    this.message = message;
    this.name = 'SidecarConfigError';
  }
}

/**
 * Every setting (environment only, seed 001), written once: the defaults below, --help and the table in
 * docs/sidecar.md come from these rows. The sidecar keeps seed 001's own error messages, so it reads them itself.
 */
export const SETTINGS = {
  upstreamUrl: {
    type: 'string',
    env: 'UPSTREAM_URL',
    default: 'http://localhost:8000',
    help: 'the agent\'s base URL, http: or https: (Invalid UPSTREAM_URL: "..." — must use http: or https: protocol)',
  },
  manifestPath: {
    type: 'string',
    env: 'MANIFEST_PATH',
    default: `${MANIFEST_MOUNT_DIR}/${MANIFEST_FILE}`,
    help: "the agent's agent.yaml (the operator mounts its ConfigMap there)",
  },
  proxyPort: { type: 'int', env: 'PROXY_PORT', default: PROXY_PORT, min: 0, max: 65_535, help: 'the proxy' },
  controlPlanePort: {
    type: 'int',
    env: 'CONTROL_PLANE_PORT',
    default: DIAGNOSTICS_PORT,
    min: 0,
    max: 65_535,
    help: 'the diagnostics endpoints (/agentspec/...)',
  },
  auditRingSize: {
    type: 'int',
    env: 'AUDIT_RING_SIZE',
    default: 1000,
    min: 1,
    max: 1_000_000,
    help: 'audit entries kept in memory',
  },
  opaUrl: {
    type: 'optional',
    env: 'OPA_URL',
    shown: 'none',
    help: 'OPA base URL; the sidecar asks it about each request (see OPA_POLICY_LAYOUT)',
  },
  opaPolicyLayout: {
    type: 'string',
    env: 'OPA_POLICY_LAYOUT',
    default: 'auto',
    values: ['auto', 'agentspec', 'upstream'],
    help: "agentspec: POST /v1/data/agentspec/deny with camelCase input; upstream: upstream AgentSpec's /v1/data/agentspec/agent/<name>/deny with snake_case input; auto: whichever the loaded policies define",
  },
  opaProxyMode: {
    type: 'string',
    env: 'OPA_PROXY_MODE',
    default: 'track',
    values: ['track', 'enforce', 'off'],
    help: 'track, enforce or off',
  },
  registration: {
    type: 'optional',
    env: `${ENV.controlPlaneUrl}, ${ENV.adminKey}, ${ENV.agentName}, ${ENV.namespace}, ${ENV.instanceId}`,
    shown: 'none',
    help: 'the registrar (the webhook injects them)',
  },
  transport: {
    type: 'optional',
    env: 'AGENTSPEC_TRANSPORT',
    shown: 'auto',
    help: "the registrar's heartbeats: connected mode's WebSocket (ws), HTTP (http), or the socket while it is up (auto)",
  },
  publicUrl: {
    type: 'optional',
    env: ENV.publicUrl,
    shown: 'none',
    help: 'register in hosted mode at this https:// URL (an ingress to the diagnostics port, which serves the agent card and /agentspec/health): the control plane calls in, no socket is kept',
  },
  anthropicApiKey: {
    type: 'secret',
    env: 'ANTHROPIC_API_KEY',
    help: 'enables the LLM gap analysis of GET /agentspec/gap (the `analysis` field); never logged or answered',
  },
  anthropicBaseUrl: {
    type: 'optional',
    env: 'ANTHROPIC_BASE_URL',
    shown: 'https://api.anthropic.com',
    help: 'the Messages API base URL (a gateway or proxy)',
  },
  llmModel: {
    type: 'string',
    env: 'AGENTSPEC_LLM_MODEL',
    default: 'claude-sonnet-4-5',
    help: 'the model the gap analysis asks',
  },
  llmRefreshMinutes: {
    type: 'int',
    env: 'AGENTSPEC_LLM_REFRESH_MINUTES',
    default: 60,
    min: 1,
    max: 10_080,
    help: "a manifest's analysis (or its failure) is kept this long before the model is asked again",
  },
  llmTimeoutSeconds: {
    type: 'int',
    env: 'AGENTSPEC_LLM_TIMEOUT_SECONDS',
    default: 30,
    min: 1,
    max: 600,
    help: 'how long GET /agentspec/gap waits for the model before answering with the static analysis',
  },
  logLevel: { type: 'string', env: 'LOG_LEVEL', default: 'info', help: 'JSON logs; the admin key never appears' },
} as const satisfies SettingsTable;

/** Reads the environment; the first problem ends the start with the message seed 001 documents. */
export function loadSidecarConfig(env: NodeJS.ProcessEnv = process.env): SidecarConfig {
  // Seed 001's default: the agent in the same pod on port 8000.
  const raw = env['UPSTREAM_URL'] || SETTINGS.upstreamUrl.default;
  let upstreamUrl: URL | undefined;
  try {
    upstreamUrl = new URL(raw);
  } catch {
    upstreamUrl = undefined;
  }
  if (!upstreamUrl || (upstreamUrl.protocol !== 'http:' && upstreamUrl.protocol !== 'https:')) {
    throw new SidecarConfigError(`Invalid UPSTREAM_URL: "${raw}" — must use http: or https: protocol`);
  }
  const int = (row: { env: string; default: number; min: number; max: number }): number => {
    const { env: name, default: fallback, min, max } = row;
    const value = env[name];
    if (value === undefined || value === '') return fallback;
    if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
      throw new SidecarConfigError(`Invalid ${name}: "${value}" — must be an integer from ${min} to ${max}`);
    }
    return Number(value);
  };
  const mode = env['OPA_PROXY_MODE'] || SETTINGS.opaProxyMode.default;
  if (mode !== 'track' && mode !== 'enforce' && mode !== 'off') {
    throw new SidecarConfigError(`Invalid OPA_PROXY_MODE: "${mode}" — must be track, enforce or off`);
  }
  const layout = env['OPA_POLICY_LAYOUT'] || SETTINGS.opaPolicyLayout.default;
  if (!(OPA_POLICY_LAYOUTS as readonly string[]).includes(layout)) {
    throw new SidecarConfigError(`Invalid OPA_POLICY_LAYOUT: "${layout}" — must be auto, agentspec or upstream`);
  }
  const anthropicKey = env['ANTHROPIC_API_KEY'] || undefined;
  const anthropicBaseUrl = env['ANTHROPIC_BASE_URL'] || undefined;
  if (anthropicBaseUrl && !/^https?:\/\/[^/]/.test(anthropicBaseUrl)) {
    throw new SidecarConfigError(
      `Invalid ANTHROPIC_BASE_URL: "${anthropicBaseUrl}" — must use http: or https: protocol`,
    );
  }
  const opaUrl = env['OPA_URL'] || undefined;
  if (opaUrl && !/^https?:\/\/[^/]/.test(opaUrl)) {
    throw new SidecarConfigError(`Invalid OPA_URL: "${opaUrl}" — must use http: or https: protocol`);
  }
  return {
    upstreamUrl,
    manifestPath: env['MANIFEST_PATH'] || SETTINGS.manifestPath.default,
    proxyPort: int(SETTINGS.proxyPort),
    controlPlanePort: int(SETTINGS.controlPlanePort),
    auditRingSize: int(SETTINGS.auditRingSize),
    opaUrl: opaUrl?.replace(/\/+$/, ''),
    opaProxyMode: mode,
    opaPolicyLayout: layout as OpaPolicyLayout,
    llm: anthropicKey
      ? {
          apiKey: anthropicKey,
          ...(anthropicBaseUrl ? { baseUrl: anthropicBaseUrl } : {}),
          model: env['AGENTSPEC_LLM_MODEL'] || SETTINGS.llmModel.default,
          refreshMinutes: int(SETTINGS.llmRefreshMinutes),
          timeoutSeconds: int(SETTINGS.llmTimeoutSeconds),
        }
      : undefined,
    logLevel: env['LOG_LEVEL'] || SETTINGS.logLevel.default,
  };
}
