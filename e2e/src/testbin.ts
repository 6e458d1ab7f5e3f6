import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** e2e/testbin, where the wrapper Go module and the pinned versions live. */
export const testbinSourceDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'testbin');

export interface TestbinPaths {
  kubeApiServer: string;
  kubeControllerManager: string;
  etcd: string;
  kubectl: string;
  helm: string;
  ct: string;
  /** Directory holding ct's chart_schema.yaml and lintconf.yaml. */
  ctConfigDir: string;
  /** The OPA server the sidecar's tests run. */
  opa: string;
  kubernetesVersion: string;
}

export function cacheDir(): string {
  return process.env['AGENTSPEC_CACHE'] ?? join(homedir(), '.cache', 'agentspec');
}

export function readVersions(): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const line of readFileSync(join(testbinSourceDir, 'versions.env'), 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(\S+)$/.exec(line.trim());
    if (match?.[1] && match[2]) versions[match[1]] = match[2];
  }
  return versions;
}

function version(versions: Record<string, string>, key: string): string {
  const value = versions[key];
  if (!value) throw new Error(`e2e/testbin/versions.env has no ${key}`);
  return value;
}

/** Where `make testbin` puts the binaries; throws, naming the command to run, when one is missing. */
export function testbinPaths(): TestbinPaths {
  const versions = readVersions();
  const root = join(cacheDir(), 'testbin');
  const kubernetesVersion = version(versions, 'KUBERNETES_VERSION');
  const k8sDir = join(root, `k8s-${kubernetesVersion}-etcd-${version(versions, 'ETCD_VERSION')}`);
  const ctDir = join(root, `ct-${version(versions, 'CHART_TESTING_VERSION')}`);
  const paths: TestbinPaths = {
    kubeApiServer: join(k8sDir, 'kube-apiserver'),
    kubeControllerManager: join(k8sDir, 'kube-controller-manager'),
    etcd: join(k8sDir, 'etcd'),
    kubectl: join(k8sDir, 'kubectl'),
    helm: join(root, `helm-${version(versions, 'HELM_VERSION')}`, 'helm'),
    ct: join(ctDir, 'ct'),
    ctConfigDir: ctDir,
    opa: join(root, `opa-${version(versions, 'OPA_VERSION')}`, 'opa'),
    kubernetesVersion,
  };
  const missing = Object.entries(paths).filter(
    ([key, path]) => key !== 'kubernetesVersion' && key !== 'ctConfigDir' && !existsSync(path),
  );
  if (missing.length) {
    throw new Error(
      `test binaries missing: ${missing.map(([, p]) => p).join(', ')}. Run \`make testbin\` (it builds them from the Go module proxy).`,
    );
  }
  return paths;
}

export interface NodeBinaryPaths {
  kubelet: string;
  kubeScheduler: string;
  kubeProxy: string;
  coredns: string;
  pause: string;
}

/** The test node's binaries (`make testbin` builds them); whether each exists is the caller's question. */
export function nodeBinaryPaths(): NodeBinaryPaths {
  const versions = readVersions();
  const root = join(cacheDir(), 'testbin');
  const k8sDir = join(root, `k8s-${version(versions, 'KUBERNETES_VERSION')}-etcd-${version(versions, 'ETCD_VERSION')}`);
  const pauseHash = createHash('sha256')
    .update(readFileSync(join(testbinSourceDir, 'pause', 'main.go')))
    .digest('hex')
    .slice(0, 12);
  return {
    kubelet: join(k8sDir, 'kubelet'),
    kubeScheduler: join(k8sDir, 'kube-scheduler'),
    kubeProxy: join(k8sDir, 'kube-proxy'),
    coredns: join(root, `coredns-${version(versions, 'COREDNS_VERSION')}`, 'coredns'),
    pause: join(root, `pause-${pauseHash}`, 'pause'),
  };
}
