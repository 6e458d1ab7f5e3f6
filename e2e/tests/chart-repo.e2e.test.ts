// The chart from a chart repository, as seed 000 and the README's install section have users do it: `make
// chart-package` writes the .tgz and index.yaml, a local HTTP server serves them, and the user's commands run exactly —
// `helm repo add agentspec <url>`, `helm upgrade --install agentspec agentspec/agentspec -n ... --create-namespace
// --set controlPlane.enabled=true --set webhook.enabled=true` — against the test cluster.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { adoptCrd, listenOnLoopback, testbinPaths, USER_FLAGS } from '../src/index.js';
import { testKubeConfig, testKubeconfigPath, testNamespace } from '../src/vitest/test-context.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..', '..');
const home = mkdtempSync(join(tmpdir(), 'agentspec-helm-home-'));
// A user's own helm configuration: nothing from this machine's.
const helmEnv = {
  ...process.env,
  HELM_CACHE_HOME: join(home, 'cache'),
  HELM_CONFIG_HOME: join(home, 'config'),
  HELM_DATA_HOME: join(home, 'data'),
};
const helm = (...args: string[]) =>
  run(testbinPaths().helm, [...args, '--kubeconfig', testKubeconfigPath()], { env: helmEnv, maxBuffer: 16 << 20 });
const server = createServer();
afterAll(async () => {
  await helm('uninstall', 'agentspec', '-n', testNamespace(), '--no-hooks').catch(() => undefined);
  server.closeAllConnections();
  server.close();
});

describe('the chart repository', () => {
  it("make chart-package, then helm repo add and the user's install from it", async () => {
    // The repository's address is only known once the server listens: package into the directory it serves.
    const url = await listenOnLoopback(server);
    const dist = mkdtempSync(join(tmpdir(), 'agentspec-chart-repo-'));
    await run('make', ['--no-print-directory', 'chart-package', `CHART_DIST=${dist}`, `CHART_REPO_URL=${url}`], {
      cwd: root,
      env: process.env,
    });
    const version = /^version:\s*['"]?([^'"\s]+)/m.exec(
      readFileSync(join(root, 'charts/agentspec/Chart.yaml'), 'utf8'),
    )?.[1];
    expect(readdirSync(dist).sort()).toEqual([`agentspec-${version}.tgz`, 'index.yaml']);
    server.on('request', (req, res) => {
      const file = join(dist, (req.url ?? '/').replace(/^\/+/, '').replace(/\.\./g, ''));
      try {
        res.writeHead(200).end(readFileSync(file));
      } catch {
        res.writeHead(404).end();
      }
    });

    await helm('repo', 'add', 'agentspec', url);
    const search = await helm('search', 'repo', 'agentspec/agentspec', '--output', 'json');
    expect(JSON.parse(search.stdout)).toEqual([
      expect.objectContaining({ name: 'agentspec/agentspec', version, app_version: version }),
    ]);
    await adoptCrd(testKubeconfigPath(), testNamespace());
    await helm(
      'upgrade',
      '--install',
      'agentspec',
      'agentspec/agentspec',
      '-n',
      testNamespace(),
      '--create-namespace',
      ...USER_FLAGS.flatMap((flag) => ['--set', flag]),
    );
    const list = JSON.parse((await helm('list', '-n', testNamespace(), '--output', 'json')).stdout) as {
      name: string;
      chart: string;
      status: string;
    }[];
    expect(list).toEqual([
      expect.objectContaining({ name: 'agentspec', chart: `agentspec-${version}`, status: 'deployed' }),
    ]);
    const deployments = await testKubeConfig()
      .makeApiClient(AppsV1Api)
      .listNamespacedDeployment({ namespace: testNamespace() });
    expect(deployments.items.map((d) => d.metadata?.name).sort()).toEqual([
      'agentspec-control-plane',
      'agentspec-operator',
      'agentspec-webhook',
    ]);
    // One version source: the images the chart runs are tagged with its appVersion.
    for (const deployment of deployments.items) {
      expect(deployment.spec?.template.spec?.containers[0]?.image).toMatch(new RegExp(`:${version}$`));
    }
  }, 300_000);
});
