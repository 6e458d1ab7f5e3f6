import { ENV } from '@agentspec/sdk';
import {
  KUBE_COMMAND_SETTINGS,
  readSettings,
  settingsHelp,
  SettingsError,
  type SettingsTable,
  type SettingsValues,
} from '@agentspec/service-kit';

export interface WebhookConfig {
  port: number;
  healthPort: number;
  controlPlaneUrl: string;
  /** Never touched, whatever their labels. */
  excludedNamespaces: string[];
  tls:
    | { mode: 'files'; certDir: string }
    | {
        mode: 'rotator';
        namespace: string;
        secretName: string;
        webhookConfigurationName: string;
        serviceName: string;
        extraHosts: string[];
        validitySeconds: number;
        renewBeforeSeconds: number;
        checkIntervalSeconds: number;
      };
  kubeconfig: string | undefined;
  logLevel: string;
}

export class WebhookConfigError extends SettingsError {
  constructor(problems: string[]) {
    super(problems, 'webhook configuration');
    this.name = 'WebhookConfigError';
  }
}

const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'];

/** Every setting, written once: the reader, --help and the table in docs/webhook.md are made from these rows. */
export const SETTINGS = {
  port: {
    type: 'int',
    flag: 'port',
    env: 'PORT',
    default: 8443,
    min: 0,
    max: 65_535,
    help: 'HTTPS port of POST /mutate',
  },
  healthPort: {
    type: 'int',
    flag: 'health-port',
    env: 'HEALTH_PORT',
    default: 8081,
    min: 0,
    max: 65_535,
    help: 'HTTP port of /healthz, /readyz and /metrics',
  },
  controlPlaneUrl: {
    type: 'optional',
    flag: 'control-plane-url',
    env: ENV.controlPlaneUrl,
    shown: '(required)',
    help: 'the URL injected into pods',
  },
  excludeNamespaces: {
    type: 'list',
    flag: 'exclude-namespaces',
    env: 'EXCLUDE_NAMESPACES',
    shown: `${SYSTEM_NAMESPACES.join(',')} + POD_NAMESPACE`,
    help: 'never touched',
  },
  tlsMode: {
    type: 'string',
    flag: 'tls-mode',
    env: 'TLS_MODE',
    default: 'rotator',
    values: ['rotator', 'files'],
    help: 'rotator (built-in) or files (cert-manager)',
  },
  certDir: {
    type: 'string',
    flag: 'cert-dir',
    env: 'CERT_DIR',
    default: '/tls',
    help: 'files mode: directory with tls.crt and tls.key',
  },
  namespace: {
    type: 'string',
    flag: 'namespace',
    env: 'POD_NAMESPACE',
    default: 'default',
    help: "rotator: the webhook's namespace (Secret, Service)",
  },
  secretName: {
    type: 'string',
    flag: 'secret-name',
    env: 'TLS_SECRET_NAME',
    default: 'agentspec-webhook-tls',
    help: 'rotator: Secret holding the CA and certificate',
  },
  webhookConfigurationName: {
    type: 'string',
    flag: 'webhook-configuration',
    env: 'WEBHOOK_CONFIGURATION_NAME',
    default: 'agentspec-webhook',
    help: 'rotator: MutatingWebhookConfiguration whose caBundle it keeps',
  },
  serviceName: {
    type: 'string',
    flag: 'service-name',
    env: 'SERVICE_NAME',
    default: 'agentspec-webhook',
    help: 'rotator: Service whose DNS names the certificate holds',
  },
  extraHosts: {
    type: 'list',
    flag: 'cert-extra-hosts',
    env: 'CERT_EXTRA_HOSTS',
    shown: '(none)',
    help: 'rotator: more DNS names or IPs, comma-separated',
  },
  validitySeconds: {
    type: 'int',
    flag: 'cert-validity-seconds',
    env: 'CERT_VALIDITY_SECONDS',
    default: 31_536_000,
    min: 10,
    max: 315_360_000,
    help: 'rotator: lifetime of a certificate (1 year)',
  },
  renewBeforeSeconds: {
    type: 'int',
    flag: 'cert-renew-before-seconds',
    env: 'CERT_RENEW_BEFORE_SECONDS',
    default: 7_776_000,
    min: 1,
    max: 315_360_000,
    help: 'rotator: renew when less is left (90 days)',
  },
  checkIntervalSeconds: {
    type: 'int',
    flag: 'cert-check-interval-seconds',
    env: 'CERT_CHECK_INTERVAL_SECONDS',
    default: 60,
    min: 1,
    max: 86_400,
    help: 'rotator: how often it checks',
  },
  ...KUBE_COMMAND_SETTINGS,
} as const satisfies SettingsTable;

export function helpText(): string {
  return settingsHelp('injects control-plane registration into agent pods', 'agentspec-webhook', SETTINGS);
}

export function loadWebhookConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): WebhookConfig {
  let s: SettingsValues<typeof SETTINGS>;
  try {
    s = readSettings(SETTINGS, argv, env, 'webhook configuration', (v, problems) => {
      if (!/^https?:\/\/[^/]/.test(v.controlPlaneUrl ?? '')) {
        const got = v.controlPlaneUrl ? `, got "${v.controlPlaneUrl}"` : '';
        problems.push(
          `--control-plane-url (${ENV.controlPlaneUrl}) must be the control plane's http:// or https:// URL${got}`,
        );
      }
      if (v.renewBeforeSeconds >= v.validitySeconds) {
        problems.push('--cert-renew-before-seconds must be less than --cert-validity-seconds');
      }
    });
  } catch (err) {
    if (err instanceof SettingsError) throw new WebhookConfigError(err.problems);
    throw err;
  }
  const { certDir, tlsMode, excludeNamespaces, extraHosts, ...rotator } = s;
  return {
    port: s.port,
    healthPort: s.healthPort,
    controlPlaneUrl: s.controlPlaneUrl ?? '',
    excludedNamespaces: excludeNamespaces ?? [
      ...SYSTEM_NAMESPACES,
      ...(env['POD_NAMESPACE'] ? [env['POD_NAMESPACE']] : []),
    ],
    tls:
      tlsMode === 'files'
        ? { mode: 'files', certDir }
        : {
            mode: 'rotator',
            namespace: rotator.namespace,
            secretName: rotator.secretName,
            webhookConfigurationName: rotator.webhookConfigurationName,
            serviceName: rotator.serviceName,
            extraHosts: extraHosts ?? [],
            validitySeconds: rotator.validitySeconds,
            renewBeforeSeconds: rotator.renewBeforeSeconds,
            checkIntervalSeconds: rotator.checkIntervalSeconds,
          },
    kubeconfig: s.kubeconfig,
    logLevel: s.logLevel,
  };
}
