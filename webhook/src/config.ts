import { formatSettingsHelp, SettingsReader, SettingsError } from '@agentspec/sdk';

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

/** Flag, environment variable, default, meaning: the --help text and the table in docs/webhook.md. */
export const SETTINGS = [
  ['port', 'PORT', '8443', 'HTTPS port of POST /mutate'],
  ['health-port', 'HEALTH_PORT', '8081', 'HTTP port of /healthz, /readyz and /metrics'],
  ['control-plane-url', 'AGENTSPEC_CONTROL_PLANE_URL', '(required)', 'the URL injected into pods'],
  [
    'exclude-namespaces',
    'EXCLUDE_NAMESPACES',
    'kube-system,kube-public,kube-node-lease + POD_NAMESPACE',
    'never touched',
  ],
  ['tls-mode', 'TLS_MODE', 'rotator', 'rotator (built-in) or files (cert-manager)'],
  ['cert-dir', 'CERT_DIR', '/tls', 'files mode: directory with tls.crt and tls.key'],
  ['namespace', 'POD_NAMESPACE', 'default', "rotator: the webhook's namespace (Secret, Service)"],
  ['secret-name', 'TLS_SECRET_NAME', 'agentspec-webhook-tls', 'rotator: Secret holding the CA and certificate'],
  [
    'webhook-configuration',
    'WEBHOOK_CONFIGURATION_NAME',
    'agentspec-webhook',
    'rotator: MutatingWebhookConfiguration whose caBundle it keeps',
  ],
  ['service-name', 'SERVICE_NAME', 'agentspec-webhook', 'rotator: Service whose DNS names the certificate holds'],
  ['cert-extra-hosts', 'CERT_EXTRA_HOSTS', '(none)', 'rotator: more DNS names or IPs, comma-separated'],
  ['cert-validity-seconds', 'CERT_VALIDITY_SECONDS', '31536000', 'rotator: lifetime of a certificate (1 year)'],
  ['cert-renew-before-seconds', 'CERT_RENEW_BEFORE_SECONDS', '7776000', 'rotator: renew when less is left (90 days)'],
  ['cert-check-interval-seconds', 'CERT_CHECK_INTERVAL_SECONDS', '60', 'rotator: how often it checks'],
  ['kubeconfig', 'KUBECONFIG', '(in-cluster, then ~/.kube/config)', 'kubeconfig file (rotator)'],
  ['log-level', 'LOG_LEVEL', 'info', 'pino log level'],
] as const;

export function helpText(): string {
  return formatSettingsHelp('injects control-plane registration into agent pods', 'agentspec-webhook', SETTINGS);
}

export function loadWebhookConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): WebhookConfig {
  // An unknown flag is a SettingsError at once; every other problem is collected, then thrown together.
  const settings = SettingsReader.parse(
    argv,
    SETTINGS.map(([flag]) => flag),
    env,
    'webhook configuration',
  );
  const problems = settings.problems;
  const get = settings.get.bind(settings);
  const int = settings.int.bind(settings);
  const list = (flag: string, name: string): string[] => settings.list(flag, name) ?? [];
  const controlPlaneUrl = get('control-plane-url', 'AGENTSPEC_CONTROL_PLANE_URL') ?? '';
  if (!/^https?:\/\/[^/]/.test(controlPlaneUrl)) {
    problems.push(
      `--control-plane-url (AGENTSPEC_CONTROL_PLANE_URL) must be the control plane's http:// or https:// URL${controlPlaneUrl ? `, got "${controlPlaneUrl}"` : ''}`,
    );
  }
  const namespace = get('namespace', 'POD_NAMESPACE') ?? 'default';
  const excluded = settings.list('exclude-namespaces', 'EXCLUDE_NAMESPACES');
  const excludedNamespaces = excluded
    ? excluded
    : ['kube-system', 'kube-public', 'kube-node-lease', ...(env['POD_NAMESPACE'] ? [env['POD_NAMESPACE']] : [])];
  const mode = get('tls-mode', 'TLS_MODE') ?? 'rotator';
  if (mode !== 'rotator' && mode !== 'files')
    problems.push(`--tls-mode (TLS_MODE) must be rotator or files, got "${mode}"`);
  const validitySeconds = int('cert-validity-seconds', 'CERT_VALIDITY_SECONDS', 31_536_000, 10, 315_360_000);
  const renewBeforeSeconds = int('cert-renew-before-seconds', 'CERT_RENEW_BEFORE_SECONDS', 7_776_000, 1, 315_360_000);
  if (renewBeforeSeconds >= validitySeconds) {
    problems.push('--cert-renew-before-seconds must be less than --cert-validity-seconds');
  }
  const config: WebhookConfig = {
    port: int('port', 'PORT', 8443, 0, 65_535),
    healthPort: int('health-port', 'HEALTH_PORT', 8081, 0, 65_535),
    controlPlaneUrl,
    excludedNamespaces,
    tls:
      mode === 'files'
        ? { mode: 'files', certDir: get('cert-dir', 'CERT_DIR') ?? '/tls' }
        : {
            mode: 'rotator',
            namespace,
            secretName: get('secret-name', 'TLS_SECRET_NAME') ?? 'agentspec-webhook-tls',
            webhookConfigurationName: get('webhook-configuration', 'WEBHOOK_CONFIGURATION_NAME') ?? 'agentspec-webhook',
            serviceName: get('service-name', 'SERVICE_NAME') ?? 'agentspec-webhook',
            extraHosts: list('cert-extra-hosts', 'CERT_EXTRA_HOSTS'),
            validitySeconds,
            renewBeforeSeconds,
            checkIntervalSeconds: int('cert-check-interval-seconds', 'CERT_CHECK_INTERVAL_SECONDS', 60, 1, 86_400),
          },
    kubeconfig: get('kubeconfig', 'KUBECONFIG'),
    logLevel: get('log-level', 'LOG_LEVEL') ?? 'info',
  };
  if (problems.length) throw new WebhookConfigError(problems);
  return config;
}
