// Lists processes a test run left behind: servers (node, postgres, etcd, kube-*, kubelet, containerd and its shims,
// opa, redis, npx) whose working directory is inside this checkout or whose command line names it, the test binaries
// in the agentspec cache or a test node's directory, and any process still in a pod's cgroup (`kubepods`). The caller
// and its ancestors (make, the shell) are not counted.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

const SERVER =
  /(^|\/)(node|npx|npm|postgres|etcd|kube-[a-z-]+|kubelet|kubectl|containerd|containerd-shim-runc-v2|opa|redis-server|helm)(\s|$)/;

function parentOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** Whether a process is in a kubelet's pod cgroup (a container the test node did not stop). */
function inPodCgroup(pid) {
  try {
    return /^\d+:[^:]*:\/kubepods(\/|$)/m.test(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  } catch {
    return false;
  }
}

/** Processes of this checkout (pid and command line), excluding `self` and its ancestors. */
export function leftoverProcesses(root = process.cwd(), self = process.pid) {
  const top = resolve(root);
  const testbin = join(process.env['AGENTSPEC_CACHE'] ?? join(homedir(), '.cache', 'agentspec'), 'testbin');
  const ancestors = new Set();
  for (let pid = self; pid > 1; pid = parentOf(pid)) ancestors.add(pid);
  const found = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || ancestors.has(Number(name))) continue;
    let cmd;
    let cwd;
    try {
      cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0+$/, '').replaceAll('\0', ' ');
      cwd = readlinkSync(`/proc/${name}/cwd`);
    } catch {
      continue; // gone, or not ours to read
    }
    if (!cmd) continue;
    if (inPodCgroup(name)) {
      found.push({ pid: Number(name), cmd: `(in a pod's cgroup) ${cmd.slice(0, 140)}` });
      continue;
    }
    if (!SERVER.test(cmd.split(' ')[0] ?? '')) continue;
    const ours =
      cwd === top ||
      cwd.startsWith(`${top}/`) ||
      cmd.includes(top) ||
      cmd.includes(testbin) ||
      /agentspec-cluster-|\/agentspec\/demo\//.test(cmd);
    if (ours) found.push({ pid: Number(name), cmd: cmd.slice(0, 160) });
  }
  return found;
}
