// `make kind-e2e`: the end-to-end scenario on a kind cluster of your Docker, for platform teams' own CI. Builds the
// four images (`make images`) and the example agent's, builds kind from the Go module proxy, creates the cluster
// (e2e/kind/cluster.yaml), loads the images, installs the chart with the user's flags and runs the shared scenario
// (e2e/src/scenario/first-agent.ts, the same module the in-process test cluster runs): the fitness coach Registered
// with a grade. Deletes the cluster afterwards unless --keep.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { cacheDir, readVersions } from '../testbin.js';
import { runFirstAgentScenario } from '../scenario/first-agent.js';
import { KIND_EXAMPLE_IMAGE, kindBinary, kindPrerequisites, kindProvider } from '../scenario/providers.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..', '..', '..');
const say = (message: string): void => console.log(`kind-e2e: ${message}`);

const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false } } });
const missing = await kindPrerequisites();
if (missing.length > 0) {
  console.error(`make kind-e2e needs ${missing.join(' and ')}. Nothing was started.`);
  process.exit(2);
}
const appVersion = /^appVersion:\s*['"]?([^'"\s]+)/m.exec(
  readFileSync(join(root, 'charts', 'agentspec', 'Chart.yaml'), 'utf8'),
)?.[1];
const registry = process.env['IMAGE_REGISTRY'] ?? 'ghcr.io/agentspec';
const images = ['operator', 'webhook', 'control-plane', 'sidecar'].map((t) => `${registry}/${t}:${appVersion}`);
say('building the images (make images)');
await run('make', ['--no-print-directory', 'images', `IMAGE_REGISTRY=${registry}`], { cwd: root, timeout: 3_600_000 });
await run(
  'docker',
  [
    'build',
    '-f',
    'e2e/kind/example-agent.Dockerfile',
    '--build-arg',
    `BASE=${registry}/sidecar:${appVersion}`,
    '-t',
    KIND_EXAMPLE_IMAGE,
    '.',
  ],
  { cwd: root, timeout: 600_000 },
);
const kind = await kindBinary(cacheDir(), readVersions()['KIND_VERSION'] ?? 'v0.33.0');
const clusterName = 'agentspec-e2e';
const dir = join(cacheDir(), 'kind');
mkdirSync(dir, { recursive: true });
const kubeconfigPath = join(dir, 'kubeconfig');
const clusters = (await run(kind, ['get', 'clusters'])).stdout.split('\n');
if (!clusters.includes(clusterName)) {
  say(`creating the kind cluster ${clusterName}`);
  await run(
    kind,
    ['create', 'cluster', '--config', join(root, 'e2e', 'kind', 'cluster.yaml'), '--kubeconfig', kubeconfigPath],
    {
      timeout: 900_000,
    },
  );
} else {
  await run(kind, ['export', 'kubeconfig', '--name', clusterName, '--kubeconfig', kubeconfigPath]);
}
try {
  const result = await runFirstAgentScenario(
    kindProvider({
      kind,
      clusterName,
      kubeconfigPath,
      images: [...images, KIND_EXAMPLE_IMAGE],
      imageRegistry: registry,
    }),
    { releaseNamespace: 'agentspec-system', agentsNamespace: 'agentspec-e2e', log: say },
  );
  say(`passed: fitness-coach Registered, phase ${result.phase}, grade ${result.grade}, score ${result.score}`);
} finally {
  if (!values.keep) await run(kind, ['delete', 'cluster', '--name', clusterName]).catch(() => undefined);
  else say(`kept: export KUBECONFIG=${kubeconfigPath}`);
}
