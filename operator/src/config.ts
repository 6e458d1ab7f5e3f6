import { hostname } from 'node:os';
import { DEFAULT_SIDECAR_IMAGE, formatSettingsHelp, SettingsReader, SettingsError } from '@agentspec/sdk';

export interface OperatorConfig {
  /** Watch one namespace; undefined: all. */
  namespace: string | undefined;
  controlPlaneUrl: string | undefined;
  /** From the environment only (never a flag: flags show in `ps`). */
  adminKey: string | undefined;
  /** host:port of /healthz and /readyz; "0" turns it off. */
  healthAddr: string;
  /** host:port of /metrics; "0" turns it off. */
  metricsAddr: string;
  workers: number;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  identity: string;
  /** The namespace of the chart's agentspec-control-plane Secret; undefined: no Secret copies. */
  releaseNamespace: string | undefined;
  sidecarImage: string;
  resyncSeconds: number;
  controlPlanePollSeconds: number;
  deregisterTimeoutSeconds: number;
  kubeconfig: string | undefined;
  logLevel: string;
}

export class OperatorConfigError extends SettingsError {
  constructor(problems: string[]) {
    super(problems, 'operator configuration');
    this.name = 'OperatorConfigError';
  }
}

/** Flag, environment variable, default and description of every setting (also the --help text and docs/operator.md). */
export const SETTINGS = [
  ['namespace', 'WATCH_NAMESPACE', '(all namespaces)', 'watch only this namespace'],
  [
    'control-plane-url',
    'AGENTSPEC_CONTROL_PLANE_URL',
    '(none)',
    'control plane for status, finalizer and deregistration',
  ],
  ['', 'AGENTSPEC_ADMIN_KEY', '(none)', "the control plane's admin key (environment only)"],
  ['health-addr', 'HEALTH_ADDR', ':8081', '/healthz and /readyz; 0 turns them off'],
  ['metrics-addr', 'METRICS_ADDR', ':8080', '/metrics; 0 turns it off'],
  ['workers', 'WORKERS', '4', 'Agents reconciled at the same time'],
  ['leader-elect', 'LEADER_ELECT', 'true', 'leader election on a Lease (true|false)'],
  ['leader-election-namespace', 'LEADER_ELECTION_NAMESPACE', 'POD_NAMESPACE or default', 'namespace of the Lease'],
  ['leader-election-id', 'LEADER_ELECTION_ID', 'agentspec-operator', 'name of the Lease'],
  ['release-namespace', 'POD_NAMESPACE', '(none)', 'where the agentspec-control-plane Secret to copy lives'],
  ['sidecar-image', 'AGENTSPEC_SIDECAR_IMAGE', DEFAULT_SIDECAR_IMAGE, 'sidecar image for Agents that name none'],
  ['resync-seconds', 'RESYNC_SECONDS', '600', 'every cached Agent is reconciled again this often'],
  ['control-plane-poll-seconds', 'CONTROL_PLANE_POLL_SECONDS', '15', 'how often the read API is polled'],
  ['deregister-timeout-seconds', 'DEREGISTER_TIMEOUT_SECONDS', '60', 'finalizer gives up deregistering after this'],
  ['kubeconfig', 'KUBECONFIG', '(in-cluster, then ~/.kube/config)', 'kubeconfig file'],
  ['log-level', 'LOG_LEVEL', 'info', 'pino log level'],
] as const;

export function helpText(): string {
  return formatSettingsHelp('reconciles agentspec.io/v1 Agent resources', 'agentspec-operator', SETTINGS);
}

/** Flags win over the environment; every problem is reported at once, naming the flag. */
export function loadOperatorConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  // An unknown flag is a SettingsError at once; every other problem is collected, then thrown together.
  const settings = SettingsReader.parse(
    argv,
    SETTINGS.filter(([flag]) => flag).map(([flag]) => flag),
    env,
    'operator configuration',
  );
  const problems = settings.problems;
  const get = settings.get.bind(settings);
  const int = settings.int.bind(settings);
  const bool = settings.bool.bind(settings);
  const addr = (flag: string, name: string, fallback: string): string => {
    const raw = get(flag, name) ?? fallback;
    if (raw !== '0' && !/^[^:]*:\d{1,5}$/.test(raw)) {
      problems.push(`--${flag} (${name}) must be host:port, :port or 0, got "${raw}"`);
      return fallback;
    }
    return raw;
  };
  const controlPlaneUrl = get('control-plane-url', 'AGENTSPEC_CONTROL_PLANE_URL');
  if (controlPlaneUrl !== undefined && !/^https?:\/\/[^/]/.test(controlPlaneUrl)) {
    problems.push(`--control-plane-url (AGENTSPEC_CONTROL_PLANE_URL) must be an http:// or https:// URL`);
  }
  const adminKey = env['AGENTSPEC_ADMIN_KEY'] || undefined;
  if (controlPlaneUrl && !adminKey) {
    problems.push('AGENTSPEC_ADMIN_KEY must be set when a control plane URL is configured (the read API needs it)');
  }
  const releaseNamespace = get('release-namespace', 'POD_NAMESPACE');
  const config: OperatorConfig = {
    namespace: get('namespace', 'WATCH_NAMESPACE'),
    controlPlaneUrl,
    adminKey,
    healthAddr: addr('health-addr', 'HEALTH_ADDR', ':8081'),
    metricsAddr: addr('metrics-addr', 'METRICS_ADDR', ':8080'),
    workers: int('workers', 'WORKERS', 4, 1, 256),
    leaderElect: bool('leader-elect', 'LEADER_ELECT', true),
    leaderElectionNamespace:
      get('leader-election-namespace', 'LEADER_ELECTION_NAMESPACE') ?? releaseNamespace ?? 'default',
    leaderElectionId: get('leader-election-id', 'LEADER_ELECTION_ID') ?? 'agentspec-operator',
    identity: `${env['POD_NAME'] ?? hostname()}_${Math.random().toString(36).slice(2, 10)}`,
    releaseNamespace,
    sidecarImage: get('sidecar-image', 'AGENTSPEC_SIDECAR_IMAGE') ?? DEFAULT_SIDECAR_IMAGE,
    resyncSeconds: int('resync-seconds', 'RESYNC_SECONDS', 600, 0, 86_400),
    controlPlanePollSeconds: int('control-plane-poll-seconds', 'CONTROL_PLANE_POLL_SECONDS', 15, 1, 3_600),
    deregisterTimeoutSeconds: int('deregister-timeout-seconds', 'DEREGISTER_TIMEOUT_SECONDS', 60, 0, 3_600),
    kubeconfig: get('kubeconfig', 'KUBECONFIG'),
    logLevel: get('log-level', 'LOG_LEVEL') ?? 'info',
  };
  if (problems.length) throw new OperatorConfigError(problems);
  return config;
}
