import { join, resolve } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { kubectl } from '../crds.js';
import type { RunningPlatform } from '../pod-platform.js';
import { waitFor } from '../wait-for.js';

const root = resolve(import.meta.dirname, '..', '..', '..');

/**
 * Where the product is installed: the in-process test cluster of this repository (`inProcessProvider`) or a kind
 * cluster of the user's Docker (`kindProvider`). `start` installs the chart with the user's flags
 * (`--set controlPlane.enabled=true --set webhook.enabled=true`) plus the values that point it at the images the
 * provider has, and resolves once every workload of the release is ready.
 */
export interface ClusterProvider {
  name: string;
  kubeconfigPath: string;
  start(releaseNamespace: string, agentsNamespace: string): Promise<RunningPlatform>;
}

export interface FirstAgentResult {
  phase: string | undefined;
  grade: string;
  score: number;
}

/**
 * The scenario every provider runs (one module, so the two never drift): the chart installed, then
 * `kubectl apply -f examples/fitness-coach/agent.yaml` in a namespace of its own, and the Agent Registered with a grade
 * that the control plane reports (its pod's sidecar registered it through the Service).
 */
export async function runFirstAgentScenario(
  provider: ClusterProvider,
  options: { releaseNamespace: string; agentsNamespace: string; log?: (message: string) => void },
): Promise<FirstAgentResult> {
  const log = options.log ?? (() => undefined);
  const kc = new KubeConfig();
  kc.loadFromFile(provider.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  log(`${provider.name}: installing the chart into ${options.releaseNamespace}`);
  await core.createNamespace({ body: { metadata: { name: options.agentsNamespace } } }).catch(() => undefined);
  const platform = await provider.start(options.releaseNamespace, options.agentsNamespace);
  try {
    log(`${provider.name}: kubectl apply -f examples/fitness-coach/agent.yaml`);
    await kubectl(provider.kubeconfigPath, [
      'apply',
      '-n',
      options.agentsNamespace,
      '-f',
      join(root, 'examples', 'fitness-coach', 'agent.yaml'),
    ]);
    const status = await waitFor(
      'the Agent Registered with a grade',
      async () => {
        const agent = (await custom.getNamespacedCustomObject({
          group: 'agentspec.io',
          version: 'v1',
          namespace: options.agentsNamespace,
          plural: 'agents',
          name: 'fitness-coach',
        })) as {
          status?: { phase?: string; grade?: string; score?: number; conditions?: { type: string; status: string }[] };
        };
        const s = agent.status;
        const registered = s?.conditions?.some((c) => c.type === 'Registered' && c.status === 'True');
        return registered && s?.grade && s.score !== undefined ? s : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 2_000 },
    );
    log(`${provider.name}: fitness-coach Registered, grade ${status.grade}, score ${status.score}`);
    await kubectl(provider.kubeconfigPath, [
      'delete',
      '-n',
      options.agentsNamespace,
      '-f',
      join(root, 'examples', 'fitness-coach', 'agent.yaml'),
      '--wait=true',
    ]);
    return { phase: status.phase, grade: status.grade as string, score: status.score as number };
  } finally {
    await platform.stop();
  }
}
