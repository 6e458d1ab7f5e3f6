import { findReferences, resolveRef, secretEnvName, type AgentManifest, type HealthCheck } from '@agentspec/sdk';

/**
 * Seed 002's manifest-static `$secret:` check: for each secret the manifest references, whether the secret backend
 * the sidecar can see provides it (`AGENTSPEC_SECRET_<NAME>`, or a file in AGENTSPEC_SECRETS_DIR, default
 * /var/run/secrets/agentspec, as a mounted Secret gives). Severity warning: the agent container may get it another way.
 */
export function secretChecks(manifest: AgentManifest, env: NodeJS.ProcessEnv, baseDir: string): HealthCheck[] {
  return findReferences(manifest)
    .filter((r) => r.kind === 'secret')
    .map((r) => {
      const resolved = resolveRef(`$secret:${r.target}`, { env, baseDir });
      const dir = env['AGENTSPEC_SECRETS_DIR'] ?? '/var/run/secrets/agentspec';
      return resolved.value !== undefined
        ? { id: `secret:${r.target}`, category: 'env', status: 'pass', severity: 'warning' }
        : {
            id: `secret:${r.target}`,
            category: 'env',
            status: 'fail',
            severity: 'warning',
            message: `secret ${r.target} (used by ${r.field}) is not available to the sidecar`,
            remediation: `Mount the Secret holding it at ${dir}/${r.target}, or set ${secretEnvName(r.target)}.`,
          };
    });
}
