// `make cluster-up`: starts etcd, kube-apiserver and kube-controller-manager in the background and prints the
// KUBECONFIG export. Running it again while the cluster is up only prints the export again.
import { rmSync } from 'node:fs';
import { startTestCluster } from '../cluster.js';
import { clusterDirFromArgs, isAlive, readClusterState } from './cluster-state.js';

const dir = clusterDirFromArgs();
const existing = readClusterState(dir);
if (existing && Object.values(existing.pids).length === 3 && Object.values(existing.pids).every(isAlive)) {
  console.log(`# the test cluster is already running (${existing.server}); stop it with: make cluster-down`);
  console.log(`export KUBECONFIG=${existing.kubeconfigPath}`);
  process.exit(0);
}
if (existing) {
  console.error(`cluster-up: removing the stale cluster in ${dir}; stop it first with make cluster-down if in doubt`);
  for (const pid of Object.values(existing.pids)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}
rmSync(dir, { recursive: true, force: true });
try {
  const cluster = await startTestCluster({ dir, detached: true });
  console.log(`# test cluster ${cluster.binaries.kubernetesVersion} is up at ${cluster.server}; logs in ${dir}/logs`);
  console.log(
    `# kubectl and helm are in ${cluster.binaries.kubectl.replace(/\/kubectl$/, '')} and ${cluster.binaries.helm.replace(/\/helm$/, '')}`,
  );
  console.log('# stop it with: make cluster-down');
  console.log(`export KUBECONFIG=${cluster.kubeconfigPath}`);
  process.exit(0);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
