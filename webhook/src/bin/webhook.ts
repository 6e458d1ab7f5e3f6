#!/usr/bin/env node
// agentspec-webhook [flags]: the mutating admission webhook, until SIGTERM.
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { CertificateRotator, FileCertificates, type CertificateSource } from '../certificates.js';
import { helpText, loadWebhookConfig, WebhookConfigError } from '../config.js';
import { startWebhook } from '../server.js';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(helpText());
    return 0;
  }
  let config;
  try {
    config = loadWebhookConfig(args);
  } catch (err) {
    if (err instanceof WebhookConfigError) {
      process.stderr.write(`agentspec-webhook: ${err.message}\n\n${helpText()}`);
      return 2;
    }
    throw err;
  }
  const logger = pino({
    level: config.logLevel,
    base: { component: 'agentspec-webhook' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
  let certificates: CertificateSource;
  if (config.tls.mode === 'files') {
    certificates = new FileCertificates(config.tls.certDir, logger);
  } else {
    const kubeConfig = new KubeConfig();
    if (config.kubeconfig) kubeConfig.loadFromFile(config.kubeconfig);
    else kubeConfig.loadFromDefault();
    const tls = config.tls;
    certificates = new CertificateRotator({
      kubeConfig,
      namespace: tls.namespace,
      secretName: tls.secretName,
      webhookConfigurationName: tls.webhookConfigurationName,
      serviceName: tls.serviceName,
      extraHosts: tls.extraHosts,
      validityMs: tls.validitySeconds * 1000,
      renewBeforeMs: tls.renewBeforeSeconds * 1000,
      checkIntervalMs: tls.checkIntervalSeconds * 1000,
      logger,
    });
  }
  logger.info(
    { tls: config.tls.mode, port: config.port, healthPort: config.healthPort },
    'starting; waiting for a certificate',
  );
  const webhook = await startWebhook({
    inject: { controlPlaneUrl: config.controlPlaneUrl, excludedNamespaces: new Set(config.excludedNamespaces) },
    certificates,
    port: config.port,
    healthPort: config.healthPort,
    logger,
  });
  logger.info(
    { url: webhook.url, health: webhook.healthUrl, excludedNamespaces: config.excludedNamespaces },
    'agentspec-webhook serving',
  );
  return new Promise<number>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        logger.info({ signal }, 'shutting down');
        void webhook.stop().then(() => resolve(0));
      });
    }
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`agentspec-webhook: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
