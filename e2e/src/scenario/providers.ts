import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { adoptCrd, helm, USER_FLAGS } from '../chart.js';
import { startPodPlatform, waitForRelease, type RunningPlatform } from '../pod-platform.js';
import { startPlatform } from '../platform.js';
import type { ClusterProvider } from './first-agent.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..', '..', '..');

/**
 * This repository's test cluster: with its node, the chart's pods from the images built here; without one, the
 * components as local processes and the pod runner for the agent's pods (`databaseUrl` for that control plane).
 */
export function inProcessProvider(
  kubeconfigPath: string,
  node: { running: true; helmValues: string[] } | { running: false; databaseUrl: string },
): ClusterProvider {
  return {
    name: node.running ? 'in-process test cluster (real pods)' : 'in-process test cluster (pod runner)',
    kubeconfigPath,
    start: (releaseNamespace, agentsNamespace) =>
      node.running
        ? startPodPlatform({ kubeconfigPath, namespace: releaseNamespace, imageValues: node.helmValues })
        : startPlatform({
            kubeconfigPath,
            namespace: releaseNamespace,
            agentsNamespace,
            databaseUrl: node.databaseUrl,
          }),
  };
}

/** The image the example agent names, as `make kind-e2e` builds it (e2e/kind/example-agent.Dockerfile). */
export const KIND_EXAMPLE_IMAGE = 'agentspec/example-fitness-coach:0.1.0';

/**
 * A kind cluster of the user's Docker (`make kind-e2e`): the four images built by `make images`, loaded with
 * `kind load docker-image`, the chart installed with the user's flags and `image.pullPolicy=Never`; kind's
 * local-path provisioner gives the bundled PostgreSQL its volume.
 */
export function kindProvider(options: {
  kind: string;
  clusterName: string;
  kubeconfigPath: string;
  images: string[];
  imageRegistry: string;
}): ClusterProvider {
  return {
    name: `kind cluster ${options.clusterName}`,
    kubeconfigPath: options.kubeconfigPath,
    async start(releaseNamespace): Promise<RunningPlatform> {
      for (const image of options.images) {
        await run(options.kind, ['load', 'docker-image', image, '--name', options.clusterName], { timeout: 600_000 });
      }
      await adoptCrd(options.kubeconfigPath, releaseNamespace);
      await helm(
        options.kubeconfigPath,
        'upgrade',
        '--install',
        'agentspec',
        join(root, 'charts', 'agentspec'),
        '-n',
        releaseNamespace,
        '--create-namespace',
        ...[...USER_FLAGS, `image.registry=${options.imageRegistry}`, 'image.pullPolicy=Never'].flatMap((s) => [
          '--set',
          s,
        ]),
      );
      const kc = new KubeConfig();
      kc.loadFromFile(options.kubeconfigPath);
      const core = kc.makeApiClient(CoreV1Api);
      await waitForRelease(kc, releaseNamespace, 600_000);
      const secret = await core.readNamespacedSecret({ name: 'agentspec-control-plane', namespace: releaseNamespace });
      const key = (k: string) => Buffer.from(secret.data?.[k] ?? '', 'base64').toString('utf8');
      const dir = mkdtempSync(join(tmpdir(), 'agentspec-kind-'));
      return {
        namespace: releaseNamespace,
        adminKey: key('apiKey'),
        jwtSecret: key('jwtSecret'),
        controlPlane: { url: 'kubectl port-forward svc/agentspec-control-plane 8080' },
        dir,
        sidecarUrl: () => Promise.reject(new Error('not reachable from the host in kind')),
        proxyUrl: () => Promise.reject(new Error('not reachable from the host in kind')),
        collectLogs: async () => [],
        stop: async () => {
          await helm(options.kubeconfigPath, 'uninstall', 'agentspec', '-n', releaseNamespace, '--wait').catch(
            () => undefined,
          );
        },
      };
    },
  };
}

/** What `make kind-e2e` needs: docker (a running engine) and Go (to build kind from the module proxy). */
export async function kindPrerequisites(): Promise<string[]> {
  const missing: string[] = [];
  await run('docker', ['info'], { timeout: 30_000 }).catch(() =>
    missing.push('a running Docker engine (`docker info`)'),
  );
  await run('go', ['version']).catch(() => missing.push('Go 1.24 or newer (kind is built from the Go module proxy)'));
  return missing;
}

/** kind, built once into the cache from the Go module proxy (KIND_VERSION in e2e/testbin/versions.env). */
export async function kindBinary(cacheDir: string, version: string): Promise<string> {
  const dir = join(cacheDir, 'testbin', `kind-${version}`);
  const binary = join(dir, 'kind');
  if (!existsSync(binary)) {
    await run('go', ['install', `sigs.k8s.io/kind@${version}`], {
      env: { ...process.env, GOBIN: dir, CGO_ENABLED: '0' },
      timeout: 900_000,
    });
  }
  return binary;
}
