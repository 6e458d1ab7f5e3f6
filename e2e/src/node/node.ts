import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AppsV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  loadYaml,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { CertificateAuthority } from '@agentspec/webhook';
import { freePort } from '../free-port.js';
import { httpGet } from '../http-probe.js';
import { renderKubeconfig } from '../kubeconfig.js';
import { isAlive, ManagedProcess, stopPid } from '../managed-process.js';
import { captureHostState, cgroupProcesses, restoreHostState, type HostState } from './host-state.js';
import { waitFor } from '../wait-for.js';
import { COREDNS_IMAGE, PAUSE_IMAGE, type LocalImages } from './images.js';

const run = promisify(execFile);

/** The node's name, its address (a /32 on a bridge of ours: never loopback, never the machine's own network). */
export const NODE_NAME = 'agentspec-node';
export const NODE_BRIDGE = 'as-node0';
export const NODE_IP = '172.30.255.1';
/** The pods' bridge and addresses (CNI bridge + host-local), inside the cluster CIDR kube-proxy is told about. */
export const POD_BRIDGE = 'as-pods0';
export const POD_SUBNET = '10.244.0.0/24';
export const CLUSTER_CIDR = '10.244.0.0/16';
/** The kube-dns Service's address in the cluster's service range (10.0.0.0/16). */
export const DNS_SERVICE_IP = '10.0.0.10';
const CNI_BIN_DIR = '/usr/lib/cni';

export interface NodeBinaries {
  kubelet: string;
  kubeScheduler: string;
  kubeProxy: string;
}

/** Why no node can start on this machine, or undefined when one can. */
export function nodeUnsupportedReason(binaries: Partial<NodeBinaries>): string | undefined {
  if (process.env['AGENTSPEC_TEST_NODE'] === '0') return 'AGENTSPEC_TEST_NODE=0';
  if (process.platform !== 'linux') return `${process.platform} is not Linux`;
  if (process.getuid?.() !== 0) return 'not root (the kubelet and containerd need root)';
  const missing = [
    ...['containerd', 'runc', 'ctr', 'iptables', 'iptables-save', 'ip', 'tar', 'ldd'].filter((c) => !onPath(c)),
    ...['bridge', 'host-local', 'loopback', 'portmap'].map((p) => join(CNI_BIN_DIR, p)).filter((p) => !existsSync(p)),
    ...Object.values(binaries).filter((p) => !p || !existsSync(p)),
  ];
  if (missing.length)
    return `missing ${missing.join(', ')} (.ci/run installs the Debian packages; make testbin builds the rest)`;
  if (!existsSync('/sys/fs/cgroup/memory')) return 'no cgroup v1 memory controller';
  return undefined;
}

/** Who holds this machine's one test node: its process, its directory, the host's state before it started. */
const NODE_LOCK = '/run/agentspec-test-node.json';
interface NodeLock {
  pid: number;
  dir: string;
  hostState: HostState;
}

/**
 * Takes the machine's test node for this process. A node left by a process that is gone (a test run killed with
 * SIGKILL) is cleaned up first — its processes and containers stopped, the host restored to the state recorded
 * before it started. Returns why the node cannot be had (another live run holds it), or undefined once claimed.
 */
export function claimNode(dir: string, log: (message: string) => void): string | undefined {
  if (existsSync(NODE_LOCK)) {
    const lock = JSON.parse(readFileSync(NODE_LOCK, 'utf8')) as NodeLock;
    if (lock.pid !== process.pid && isAlive(lock.pid)) {
      return `the test node is in use by process ${lock.pid} (${lock.dir})`;
    }
    for (const pid of processesUsing(lock.dir)) process.kill(pid, 'SIGKILL');
    const left = restoreHostState(lock.hostState);
    log(
      `cleaned up the test node left by process ${lock.pid}${left.length ? `; still different: ${left.join('; ')}` : ''}`,
    );
    rmSync(NODE_LOCK, { force: true });
  }
  if (existsSync(`/sys/class/net/${NODE_BRIDGE}`)) return `${NODE_BRIDGE} exists but no test run owns it`;
  const lock: NodeLock = { pid: process.pid, dir, hostState: captureHostState() };
  writeFileSync(NODE_LOCK, JSON.stringify(lock), { mode: 0o600 });
  return undefined;
}

/** Restores the host recorded by claimNode and gives the node up; returns what could not be undone. */
export function releaseNode(): string[] {
  if (!existsSync(NODE_LOCK)) return [];
  const lock = JSON.parse(readFileSync(NODE_LOCK, 'utf8')) as NodeLock;
  if (lock.pid !== process.pid) return [];
  const left = restoreHostState(lock.hostState);
  rmSync(NODE_LOCK, { force: true });
  return left;
}

function onPath(command: string): boolean {
  return (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .concat(['/usr/sbin', '/sbin'])
    .some((dir) => existsSync(join(dir, command)));
}

/** The node's own link: a bridge holding NODE_IP/32, made before the apiserver binds to that address. */
export function createNodeLink(): void {
  execFileSync('ip', ['link', 'add', NODE_BRIDGE, 'type', 'bridge']);
  execFileSync('ip', ['addr', 'add', `${NODE_IP}/32`, 'dev', NODE_BRIDGE]);
  execFileSync('ip', ['link', 'set', NODE_BRIDGE, 'up']);
}

export interface StartTestNodeOptions {
  dir: string;
  /** The apiserver's URL, reachable from the host and (through the kubernetes Service) from pods. */
  server: string;
  ca: CertificateAuthority;
  caFile: string;
  binaries: NodeBinaries;
  /** Images to import before the kubelet starts (the pause image among them). */
  images: Promise<LocalImages>;
  kubeConfig: KubeConfig;
  log: (message: string) => void;
  timeoutMs: number;
}

export interface TestNode {
  name: string;
  ip: string;
  images: LocalImages;
  /** containerd's socket (for `ctr --address`). */
  containerdAddress: string;
  /** Stops the node's processes and every container (the host's state is restored by the cluster). */
  stop(): Promise<void>;
}

/** Processes whose command line names `dir` (containerd's shims, which outlive containerd). */
function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

/**
 * Starts a node for the test cluster on this machine: containerd (runc, the CNI bridge), the kubelet with a real
 * `system:node` certificate and its own serving certificate, kube-scheduler, kube-proxy (iptables) and CoreDNS as a
 * Deployment behind the kube-dns Service. Every wait is bounded and names the component; on failure what started is
 * stopped.
 */
export async function startTestNode(options: StartTestNodeOptions): Promise<TestNode> {
  const { dir, ca, server, log } = options;
  const dirs = {
    pki: join(dir, 'pki'),
    logs: join(dir, 'logs'),
    containerd: join(dir, 'containerd'),
    cni: join(dir, 'cni'),
    kubelet: join(dir, 'kubelet'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const file = (name: string, content: string, mode = 0o600): string => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode });
    return path;
  };
  const processes: ManagedProcess[] = [];
  const containerdAddress = join(dir, 'containerd.sock');
  const stop = async (): Promise<void> => {
    for (const proc of [...processes].reverse()) if (proc.options.name !== 'containerd') await proc.stop();
    // Containers outlive the kubelet, and shims outlive containerd: stop them by their cgroups and command lines.
    await killContainers();
    for (const proc of processes) await proc.stop();
    for (const pid of processesUsing(dir)) await stopPid(pid, 2_000);
  };
  const start = (name: string, command: string, args: string[]): ManagedProcess => {
    const proc = new ManagedProcess({
      name,
      command,
      args,
      logPath: join(dirs.logs, `${name}.log`),
      env: { PATH: `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
    });
    processes.push(proc);
    return proc;
  };

  try {
    // containerd: its own root, state and socket; runc with cgroupfs; sandboxes from our pause image.
    const containerdConfig = file(
      'containerd.toml',
      [
        'version = 2',
        `root = "${join(dirs.containerd, 'root')}"`,
        `state = "${join(dirs.containerd, 'state')}"`,
        '[grpc]',
        `  address = "${containerdAddress}"`,
        '[plugins."io.containerd.internal.v1.opt"]',
        `  path = "${join(dirs.containerd, 'opt')}"`,
        '[plugins."io.containerd.grpc.v1.cri"]',
        `  sandbox_image = "${PAUSE_IMAGE}"`,
        // The machine's bounding set lacks CAP_SYS_RESOURCE: a negative oom_score_adj would fail every sandbox.
        '  restrict_oom_score_adj = true',
        '  stream_server_address = "127.0.0.1"',
        '  [plugins."io.containerd.grpc.v1.cri".containerd]',
        '    snapshotter = "overlayfs"',
        '    default_runtime_name = "runc"',
        '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
        '      runtime_type = "io.containerd.runc.v2"',
        '      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
        '        SystemdCgroup = false',
        `        Root = "${join(dirs.containerd, 'runc')}"`,
        '  [plugins."io.containerd.grpc.v1.cri".cni]',
        `    bin_dir = "${CNI_BIN_DIR}"`,
        `    conf_dir = "${join(dirs.cni, 'net.d')}"`,
        '',
      ].join('\n'),
      0o644,
    );
    mkdirSync(join(dirs.cni, 'net.d'), { recursive: true });
    writeFileSync(
      join(dirs.cni, 'net.d', '10-agentspec.conflist'),
      JSON.stringify({
        cniVersion: '0.4.0',
        name: 'agentspec',
        plugins: [
          {
            type: 'bridge',
            bridge: POD_BRIDGE,
            isGateway: true,
            ipMasq: true,
            hairpinMode: true,
            ipam: {
              type: 'host-local',
              ranges: [[{ subnet: POD_SUBNET }]],
              routes: [{ dst: '0.0.0.0/0' }],
              dataDir: join(dirs.cni, 'ipam'),
            },
          },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      }),
    );
    const containerd = start('containerd', 'containerd', ['--config', containerdConfig]);
    const ctr = (...args: string[]) => run('ctr', ['--address', containerdAddress, '--namespace', 'k8s.io', ...args]);
    await containerd.waitUntil(
      'serving',
      async () => existsSync(containerdAddress) && (await ctr('version').then(() => true)),
      options.timeoutMs,
    );
    const images = await options.images;
    log(`importing ${images.refs.length} images into containerd`);
    await ctr('images', 'import', images.archive);

    // Certificates from the cluster's CA: the kubelet's client (system:node) and serving ones, the scheduler's,
    // kube-proxy's.
    const [kubeletClient, kubeletServing, scheduler, proxy] = await Promise.all([
      ca.issue({ subject: `CN=system:node:${NODE_NAME}, O=system:nodes`, usage: 'client' }),
      ca.issue({ subject: `CN=${NODE_NAME}`, usage: 'server', dnsNames: [NODE_NAME], ipAddresses: [NODE_IP] }),
      ca.issue({ subject: 'CN=system:kube-scheduler', usage: 'client' }),
      ca.issue({ subject: 'CN=system:kube-proxy', usage: 'client' }),
    ]);
    const kubeconfig = (name: string, user: { certPem: string; keyPem: string }) =>
      file(`${name}.kubeconfig`, renderKubeconfig(server, ca.certPem, { name, ...user }));
    const kubeletCert = file('pki/kubelet.crt', kubeletServing.certPem);
    const kubeletKey = file('pki/kubelet.key', kubeletServing.keyPem);
    const [healthz, schedulerPort, proxyHealth, proxyMetrics] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const resolvConf = file('resolv.conf', '', 0o644);
    const kubeletConfig = file(
      'kubelet.yaml',
      JSON.stringify({
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        // No anonymous access: the apiserver authenticates with its kubelet client certificate.
        authentication: {
          anonymous: { enabled: false },
          webhook: { enabled: true },
          x509: { clientCAFile: options.caFile },
        },
        authorization: { mode: 'Webhook' },
        address: NODE_IP,
        readOnlyPort: 0,
        healthzBindAddress: '127.0.0.1',
        healthzPort: healthz,
        tlsCertFile: kubeletCert,
        tlsPrivateKeyFile: kubeletKey,
        // This machine: cgroup v1, no systemd, no swap accounting.
        cgroupDriver: 'cgroupfs',
        failCgroupV1: false,
        failSwapOn: false,
        containerRuntimeEndpoint: `unix://${containerdAddress}`,
        clusterDNS: [DNS_SERVICE_IP],
        clusterDomain: 'cluster.local',
        resolvConf,
        podLogsDir: join(dir, 'pod-logs'),
        // A test machine's disk may be fuller than a server's: never evict or collect images for it.
        evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
        imageGCHighThresholdPercent: 100,
        imageGCLowThresholdPercent: 99,
        serializeImagePulls: false,
        syncFrequency: '10s',
        fileCheckFrequency: '10s',
      }),
      0o644,
    );
    const kubelet = start('kubelet', options.binaries.kubelet, [
      `--config=${kubeletConfig}`,
      `--kubeconfig=${kubeconfig('kubelet', kubeletClient)}`,
      `--root-dir=${dirs.kubelet}`,
      `--hostname-override=${NODE_NAME}`,
      `--node-ip=${NODE_IP}`,
      '--v=1',
    ]);
    const schedulerKubeconfig = kubeconfig('kube-scheduler', scheduler);
    const kubeScheduler = start('kube-scheduler', options.binaries.kubeScheduler, [
      `--kubeconfig=${schedulerKubeconfig}`,
      `--authentication-kubeconfig=${schedulerKubeconfig}`,
      `--authorization-kubeconfig=${schedulerKubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${schedulerPort}`,
      '--leader-elect=false',
      '--v=1',
    ]);
    const kubeProxy = start('kube-proxy', options.binaries.kubeProxy, [
      `--kubeconfig=${kubeconfig('kube-proxy', proxy)}`,
      `--hostname-override=${NODE_NAME}`,
      '--proxy-mode=iptables',
      `--cluster-cidr=${CLUSTER_CIDR}`,
      `--healthz-bind-address=127.0.0.1:${proxyHealth}`,
      `--metrics-bind-address=127.0.0.1:${proxyMetrics}`,
      // Leave the host's conntrack table size and timeouts alone.
      '--conntrack-max-per-core=0',
      '--conntrack-tcp-timeout-established=0',
      '--conntrack-tcp-timeout-close-wait=0',
      '--v=1',
    ]);
    const core = options.kubeConfig.makeApiClient(CoreV1Api);
    await Promise.all([
      kubelet.waitUntil(
        'the node Ready',
        async () =>
          (await core.readNode({ name: NODE_NAME })).status?.conditions?.some(
            (c) => c.type === 'Ready' && c.status === 'True',
          ) === true,
        options.timeoutMs,
        500,
      ),
      kubeScheduler.waitUntil(
        'healthy',
        async () => (await httpGet(`https://127.0.0.1:${schedulerPort}/healthz`, { insecure: true })).status === 200,
        options.timeoutMs,
      ),
      kubeProxy.waitUntil(
        'healthy',
        async () => (await httpGet(`http://127.0.0.1:${proxyHealth}/healthz`)).status === 200,
        options.timeoutMs,
      ),
    ]);
    log(`node ${NODE_NAME} Ready at ${NODE_IP}`);
    await deployCoreDns(options.kubeConfig, options.timeoutMs);
    log('CoreDNS ready at kube-dns (10.0.0.10)');
    return { name: NODE_NAME, ip: NODE_IP, images, containerdAddress, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Every process of every pod (the kubepods cgroup tree), SIGKILLed until none is left. */
async function killContainers(): Promise<void> {
  const kill = (): number => {
    const pids = cgroupProcesses('/sys/fs/cgroup/pids/kubepods');
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    return pids.length;
  };
  await waitFor('the pods processes to exit', async () => kill() === 0, { timeoutMs: 30_000, intervalMs: 100 });
}

/** CoreDNS as a cluster add-on: RBAC, the Corefile, a Deployment of our image, the kube-dns Service. */
async function deployCoreDns(kc: KubeConfig, timeoutMs: number): Promise<void> {
  const ns = 'kube-system';
  const labels = { 'k8s-app': 'kube-dns' };
  const corefile = [
    '.:1053 {',
    '    errors',
    '    health :8080',
    '    ready :8181',
    '    kubernetes cluster.local in-addr.arpa ip6.arpa {',
    '        pods insecure',
    '        fallthrough in-addr.arpa ip6.arpa',
    '    }',
    '    cache 30',
    '    loadbalance',
    '}',
    '',
  ].join('\n');
  const objects = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: ns } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: ns }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: ns }, data: { Corefile: corefile } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: ns, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'coredns',
            dnsPolicy: 'Default',
            securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'coredns',
                image: COREDNS_IMAGE,
                imagePullPolicy: 'Never',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: 1053, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 1053, protocol: 'TCP' },
                ],
                readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2 },
                livenessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 10 },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
                resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
                volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: ns, labels },
      spec: {
        clusterIP: DNS_SERVICE_IP,
        selector: labels,
        ports: [
          { name: 'dns', port: 53, targetPort: 1053, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, targetPort: 1053, protocol: 'TCP' },
        ],
      },
    },
  ];
  const client = KubernetesObjectApi.makeApiClient(kc);
  for (const object of objects) await client.create(loadYaml<KubernetesObject>(JSON.stringify(object)));
  const apps = kc.makeApiClient(AppsV1Api);
  await waitFor(
    'CoreDNS to be ready',
    async () =>
      ((await apps.readNamespacedDeployment({ name: 'coredns', namespace: ns })).status?.readyReplicas ?? 0) >= 1,
    { timeoutMs, intervalMs: 250 },
  );
}
