#!/usr/bin/env node
// agentspec-webhook [flags]: the mutating admission webhook, until SIGTERM.
import { KubeConfig } from '@kubernetes/client-node';
import { CertificateRotator, FileCertificates, type CertificateSource } from '../certificates.js';
import { createServiceLogger, printedHelp, runCommand, stopOnSignal } from '@agentspec/service-kit';
import { helpText, loadWebhookConfig } from '../config.js';
import { startWebhook } from '../server.js';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (printedHelp(args, helpText())) return 0;
  const config = loadWebhookConfig(args);
  const logger = createServiceLogger({ component: 'agentspec-webhook', level: config.logLevel });
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
  return stopOnSignal(webhook.stop, (signal) => logger.info({ signal }, 'shutting down'));
}

runCommand('agentspec-webhook', main, helpText);
