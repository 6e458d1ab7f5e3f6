import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a test node changes on the host, recorded before it starts so that every change can be undone at stop and a
 * test can prove the host is as before: kernel settings the kubelet and kube-proxy write, iptables (both families),
 * network links and namespaces, mounts, cgroups, and the fixed host paths that runtimes create.
 */
export interface HostState {
  sysctls: Record<string, string>;
  /** `iptables-save` / `ip6tables-save` per table, counters removed; tables without rules are left out. */
  iptables: Record<string, string>;
  links: string[];
  netns: string[];
  /** Mount points (from /proc/self/mountinfo). */
  mounts: string[];
  /** Top-level directories of every cgroup v1 controller (e.g. "memory/kubepods"). */
  cgroups: string[];
  /** Which of HOST_PATHS exist. */
  paths: string[];
}

/** Settings the kubelet (protectKernelDefaults off), kube-proxy and the CNI bridge write. */
export const SYSCTLS = [
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.panic',
  'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
  'net.ipv4.ip_forward',
  'net.ipv4.conf.all.route_localnet',
  'net.ipv4.conf.all.forwarding',
  'net.ipv6.conf.all.forwarding',
  'net.bridge.bridge-nf-call-iptables',
  'net.bridge.bridge-nf-call-ip6tables',
  'net.netfilter.nf_conntrack_max',
  'net.netfilter.nf_conntrack_tcp_timeout_established',
  'net.netfilter.nf_conntrack_tcp_timeout_close_wait',
];

/** Paths outside the node's own directory that containerd, CNI and the kubelet create when missing. */
export const HOST_PATHS = [
  '/var/lib/cni',
  '/var/lib/kubelet',
  '/var/lib/containerd',
  '/var/log/pods',
  '/var/log/containers',
  '/run/containerd',
  '/run/netns',
  '/run/runc',
  '/etc/cni',
  '/etc/kubernetes',
  '/opt/cni',
];

const CGROUP_ROOT = '/sys/fs/cgroup';
const sysctlPath = (name: string) => join('/proc/sys', ...name.split('.'));
const run = (command: string, args: string[]): string => {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return '';
  }
};

function readSysctls(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of SYSCTLS) {
    try {
      values[name] = readFileSync(sysctlPath(name), 'utf8').trim();
    } catch {
      // not on this kernel (or module not loaded): nothing to restore
    }
  }
  return values;
}

const BUILTIN_CHAINS: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** The iptables back ends: the default (nf_tables on Debian 12) and legacy, which components may pick themselves. */
const FAMILIES = [
  ['ip4', 'iptables-save', 'iptables-restore'],
  ['ip6', 'ip6tables-save', 'ip6tables-restore'],
  ['ip4-legacy', 'iptables-legacy-save', 'iptables-legacy-restore'],
  ['ip6-legacy', 'ip6tables-legacy-save', 'ip6tables-legacy-restore'],
] as const;

/** Every family's tables: "ip4/nat" → the table's dump, counters and comments removed; empty tables omitted. */
function readIptables(): Record<string, string> {
  const tables: Record<string, string> = {};
  for (const [family, save] of FAMILIES) {
    let table = '';
    let lines: string[] = [];
    for (const raw of run(save, []).split('\n')) {
      const line = raw.replace(/ \[\d+:\d+\]$/, '').trimEnd();
      if (!line || line.startsWith('#')) continue;
      if (line.startsWith('*')) {
        table = line.slice(1);
        lines = [];
      } else if (line === 'COMMIT') {
        const builtins = new Set((BUILTIN_CHAINS[table] ?? []).map((c) => `:${c} ACCEPT`));
        // A table holding only its built-in chains with ACCEPT policies is the same as no table.
        if (lines.some((l) => !builtins.has(l))) tables[`${family}/${table}`] = lines.join('\n');
      } else lines.push(line);
    }
  }
  return tables;
}

function readMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\040/g, ' '));
}

function readCgroups(): string[] {
  if (!existsSync(CGROUP_ROOT)) return [];
  const found: string[] = [];
  for (const controller of readdirSync(CGROUP_ROOT)) {
    const dir = join(CGROUP_ROOT, controller);
    try {
      if (!statSync(dir).isDirectory()) continue;
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) found.push(`${controller}/${entry.name}`);
      }
    } catch {
      // a controller we cannot read: not ours to restore
    }
  }
  return found.sort();
}

export function captureHostState(): HostState {
  return {
    sysctls: readSysctls(),
    iptables: readIptables(),
    links: run('ip', ['-o', 'link', 'show'])
      .split('\n')
      .filter(Boolean)
      .map((l) => (l.split(': ')[1] ?? '').split('@')[0] ?? '')
      .sort(),
    netns: existsSync('/run/netns') ? readdirSync('/run/netns').sort() : [],
    mounts: readMounts(),
    cgroups: readCgroups(),
    paths: HOST_PATHS.filter((p) => existsSync(p)),
  };
}

/** Every process in the cgroup directory and its descendants. */
export function cgroupProcesses(dir: string): number[] {
  const pids: number[] = [];
  const walk = (d: string): void => {
    try {
      for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (line) pids.push(Number(line));
      for (const entry of readdirSync(d, { withFileTypes: true })) if (entry.isDirectory()) walk(join(d, entry.name));
    } catch {
      // removed meanwhile
    }
  };
  walk(dir);
  return pids;
}

/** Removes a cgroup directory tree, deepest first (cgroupfs directories are removed with rmdir only). */
function removeCgroup(dir: string): void {
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) removeCgroup(join(dir, entry.name));
    }
    rmdirSync(dir);
  } catch {
    // busy or gone; the comparison reports what is left
  }
}

/** The cgroups created since `before`: their processes (containers left by a killed runtime) are SIGKILLed. */
export function killNewCgroupProcesses(before: HostState): number {
  let killed = 0;
  for (const cgroup of readCgroups().filter((c) => !before.cgroups.includes(c))) {
    for (const pid of cgroupProcesses(join(CGROUP_ROOT, cgroup))) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        // already gone
      }
    }
  }
  return killed;
}

/**
 * Puts back what changed since `before`: unmounts new mounts (deepest first), deletes new network namespaces and
 * links, restores iptables tables and kernel settings, removes new cgroups and new host paths. Returns what could
 * not be undone (empty when the host is as before).
 */
export function restoreHostState(before: HostState): string[] {
  killNewCgroupProcesses(before);
  const known = new Set(before.mounts);
  const added = readMounts()
    .filter((m) => !known.has(m))
    .sort((a, b) => b.length - a.length);
  for (const mount of added) run('umount', ['-l', mount]);
  const netns = existsSync('/run/netns') ? readdirSync('/run/netns') : [];
  for (const ns of netns.filter((n) => !before.netns.includes(n))) run('ip', ['netns', 'delete', ns]);
  const links = captureHostState().links;
  for (const link of links.filter((l) => !before.links.includes(l))) run('ip', ['link', 'delete', link]);
  restoreIptables(before);
  for (const [name, value] of Object.entries(before.sysctls)) {
    try {
      if (readFileSync(sysctlPath(name), 'utf8').trim() !== value) writeFileSync(sysctlPath(name), value);
    } catch {
      // compared below
    }
  }
  for (const cgroup of readCgroups().filter((c) => !before.cgroups.includes(c)))
    removeCgroup(join(CGROUP_ROOT, cgroup));
  for (const path of HOST_PATHS.filter((p) => !before.paths.includes(p) && existsSync(p))) {
    rmSync(path, { recursive: true, force: true });
  }
  return compareHostState(before, captureHostState());
}

function restoreIptables(before: HostState): void {
  const now = readIptables();
  for (const [family, , restore] of FAMILIES) {
    let input = '';
    for (const key of Object.keys(now).filter((k) => k.split('/')[0] === family)) {
      if (now[key] === before.iptables[key]) continue;
      const table = key.slice(family.length + 1);
      const body = before.iptables[key] ?? (BUILTIN_CHAINS[table] ?? []).map((c) => `:${c} ACCEPT`).join('\n');
      input += `*${table}\n${body}\nCOMMIT\n`;
    }
    if (input) {
      try {
        execFileSync(restore, [], { input, stdio: ['pipe', 'ignore', 'pipe'] });
      } catch {
        // compared below
      }
    }
  }
}

/** Differences between two captures, one line each ("iptables ip4/nat differs", "link cni0 added", ...). */
export function compareHostState(before: HostState, after: HostState): string[] {
  const diff: string[] = [];
  for (const [name, value] of Object.entries(before.sysctls)) {
    if (after.sysctls[name] !== value) diff.push(`sysctl ${name}: ${value} → ${after.sysctls[name]}`);
  }
  const keys = new Set([...Object.keys(before.iptables), ...Object.keys(after.iptables)]);
  for (const key of keys) if (before.iptables[key] !== after.iptables[key]) diff.push(`iptables ${key} differs`);
  const lists: (keyof Pick<HostState, 'links' | 'netns' | 'mounts' | 'cgroups' | 'paths'>)[] = [
    'links',
    'netns',
    'mounts',
    'cgroups',
    'paths',
  ];
  for (const list of lists) {
    for (const item of after[list]) if (!before[list].includes(item)) diff.push(`${list}: ${item} added`);
    for (const item of before[list]) if (!after[list].includes(item)) diff.push(`${list}: ${item} removed`);
  }
  return diff;
}
