// `make cluster-down`: stops the cluster started by `make cluster-up` (by PID) and removes its directory.
import { rmSync } from 'node:fs';
import { stopPid } from '../managed-process.js';
import { clusterDirFromArgs, readClusterState } from './cluster-state.js';

const dir = clusterDirFromArgs();
const state = readClusterState(dir);
if (!state) {
  console.log(`no test cluster in ${dir}`);
  process.exit(0);
}
for (const name of ['kube-controller-manager', 'kube-apiserver', 'etcd'] as const) {
  const pid = state.pids[name];
  if (pid !== undefined) await stopPid(pid);
}
rmSync(dir, { recursive: true, force: true });
console.log('test cluster stopped');
