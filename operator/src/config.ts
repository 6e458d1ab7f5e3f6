import { hostname } from 'node:os';
import { DEFAULT_SIDECAR_IMAGE, ENV, REGISTRATION_SECRET } from '@agentspec/sdk';
import {
  KUBE_COMMAND_SETTINGS,
  readSettings,
  settingsHelp,
  SettingsError,
  type SettingsTable,
} from '@agentspec/service-kit';

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

const ADDR = /^[^:]*:\d{1,5}$/;

/** Every setting, written once: the reader, --help and the table in docs/operator.md are made from these rows. */
export const SETTINGS = {
  namespace: {
    type: 'optional',
    flag: 'namespace',
    env: 'WATCH_NAMESPACE',
    shown: '(all namespaces)',
    help: 'watch only this namespace',
  },
  controlPlaneUrl: {
    type: 'optional',
    flag: 'control-plane-url',
    env: ENV.controlPlaneUrl,
    shown: '(none)',
    help: 'control plane for status, finalizer and deregistration',
  },
  adminKey: { type: 'secret', env: ENV.adminKey, help: "the control plane's admin key (environment only)" },
  healthAddr: {
    type: 'string',
    flag: 'health-addr',
    env: 'HEALTH_ADDR',
    default: ':8081',
    help: '/healthz and /readyz; 0 turns them off',
  },
  metricsAddr: {
    type: 'string',
    flag: 'metrics-addr',
    env: 'METRICS_ADDR',
    default: ':8080',
    help: '/metrics; 0 turns it off',
  },
  workers: {
    type: 'int',
    flag: 'workers',
    env: 'WORKERS',
    default: 4,
    min: 1,
    max: 256,
    help: 'Agents reconciled at the same time',
  },
  leaderElect: {
    type: 'bool',
    flag: 'leader-elect',
    env: 'LEADER_ELECT',
    default: true,
    help: 'leader election on a Lease (true|false)',
  },
  leaderElectionNamespace: {
    type: 'optional',
    flag: 'leader-election-namespace',
    env: 'LEADER_ELECTION_NAMESPACE',
    shown: 'POD_NAMESPACE or default',
    help: 'namespace of the Lease',
  },
  leaderElectionId: {
    type: 'string',
    flag: 'leader-election-id',
    env: 'LEADER_ELECTION_ID',
    default: 'agentspec-operator',
    help: 'name of the Lease',
  },
  releaseNamespace: {
    type: 'optional',
    flag: 'release-namespace',
    env: 'POD_NAMESPACE',
    shown: '(none)',
    help: `where the ${REGISTRATION_SECRET} Secret to copy lives`,
  },
  sidecarImage: {
    type: 'string',
    flag: 'sidecar-image',
    env: 'AGENTSPEC_SIDECAR_IMAGE',
    default: DEFAULT_SIDECAR_IMAGE,
    help: 'sidecar image for Agents that name none',
  },
  resyncSeconds: {
    type: 'int',
    flag: 'resync-seconds',
    env: 'RESYNC_SECONDS',
    default: 600,
    min: 0,
    max: 86_400,
    help: 'every cached Agent is reconciled again this often',
  },
  controlPlanePollSeconds: {
    type: 'int',
    flag: 'control-plane-poll-seconds',
    env: 'CONTROL_PLANE_POLL_SECONDS',
    default: 15,
    min: 1,
    max: 3_600,
    help: 'how often the read API is polled',
  },
  deregisterTimeoutSeconds: {
    type: 'int',
    flag: 'deregister-timeout-seconds',
    env: 'DEREGISTER_TIMEOUT_SECONDS',
    default: 60,
    min: 0,
    max: 3_600,
    help: 'finalizer gives up deregistering after this',
  },
  ...KUBE_COMMAND_SETTINGS,
} as const satisfies SettingsTable;

export function helpText(): string {
  return settingsHelp('reconciles agentspec.io/v1 Agent resources', 'agentspec-operator', SETTINGS);
}

/** Flags win over the environment; every problem is reported at once, naming the flag. */
export function loadOperatorConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  try {
    const s = readSettings(SETTINGS, argv, env, 'operator configuration', (v, problems) => {
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
      if (v.controlPlaneUrl && !v.adminKey) {
        problems.push(`${ENV.adminKey} must be set when a control plane URL is configured (the read API needs it)`);
      }
    });
    return {
      ...s,
      leaderElectionNamespace: s.leaderElectionNamespace ?? s.releaseNamespace ?? 'default',
      identity: `${env['POD_NAME'] ?? hostname()}_${Math.random().toString(36).slice(2, 10)}`,
    };
  } catch (err) {
    if (err instanceof SettingsError) throw new OperatorConfigError(err.problems);
    throw err;
  }
}
