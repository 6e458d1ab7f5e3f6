import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { freePort } from './free-port.js';
import { httpGet } from './http-probe.js';
import { renderKubeconfig } from './kubeconfig.js';
import { ManagedProcess } from './managed-process.js';
import { createCertificateAuthority, createSigningKeyPair, type KeyPairPem } from '@agentspec/webhook';
import { nodeBinaryPaths, testbinPaths, type TestbinPaths } from './testbin.js';
import { buildLocalImages } from './node/images.js';
import {
  claimNode,
  createNodeLink,
  NODE_IP,
  nodeUnsupportedReason,
  releaseNode,
  startTestNode,
  type TestNode,
} from './node/node.js';

export type ComponentName = 'etcd' | 'kube-apiserver' | 'kube-controller-manager';

export interface StartTestClusterOptions {
  /** Where data, certificates, kubeconfigs and logs go; a fresh temporary directory by default. */
  dir?: string;
  /** Start kube-controller-manager (Deployments create Pods, garbage collection). Default true. */
  controllerManager?: boolean;
  /** Let the processes outlive this Node process (used by `make cluster-up`). */
  detached?: boolean;
  /** Bound on each component's start-up. Default 120 s. */
  readyTimeoutMs?: number;
  /**
   * Add a node that runs pods for real (containerd, kubelet, kube-scheduler, kube-proxy, CoreDNS, our images built
   * locally): true requires one, 'auto' starts one where this machine can (root, the Debian packages) and says why
   * not otherwise. Default false. Not with `detached`.
   */
  node?: boolean | 'auto';
  log?: (message: string) => void;
  /** Serve kube-apiserver's /debug/pprof (for a benchmark that profiles it). Default false. */
  apiserverProfiling?: boolean;
}

export interface ClusterState {
  dir: string;
  kubeconfigPath: string;
  server: string;
  pids: Partial<Record<ComponentName, number>>;
}

export interface TestCluster extends ClusterState {
  kubeConfig: KubeConfig;
  binaries: TestbinPaths;
  caPem: string;
  /** The node running pods, when one started. */
  node: TestNode | undefined;
  /** Why no node runs (undefined when one does). */
  nodeAbsentReason: string | undefined;
  /** What the node changed on the host and could not undo at stop (empty: the host is as before). */
  hostDifferences: string[];
  /** Writes a kubeconfig that authenticates as the cluster admin and, optionally, impersonates `user`. */
  writeKubeconfig(fileName: string, options?: { impersonate?: string }): string;
  /** Stops one component (e.g. to test what happens while the apiserver is down). */
  stopComponent(name: ComponentName): Promise<void>;
  /** Starts a stopped component again with the same flags and waits until it is ready. */
  startComponent(name: ComponentName): Promise<void>;
  /** Stops every component by PID and removes the directory unless `keepDir`. */
  stop(options?: { keepDir?: boolean }): Promise<void>;
}

// Room for thousands of Services (bench/operator creates 2,000); the first address is the kubernetes Service.
const SERVICE_CIDR = '10.0.0.0/16';

interface ComponentSpec {
  command: string;
  args: string[];
  waitReady: (proc: ManagedProcess) => Promise<void>;
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager built by `make testbin` on loopback ports chosen at
 * run time, with a throwaway CA, an admin client certificate, RBAC, admission webhooks and service-account
 * signing keys. Every wait is bounded; on failure the component's log tail is in the error and everything
 * already started is stopped.
 */
export async function startTestCluster(options: StartTestClusterOptions = {}): Promise<TestCluster> {
  const binaries = testbinPaths();
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'agentspec-cluster-'));
  const timeout = options.readyTimeoutMs ?? 120_000;
  const log = options.log ?? (() => undefined);
  const nodeBinaries = nodeBinaryPaths();
  let nodeAbsentReason: string | undefined = 'not asked for';
  if (options.node && !options.detached) {
    nodeAbsentReason = nodeUnsupportedReason(nodeBinaries);
    if (nodeAbsentReason && options.node === true) throw new Error(`cannot start a test node: ${nodeAbsentReason}`);
  }
  let withNode = nodeAbsentReason === undefined;
  const pkiDir = join(dir, 'pki');
  const logDir = join(dir, 'logs');
  mkdirSync(pkiDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });

  const [etcdPort, etcdPeerPort, apiPort, kcmPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  if (withNode) {
    const busy = claimNode(dir, log);
    if (busy && options.node === true) throw new Error(`cannot start a test node: ${busy}`);
    nodeAbsentReason = busy;
    if (busy) withNode = false;
    else createNodeLink();
  }
  // With a node, the apiserver listens on the node's address: pods reach it through the kubernetes Service.
  const listenAddress = withNode ? NODE_IP : '127.0.0.1';
  const server = `https://${listenAddress}:${apiPort}`;
  // The images take the longest: built while the control plane starts.
  const images = withNode ? buildLocalImages(join(dir, 'images'), nodeBinaries) : undefined;
  images?.catch(() => undefined);

  const ca = await createCertificateAuthority('agentspec-test-ca');
  const [serving, admin, kubeletClient, kcm, serviceAccount] = await Promise.all([
    ca.issue({
      subject: 'CN=kube-apiserver',
      usage: 'server',
      dnsNames: [
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
      ],
      ipAddresses: ['127.0.0.1', '10.0.0.1', NODE_IP],
    }),
    ca.issue({ subject: 'CN=agentspec-admin, O=system:masters', usage: 'client' }),
    // The apiserver's identity towards kubelets (logs, exec, port-forward): no anonymous kubelet access.
    ca.issue({ subject: 'CN=kube-apiserver-kubelet-client, O=system:masters', usage: 'client' }),
    ca.issue({ subject: 'CN=system:kube-controller-manager', usage: 'client' }),
    createSigningKeyPair(),
  ]);
  const file = (name: string, content: string): string => {
    const path = join(pkiDir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  const caFile = file('ca.crt', ca.certPem);
  const servingCert = file('apiserver.crt', serving.certPem);
  const servingKey = file('apiserver.key', serving.keyPem);
  const saKey = file('sa.key', serviceAccount.privateKeyPem);
  const saPub = file('sa.pub', serviceAccount.publicKeyPem);
  const kubeletClientCert = file('apiserver-kubelet-client.crt', kubeletClient.certPem);
  const kubeletClientKey = file('apiserver-kubelet-client.key', kubeletClient.keyPem);

  const kubeconfigFor = (name: string, user: KeyPairPem & { name: string }, impersonate?: string): string => {
    const path = join(dir, name);
    writeFileSync(path, renderKubeconfig(server, ca.certPem, user, impersonate), { mode: 0o600 });
    return path;
  };
  const kubeconfigPath = kubeconfigFor('kubeconfig', { name: 'agentspec-admin', ...admin });
  const kcmKubeconfig = kubeconfigFor('kube-controller-manager.kubeconfig', {
    name: 'kube-controller-manager',
    ...kcm,
  });
  const adminTls = { ca: ca.certPem, cert: admin.certPem, key: admin.keyPem };

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);

  const specs: Record<ComponentName, ComponentSpec> = {
    etcd: {
      command: binaries.etcd,
      args: [
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      waitReady: (proc) =>
        proc.waitUntil(
          'healthy',
          async () => (await httpGet(`http://127.0.0.1:${etcdPort}/health`)).status === 200,
          timeout,
        ),
    },
    'kube-apiserver': {
      command: binaries.kubeApiServer,
      args: [
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        `--bind-address=${listenAddress}`,
        `--advertise-address=${listenAddress}`,
        `--secure-port=${apiPort}`,
        `--cert-dir=${join(dir, 'apiserver-certs')}`,
        `--tls-cert-file=${servingCert}`,
        `--tls-private-key-file=${servingKey}`,
        `--client-ca-file=${caFile}`,
        `--kubelet-client-certificate=${kubeletClientCert}`,
        `--kubelet-client-key=${kubeletClientKey}`,
        `--kubelet-certificate-authority=${caFile}`,
        // The node's name is not in any DNS the host uses: reach the kubelet at its address.
        '--kubelet-preferred-address-types=InternalIP',
        '--authorization-mode=Node,RBAC',
        '--enable-admission-plugins=NodeRestriction',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${saPub}`,
        `--service-account-signing-key-file=${saKey}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        // Without a node nothing could reach the apiserver through its Service: no endpoints for it then.
        `--endpoint-reconciler-type=${withNode ? 'lease' : 'none'}`,
        '--allow-privileged=true',
        `--profiling=${options.apiserverProfiling === true}`,
        '--v=1',
      ],
      waitReady: (proc) =>
        proc.waitUntil('ready', async () => (await httpGet(`${server}/readyz`, adminTls)).status === 200, timeout),
    },
    'kube-controller-manager': {
      command: binaries.kubeControllerManager,
      args: [
        `--kubeconfig=${kcmKubeconfig}`,
        `--authentication-kubeconfig=${kcmKubeconfig}`,
        `--authorization-kubeconfig=${kcmKubeconfig}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${kcmPort}`,
        `--cert-dir=${join(dir, 'kcm-certs')}`,
        '--leader-elect=false',
        '--use-service-account-credentials=true',
        `--service-account-private-key-file=${saKey}`,
        `--root-ca-file=${caFile}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--profiling=false',
        '--v=1',
      ],
      waitReady: async (proc) => {
        await proc.waitUntil(
          'healthy',
          async () => (await httpGet(`https://127.0.0.1:${kcmPort}/healthz`, { insecure: true })).status === 200,
          timeout,
        );
        // The controllers really run once the service-account controller has made the default account.
        const core = kubeConfig.makeApiClient(CoreV1Api);
        await proc.waitUntil(
          'running its controllers (no default ServiceAccount)',
          async () => {
            await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
            return true;
          },
          timeout,
          500,
        );
      },
    },
  };

  const running = new Map<ComponentName, ManagedProcess>();
  const start = async (name: ComponentName): Promise<void> => {
    const spec = specs[name];
    const proc = new ManagedProcess({
      name,
      command: spec.command,
      args: spec.args,
      logPath: join(logDir, `${name}.log`),
      detached: options.detached ?? false,
    });
    running.set(name, proc);
    await spec.waitReady(proc);
  };
  const stopAll = async (): Promise<void> => {
    // Reverse start order: controllers first, etcd last.
    for (const name of ['kube-controller-manager', 'kube-apiserver', 'etcd'] as const) {
      await running.get(name)?.stop();
    }
  };
  const pids = (): Partial<Record<ComponentName, number>> =>
    Object.fromEntries([...running].filter(([, p]) => p.running).map(([n, p]) => [n, p.pid]));
  const writeState = (): void => {
    const state: ClusterState = { dir, kubeconfigPath, server, pids: pids() };
    writeFileSync(join(dir, 'cluster.json'), JSON.stringify(state, null, 2));
  };

  let node: TestNode | undefined;
  let hostDifferences: string[] = [];
  const stopEverything = async (): Promise<void> => {
    await node?.stop();
    await stopAll();
    if (withNode) {
      hostDifferences = releaseNode();
      if (hostDifferences.length) log(`the host is not as before: ${hostDifferences.join('; ')}`);
    }
  };
  try {
    await start('etcd');
    await start('kube-apiserver');
    if (options.controllerManager ?? true) await start('kube-controller-manager');
    if (images) {
      node = await startTestNode({
        dir: join(dir, 'node'),
        server,
        ca,
        caFile,
        binaries: nodeBinaries,
        images,
        kubeConfig,
        log,
        timeoutMs: timeout,
      });
    }
  } catch (err) {
    await stopEverything();
    if (!options.dir && !options.detached) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  writeState();

  return {
    dir,
    kubeconfigPath,
    server,
    get pids() {
      return pids();
    },
    kubeConfig,
    binaries,
    caPem: ca.certPem,
    node,
    nodeAbsentReason,
    get hostDifferences() {
      return hostDifferences;
    },
    writeKubeconfig(fileName, opts = {}) {
      return kubeconfigFor(fileName, { name: 'agentspec-admin', ...admin }, opts.impersonate);
    },
    async stopComponent(name) {
      await running.get(name)?.stop();
      writeState();
    },
    async startComponent(name) {
      if (running.get(name)?.running) return;
      await start(name);
      writeState();
    },
    async stop(opts = {}) {
      await stopEverything();
      if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
