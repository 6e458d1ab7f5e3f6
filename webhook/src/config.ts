import { ENV } from '@agentspec/sdk';
import {
  type SettingsTable,
  type SettingsValues,
  KUBE_COMMAND_SETTINGS,
  setting,
  settingsErrorClass,
} from '@agentspec/service-kit';
import { readSettings, settingsHelp } from '@agentspec/service-kit';

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

export const WebhookConfigError = settingsErrorClass('WebhookConfigError', 'webhook configuration');
export type WebhookConfigError = InstanceType<typeof WebhookConfigError>;

const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'];

/** Every setting, written once: the reader, --help and the table in docs/webhook.md are made from these rows. */
export const SETTINGS = {
  port: setting.int('port', 'PORT', 8443, [0, 65_535], 'HTTPS port of POST /mutate'),
  healthPort: setting.int(
    'health-port',
    'HEALTH_PORT',
    8081,
    [0, 65_535],
    'HTTP port of /healthz, /readyz and /metrics',
  ),
  controlPlaneUrl: setting.optional(
    'control-plane-url',
    ENV.controlPlaneUrl,
    '(required)',
    'the URL injected into pods',
  ),
  excludeNamespaces: setting.list(
    'exclude-namespaces',
    'EXCLUDE_NAMESPACES',
    `${SYSTEM_NAMESPACES.join(',')} + POD_NAMESPACE`,
    'never touched',
  ),
  tlsMode: setting.string('tls-mode', 'TLS_MODE', 'rotator', 'rotator (built-in) or files (cert-manager)', [
    'rotator',
    'files',
  ]),
  certDir: setting.string('cert-dir', 'CERT_DIR', '/tls', 'files mode: directory with tls.crt and tls.key'),
  namespace: setting.string(
    'namespace',
    'POD_NAMESPACE',
    'default',
    "rotator: the webhook's namespace (Secret, Service)",
  ),
  secretName: setting.string(
    'secret-name',
    'TLS_SECRET_NAME',
    'agentspec-webhook-tls',
    'rotator: Secret holding the CA and certificate',
  ),
  webhookConfigurationName: setting.string(
    'webhook-configuration',
    'WEBHOOK_CONFIGURATION_NAME',
    'agentspec-webhook',
    'rotator: MutatingWebhookConfiguration whose caBundle it keeps',
  ),
  serviceName: setting.string(
    'service-name',
    'SERVICE_NAME',
    'agentspec-webhook',
    'rotator: Service whose DNS names the certificate holds',
  ),
  extraHosts: setting.list(
    'cert-extra-hosts',
    'CERT_EXTRA_HOSTS',
    '(none)',
    'rotator: more DNS names or IPs, comma-separated',
  ),
  validitySeconds: setting.int(
    'cert-validity-seconds',
    'CERT_VALIDITY_SECONDS',
    31_536_000,
    [10, 315_360_000],
    'rotator: lifetime of a certificate (1 year)',
  ),
  renewBeforeSeconds: setting.int(
    'cert-renew-before-seconds',
    'CERT_RENEW_BEFORE_SECONDS',
    7_776_000,
    [1, 315_360_000],
    'rotator: renew when less is left (90 days)',
  ),
  checkIntervalSeconds: setting.int(
    'cert-check-interval-seconds',
    'CERT_CHECK_INTERVAL_SECONDS',
    60,
    [1, 86_400],
    'rotator: how often it checks',
  ),
  ...KUBE_COMMAND_SETTINGS,
} as const satisfies SettingsTable;

/** The checks that span settings. */
function checkWebhookSettings(v: SettingsValues<typeof SETTINGS>, problems: string[]): void {
  if (!/^https?:\/\/[^/]/.test(v.controlPlaneUrl ?? '')) {
    const got = v.controlPlaneUrl ? `, got "${v.controlPlaneUrl}"` : '';
    problems.push(
      `--control-plane-url (${ENV.controlPlaneUrl}) must be the control plane's http:// or https:// URL${got}`,
    );
  }
  if (v.renewBeforeSeconds >= v.validitySeconds) {
    problems.push('--cert-renew-before-seconds must be less than --cert-validity-seconds');
  }
}

export function loadWebhookConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): WebhookConfig {
  const s = readSettings(SETTINGS, { argv, env, validate: checkWebhookSettings, error: WebhookConfigError });
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

export function helpText(): string {
  return settingsHelp('injects control-plane registration into agent pods', 'agentspec-webhook', SETTINGS);
}
