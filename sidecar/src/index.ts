export { loadSidecarConfig, SETTINGS, SidecarConfigError, type SidecarConfig } from './config.js';
export { AuditRing, type AuditEntry } from './audit-ring.js';
export {
  evaluateOpa,
  OpaClient,
  OPA_DENY_PATH,
  OPA_POLICY_LAYOUTS,
  upstreamDenyPath,
  upstreamOpaInput,
  type OpaFacts,
  type OpaInput,
  type OpaPolicyLayout,
} from './opa.js';
export { gapReport, SEVERITY_DEDUCTION, type GapIssue, type GapReport, type Source } from './gap.js';
export { createProxyServer, type ProxyOptions } from './proxy.js';
export { Diagnostics, createDiagnosticsApp, type DiagnosticsOptions, type ReadyReport } from './diagnostics.js';
export { startSidecar, createSidecarLogger, type RunningSidecar } from './sidecar.js';
