import { describe, expect, it } from 'vitest';
import { helpText, loadWebhookConfig, WebhookConfigError } from './config.js';

const url = { AGENTSPEC_CONTROL_PLANE_URL: 'http://agentspec-control-plane.agentspec-system:8080' };

describe('loadWebhookConfig', () => {
  it('defaults to the rotator and excludes the system namespaces plus its own', () => {
    const config = loadWebhookConfig([], { ...url, POD_NAMESPACE: 'agentspec-system' });
    expect(config.port).toBe(8443);
    expect(config.healthPort).toBe(8081);
    expect(config.excludedNamespaces).toEqual(['kube-system', 'kube-public', 'kube-node-lease', 'agentspec-system']);
    expect(config.tls).toMatchObject({
      mode: 'rotator',
      namespace: 'agentspec-system',
      secretName: 'agentspec-webhook-tls',
      webhookConfigurationName: 'agentspec-webhook',
      serviceName: 'agentspec-webhook',
      validitySeconds: 31_536_000,
      renewBeforeSeconds: 7_776_000,
    });
  });

  it('takes cert-manager files with --tls-mode=files', () => {
    expect(loadWebhookConfig(['--tls-mode=files', '--cert-dir=/certs'], url).tls).toEqual({
      mode: 'files',
      certDir: '/certs',
    });
  });

  it('names every problem: no control plane URL, bad port, renewal not before expiry', () => {
    let error: unknown;
    try {
      loadWebhookConfig(['--port=https', '--cert-validity-seconds=60', '--cert-renew-before-seconds=60'], {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WebhookConfigError);
    const problems = (error as WebhookConfigError).problems.join('\n');
    expect(problems).toContain('--control-plane-url (AGENTSPEC_CONTROL_PLANE_URL) must be');
    expect(problems).toContain('--port (PORT) must be a whole number');
    expect(problems).toContain('--cert-renew-before-seconds must be less than --cert-validity-seconds');
    expect(helpText()).toContain('--exclude-namespaces');
  });
});
