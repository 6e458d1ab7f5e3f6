/** Labels and annotations shared by the operator, the webhook, the CLI and the sidecar. */
export const LABEL_INJECT = 'agentspec.io/inject';
export const LABEL_AGENT_NAME = 'agentspec.io/agent-name';
export const ANNOTATION_MANIFEST_HASH = 'agentspec.io/manifest-hash';
export const SIDECAR_CONTAINER = 'agentspec-sidecar';
export const AGENT_CONTAINER = 'agent';
export const PROXY_PORT = 4000;
export const DIAGNOSTICS_PORT = 4001;
export const MANIFEST_MOUNT_DIR = '/manifest';
export const MANIFEST_FILE = 'agent.yaml';
/** The sidecar image `agentspec generate` uses by default: the release matching this SDK (never `latest`). */
export const DEFAULT_SIDECAR_IMAGE = 'ghcr.io/agentspec/sidecar:0.1.0';
