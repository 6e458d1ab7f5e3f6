import { hostname } from 'node:os';
import { DEFAULT_SIDECAR_IMAGE, ENV, REGISTRATION_SECRET } from '@agentspec/sdk';
import {
  KUBE_COMMAND_SETTINGS,
  readSettings,
  setting,
  settingsHelp,
  settingsErrorClass,
  type SettingsTable,
  type SettingsValues,
} from '@agentspec/service-kit';

export const OperatorConfigError = settingsErrorClass('OperatorConfigError', 'operator configuration');
export type OperatorConfigError = InstanceType<typeof OperatorConfigError>;

const ADDR = /^[^:]*:\d{1,5}$/;

/**
 * The operator's configuration: every setting of the table below, the Lease's namespace resolved (its own setting, or
 * the release namespace, or default) and this process's identity among the candidates.
 */
export type OperatorConfig = Omit<SettingsValues<typeof SETTINGS>, 'leaderElectionNamespace'> & {
  leaderElectionNamespace: string;
  /** Pod name plus a random suffix, unique among candidates. */
  identity: string;
};

/** Every setting, written once: the reader, --help and the table in docs/operator.md are made from these rows. */
export const SETTINGS = {
  namespace: setting.optional('namespace', 'WATCH_NAMESPACE', '(all namespaces)', 'watch only this namespace'),
  controlPlaneUrl: setting.optional(
    'control-plane-url',
    ENV.controlPlaneUrl,
    '(none)',
    'control plane for status, finalizer and deregistration',
  ),
  adminKey: setting.secret(ENV.adminKey, "the control plane's admin key (environment only)"),
  healthAddr: setting.string('health-addr', 'HEALTH_ADDR', ':8081', '/healthz and /readyz; 0 turns them off'),
  metricsAddr: setting.string('metrics-addr', 'METRICS_ADDR', ':8080', '/metrics; 0 turns it off'),
  workers: setting.int('workers', 'WORKERS', 4, [1, 256], 'Agents reconciled at the same time'),
  leaderElect: setting.bool('leader-elect', 'LEADER_ELECT', true, 'leader election on a Lease (true|false)'),
  leaderElectionNamespace: setting.optional(
    'leader-election-namespace',
    'LEADER_ELECTION_NAMESPACE',
    'POD_NAMESPACE or default',
    'namespace of the Lease',
  ),
  leaderElectionId: setting.string(
    'leader-election-id',
    'LEADER_ELECTION_ID',
    'agentspec-operator',
    'name of the Lease',
  ),
  releaseNamespace: setting.optional(
    'release-namespace',
    'POD_NAMESPACE',
    '(none)',
    'where the Secret holding the admin key lives (each agent namespace gets its registration key from it)',
  ),
  networkPolicies: setting.bool(
    'network-policies',
    'AGENTSPEC_NETWORK_POLICIES',
    false,
    "per Agent, a NetworkPolicy: the sidecar's proxy port open, its diagnostics port only from the release namespace",
  ),
  sourceSecret: setting.string(
    'source-secret',
    'AGENTSPEC_SOURCE_SECRET',
    REGISTRATION_SECRET,
    "the release namespace's Secret with the admin key (key apiKey): the chart's, or controlPlane.existingSecret",
  ),
  sidecarImage: setting.string(
    'sidecar-image',
    'AGENTSPEC_SIDECAR_IMAGE',
    DEFAULT_SIDECAR_IMAGE,
    'sidecar image for Agents that name none',
  ),
  resyncSeconds: setting.int(
    'resync-seconds',
    'RESYNC_SECONDS',
    600,
    [0, 86_400],
    'every cached Agent is reconciled again this often',
  ),
  controlPlaneResyncSeconds: setting.int(
    'control-plane-resync-seconds',
    'CONTROL_PLANE_RESYNC_SECONDS',
    300,
    [1, 86_400],
    "how often every agent's figures are read again (the safety net under the event stream)",
  ),
  deregisterTimeoutSeconds: setting.int(
    'deregister-timeout-seconds',
    'DEREGISTER_TIMEOUT_SECONDS',
    60,
    [0, 3_600],
    'finalizer gives up deregistering after this',
  ),
  ...KUBE_COMMAND_SETTINGS,
} as const satisfies SettingsTable;

export function helpText(): string {
  return settingsHelp('reconciles agentspec.io/v1 Agent resources', 'agentspec-operator', SETTINGS);
}

/** The checks that span settings. */
function checkOperatorSettings(v: SettingsValues<typeof SETTINGS>, problems: string[]): void {
  for (const [key, flag] of [
    ['healthAddr', 'health-addr'],
    ['metricsAddr', 'metrics-addr'],
  ] as const) {
    const { env: name } = SETTINGS[key];
    if (v[key] !== '0' && !ADDR.test(v[key]))
      problems.push(`--${flag} (${name}) must be host:port, :port or 0, got "${v[key]}"`);
  }
  if (v.controlPlaneUrl !== undefined && !/^https?:\/\/[^/]/.test(v.controlPlaneUrl)) {
    problems.push(`--control-plane-url (${ENV.controlPlaneUrl}) must be an http:// or https:// URL`);
  }
  if (v.networkPolicies && !v.releaseNamespace) {
    problems.push('--network-policies (AGENTSPEC_NETWORK_POLICIES) needs --release-namespace (POD_NAMESPACE)');
  }
  if (v.controlPlaneUrl && !v.adminKey) {
    problems.push(`${ENV.adminKey} must be set when a control plane URL is configured (the read API needs it)`);
  }
}

/** Flags win over the environment; every problem is reported at once, naming the flag. */
export function loadOperatorConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const s = readSettings(SETTINGS, { argv, env, validate: checkOperatorSettings, error: OperatorConfigError });
  return {
    ...s,
    leaderElectionNamespace: s.leaderElectionNamespace ?? s.releaseNamespace ?? 'default',
    identity: `${env['POD_NAME'] ?? hostname()}_${Math.random().toString(36).slice(2, 10)}`,
  };
}
