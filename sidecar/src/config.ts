/** The sidecar's settings (seed 001): environment only. */
export interface SidecarConfig {
  upstreamUrl: URL;
  manifestPath: string;
  proxyPort: number;
  controlPlanePort: number;
  auditRingSize: number;
  opaUrl: string | undefined;
  opaProxyMode: 'track' | 'enforce' | 'off';
  logLevel: string;
}

export class SidecarConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SidecarConfigError';
  }
}

/** Reads the environment; the first problem ends the start with the message seed 001 documents. */
export function loadSidecarConfig(env: NodeJS.ProcessEnv = process.env): SidecarConfig {
  const raw = env['UPSTREAM_URL'];
  if (raw === undefined || raw === '') {
    throw new SidecarConfigError("UPSTREAM_URL is required: the agent's base HTTP URL, e.g. http://localhost:8000");
  }
  let upstreamUrl: URL | undefined;
  try {
    upstreamUrl = new URL(raw);
  } catch {
    upstreamUrl = undefined;
  }
  if (!upstreamUrl || (upstreamUrl.protocol !== 'http:' && upstreamUrl.protocol !== 'https:')) {
    throw new SidecarConfigError(`Invalid UPSTREAM_URL: "${raw}" — must use http: or https: protocol`);
  }
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const value = env[name];
    if (value === undefined || value === '') return fallback;
    if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
      throw new SidecarConfigError(`Invalid ${name}: "${value}" — must be an integer from ${min} to ${max}`);
    }
    return Number(value);
  };
  const mode = env['OPA_PROXY_MODE'] || 'track';
  if (mode !== 'track' && mode !== 'enforce' && mode !== 'off') {
    throw new SidecarConfigError(`Invalid OPA_PROXY_MODE: "${mode}" — must be track, enforce or off`);
  }
  const opaUrl = env['OPA_URL'] || undefined;
  if (opaUrl && !/^https?:\/\/[^/]/.test(opaUrl)) {
    throw new SidecarConfigError(`Invalid OPA_URL: "${opaUrl}" — must use http: or https: protocol`);
  }
  return {
    upstreamUrl,
    manifestPath: env['MANIFEST_PATH'] || '/manifest/agent.yaml',
    proxyPort: int('PROXY_PORT', 4000, 0, 65_535),
    controlPlanePort: int('CONTROL_PLANE_PORT', 4001, 0, 65_535),
    auditRingSize: int('AUDIT_RING_SIZE', 1000, 1, 1_000_000),
    opaUrl: opaUrl?.replace(/\/+$/, ''),
    opaProxyMode: mode,
    logLevel: env['LOG_LEVEL'] || 'info',
  };
}
