// @agentspec/sdk public API.
export * from './manifest/schema.js';
export { referenceProblem, REFERENCE_FUNCTIONS } from './manifest/refs.js';
export {
  resolveRef,
  secretEnvName,
  type ResolvedReference,
  type ResolveOptions,
  type ReferenceKind,
} from './manifest/resolve-ref.js';
export { ManifestError, formatIssue, formatPath, toManifestIssues, type ManifestIssue } from './manifest/errors.js';
export {
  loadManifest,
  parseManifest,
  parseManifestText,
  agentResourceToManifest,
  type AgentManifest,
  type LoadedManifest,
  type ParseOptions,
} from './manifest/load.js';
export { runAudit, type AuditOptions } from './audit/run-audit.js';
export { AUDIT_RULES, SEVERITY_WEIGHT, type AuditRule, type Severity } from './audit/rules.js';
export { gradeFor, type Grade } from './audit/grade.js';
export type { AuditResult, AuditViolation, PackResult, CompliancePack } from './audit/types.js';
export { generateAgentCrd, toStructural } from './crd/generate-crd.js';
export { renderAgentCrd } from './crd/render-crd.js';
export {
  agentStatusSchema,
  conditionSchema,
  CONDITION_TYPES,
  type AgentStatus,
  type AgentCondition,
} from './crd/status-schema.js';
export { convertToAgentResource, type ConvertOptions } from './manifest/convert.js';
export { runCli, EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, type CliIo } from './cli/agentspec.js';
export {
  summarize,
  type HealthReport,
  type HealthCheck,
  type CheckStatus,
  type CheckSeverity,
  type CheckCategory,
  type HealthStatus,
} from './health/types.js';
export { runHealthChecks, envReferences, type HealthCheckOptions } from './health/checks.js';
export {
  MODEL_ENDPOINTS,
  modelEndpointFor,
  modelEndpointEnvName,
  type ModelEndpoint,
} from './health/model-endpoints.js';
export { parseEndpoint, type Endpoint } from './health/endpoint.js';
export {
  AgentSpecReporter,
  agentSpecExpressRouter,
  agentSpecFastifyPlugin,
  HEALTH_PATH,
  type AgentSpecReporterOptions,
} from './health/reporter.js';
export { startPushMode, stopPushMode, isPushModeActive, type PushModeOptions } from './push/push-mode.js';
export { buildPushPayload, MAX_PAYLOAD_BYTES, type PushPayload } from './push/payload.js';
export { redact } from './push/redact.js';
export {
  backoffDelay,
  parseRetryAfter,
  isRetryableStatus,
  sendWithRetry,
  RequestFailedError,
  type BackoffOptions,
} from './push/retry.js';
export {
  ControlPlaneClient,
  ControlPlaneError,
  RUNTIMES,
  type Runtime,
  type RegisterRequest,
  type RegisterResponse,
  type HeartbeatBody,
  type ControlPlaneClientOptions,
  type ProbeResponse,
  type AgentSummary,
  type AgentProblem,
  type FleetEvent,
} from './control-plane/client.js';
export { EventStream, type EventStreamOptions } from './control-plane/event-stream.js';
export { refreshTime, controlPlaneUrlFor, REFRESH_AT_FRACTION } from './control-plane/token-lifetime.js';
export {
  AutoRegistration,
  autoRegistrationConfig,
  type AutoRegistrationConfig,
  type AutoRegistrationOptions,
  type AutoRegistrationStatus,
} from './control-plane/auto-register.js';
export * from './k8s/contract.js';
export {
  buildWorkload,
  buildDeployment,
  buildService,
  buildNetworkPolicy,
  buildManifestConfigMap,
  manifestConfigMapName,
  renderAgentYaml,
  WorkloadError,
  DEFAULT_SIDECAR_RESOURCES,
  type WorkloadInput,
  type K8sObject,
  type ObjectMeta,
  type OwnerReference,
} from './k8s/workload.js';
export { generate, agentSpecOf, type GenerateOptions } from './cli/generate.js';
export { findReferences, type ReferenceUse } from './manifest/references.js';
export { manifestWarnings, type ManifestWarning } from './manifest/warnings.js';
export { redisPing, postgresPing, tcpProbe } from './health/probes.js';
export { findJsonProblem, textProblem, MAX_JSON_DEPTH, type JsonProblem } from './json/json-problem.js';
export {
  AgentDisconnectedError,
  ConnectedChannel,
  connectUrlFor,
  reconnectSpreadFor,
  transportFrom,
  type ConnectedChannelOptions,
  type ConnectedResult,
  type Transport,
} from './control-plane/connected.js';
export {
  agentSpecMiddleware,
  confirmUser,
  currentBehaviour,
  currentRequestId,
  recordGuardrail,
  recordToolCall,
} from './behaviour/middleware.js';
export { SidecarClient, type BehaviourEvent } from './behaviour/sidecar-client.js';
