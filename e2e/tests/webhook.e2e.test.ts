// The `agentspec-webhook` command as a real process with its built-in rotator on the test cluster: it issues its
// certificate, fills in caBundle, and the apiserver calls it for a labelled Pod.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { AdmissionregistrationV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, ManagedProcess, testWebhookConfiguration, waitFor } from '../src/index.js';
import { testKubeConfig, testKubeconfigPath, testNamespace } from '../src/vitest/test-context.js';

const bin = join(resolve(import.meta.dirname, '..', '..'), 'webhook', 'dist', 'bin', 'webhook.js');
const run = promisify(execFile);
let webhook: ManagedProcess | undefined;
const configName = () => `e2e-webhook-${testNamespace()}`;
afterAll(async () => {
  await webhook?.stop();
  await testKubeConfig()
    .makeApiClient(AdmissionregistrationV1Api)
    .deleteMutatingWebhookConfiguration({ name: configName() })
    .catch(() => undefined);
});

describe('agentspec-webhook command', () => {
  it('prints its flags with --help and refuses to start without a control plane URL (status 2)', async () => {
    expect((await run(process.execPath, [bin, '--help'])).stdout).toContain('--tls-mode');
    const bad = await run(process.execPath, [bin], { env: { PATH: process.env['PATH'] } }).catch(
      (err: { code: number; stderr: string }) => err,
    );
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toContain('AGENTSPEC_CONTROL_PLANE_URL');
  });

  it('issues its certificate, sets caBundle and injects a labelled Pod', async () => {
    const kc = testKubeConfig();
    const admission = kc.makeApiClient(AdmissionregistrationV1Api);
    const [port, healthPort] = [await freePort(), await freePort()];
    await admission.createMutatingWebhookConfiguration({
      body: testWebhookConfiguration(configName(), testNamespace(), `https://127.0.0.1:${port}/mutate`),
    });
    webhook = new ManagedProcess({
      name: 'agentspec-webhook',
      command: process.execPath,
      // --namespace, not POD_NAMESPACE: the release namespace is excluded from injection, and our pods live here.
      args: [
        bin,
        `--kubeconfig=${testKubeconfigPath()}`,
        '--cert-extra-hosts=127.0.0.1',
        `--namespace=${testNamespace()}`,
      ],
      logPath: join(mkdtempSync(join(tmpdir(), 'agentspec-webhook-')), 'webhook.log'),
      env: {
        PATH: process.env['PATH'] ?? '',
        PORT: String(port),
        HEALTH_PORT: String(healthPort),
        WEBHOOK_CONFIGURATION_NAME: configName(),
        AGENTSPEC_CONTROL_PLANE_URL: 'http://agentspec-control-plane.agentspec-system:8080',
      },
    });
    await webhook.waitUntil('ready', async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).ok, 30_000);
    const secret = await kc
      .makeApiClient(CoreV1Api)
      .readNamespacedSecret({ name: 'agentspec-webhook-tls', namespace: testNamespace() });
    expect(Object.keys(secret.data ?? {}).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    await waitFor('caBundle', async () =>
      Boolean(
        (await admission.readMutatingWebhookConfiguration({ name: configName() })).webhooks?.[0]?.clientConfig.caBundle,
      ),
    );
    // The apiserver picks the new caBundle up within moments; until then calls fail and pods are admitted as is.
    let pod: V1Pod | undefined;
    let attempt = 0;
    await waitFor('a labelled Pod to be injected', async () => {
      pod = await kc.makeApiClient(CoreV1Api).createNamespacedPod({
        namespace: testNamespace(),
        body: {
          metadata: {
            name: `agent-${attempt++}`,
            labels: { 'agentspec.io/inject': 'true', 'agentspec.io/agent-name': 'coach' },
          },
          spec: { containers: [{ name: 'agent', image: 'registry.test/agent:1' }] },
        },
      });
      return (pod.spec?.containers[0]?.env ?? []).length > 0;
    });
    expect(pod?.spec?.containers[0]?.env?.map((e) => e.name)).toEqual([
      'AGENTSPEC_CONTROL_PLANE_URL',
      'AGENTSPEC_ADMIN_KEY',
      'AGENTSPEC_INSTANCE_ID',
      'AGENTSPEC_NAMESPACE',
      'AGENTSPEC_AGENT_NAME',
    ]);
  });
});
