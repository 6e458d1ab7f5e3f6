// `agentspec generate` output applied to the real test cluster: manifests with kubectl, the chart with helm.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { kubectl, testbinPaths, waitFor } from '@agentspec/e2e';
import { testKubeConfig, testKubeconfigPath, testNamespace } from '@agentspec/e2e/vitest';
import { runCli } from './agentspec.js';

const run = promisify(execFile);
const example = resolve(import.meta.dirname, '..', '..', '..', '..', 'examples', 'fitness-coach', 'agent.yaml');
const quiet = { out: () => undefined, err: () => undefined };

describe('agentspec generate', () => {
  it('--deploy k8s --push writes manifests that apply, run two containers per pod, and an .env.agentspec', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'agentspec-generate-')), 'out');
    expect(await runCli(['generate', example, '--deploy', 'k8s', '--output', out, '--push'], quiet, {})).toBe(0);
    expect(readdirSync(join(out, 'k8s')).sort()).toEqual([
      'configmap.yaml',
      'deployment.yaml',
      'secret.yaml.example',
      'service.yaml',
    ]);
    expect(readFileSync(join(out, '.env.agentspec'), 'utf8')).toBe(
      'AGENTSPEC_URL=https://your-control-plane/agents/report\nAGENTSPEC_KEY=your-api-key\n',
    );

    const namespace = testNamespace();
    for (const file of ['configmap.yaml', 'deployment.yaml', 'service.yaml']) {
      await kubectl(testKubeconfigPath(), ['apply', '-n', namespace, '-f', join(out, 'k8s', file)]);
    }
    const core = testKubeConfig().makeApiClient(CoreV1Api);
    const pods = await waitFor('the generated Deployment to create a pod', async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: 'agentspec.io/agent-name=fitness-coach' });
      return list.items.length ? list.items : undefined;
    });
    expect(pods[0]?.spec?.containers.map((c) => c.name)).toEqual(['agent', 'agentspec-sidecar']);
    const service = await core.readNamespacedService({ name: 'fitness-coach', namespace });
    expect(service.spec?.ports?.map((p) => p.port)).toEqual([4000, 4001]);
  });

  it('--deploy helm writes a chart that helm lints and installs', async () => {
    const chart = join(mkdtempSync(join(tmpdir(), 'agentspec-chart-')), 'chart');
    expect(await runCli(['generate', example, '--deploy', 'helm', '--output', chart], quiet, {})).toBe(0);
    const { helm } = testbinPaths();
    const home = mkdtempSync(join(tmpdir(), 'helm-home-'));
    const env = { ...process.env, HELM_CACHE_HOME: home, HELM_CONFIG_HOME: home, HELM_DATA_HOME: home };
    await run(helm, ['lint', '--strict', chart], { env });
    const namespace = `${testNamespace()}-helm`;
    await run(
      helm,
      [
        'install',
        'coach',
        chart,
        '--namespace',
        namespace,
        '--create-namespace',
        '--kubeconfig',
        testKubeconfigPath(),
        '--set',
        'image.tag=9.9.9',
        '--set',
        'replicaCount=2',
      ],
      { env },
    );
    const apps = testKubeConfig().makeApiClient(AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({ name: 'fitness-coach', namespace });
    expect(deployment.spec?.replicas).toBe(2);
    expect(deployment.spec?.template.spec?.containers[0]?.image).toBe('agentspec/example-fitness-coach:9.9.9');
    expect(deployment.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('Helm');
    await run(helm, ['uninstall', 'coach', '--namespace', namespace, '--kubeconfig', testKubeconfigPath()], { env });
    await testKubeConfig().makeApiClient(CoreV1Api).deleteNamespace({ name: namespace });
  });
});
