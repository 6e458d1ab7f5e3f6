// bench/operator: create N Agents and time until every one has its Deployment and a current observedGeneration,
// against a baseline in the same run that creates the same ConfigMaps, Deployments and Services directly with the
// same client and the same concurrency (the QPS budget: that many requests in flight). Prints the ratio, the
// operator's memory per Agent (V8 heap after a full GC, through its inspector) beside the JSON bytes of what it caches
// per Agent, the work queue's wait and work percentiles, and the API writes during a resync in which nothing changed
// (must be 0).
// Runs on its own test cluster without kube-controller-manager, so the operator is the only writer.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  Watch,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { reuseConnections } from '@agentspec/operator';
import { agentResourceSpecSchema, buildWorkload } from '@agentspec/sdk';
import { freePort, installCrds, kubectl, ManagedProcess, startTestCluster } from '@agentspec/e2e';
import { histogramQuantile, metricSamples, metricSum, scrape } from './prometheus.js';
import { memoryAfterGc, processCpuMs, rssKiB } from './usage.js';

const root = resolve(import.meta.dirname, '..', '..');
const count = Number(process.env['BENCH_AGENTS'] ?? 1000);
const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 8);
const resyncSeconds = 40;
const coach = parse(readFileSync(join(root, 'examples', 'fitness-coach', 'agent.yaml'), 'utf8')) as {
  spec: Record<string, unknown>;
};

async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
}

const TOUCHED_RESOURCES = new Set([
  'agents',
  'deployments',
  'configmaps',
  'services',
  'events',
  'secrets',
  'controllerrevisions',
  'networkpolicies',
]);
const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY']);

const names = Array.from({ length: count }, (_, i) => `agent-${String(i).padStart(4, '0')}`);
const cluster = await startTestCluster({
  controllerManager: false,
  apiserverProfiling: process.env['BENCH_APISERVER_PROFILE_DIR'] !== undefined,
});
let operator: ManagedProcess | undefined;
try {
  await installCrds(cluster.kubeconfigPath);
  // The same client as the operator's: one connection pool (client-node alone opens a connection per request).
  const kc = reuseConnections(cluster.kubeConfig);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  for (const ns of ['baseline', 'operated']) await core.createNamespace({ body: { metadata: { name: ns } } });

  /**
   * The apiserver's own count of requests (and the seconds it spent serving them, watches aside) by verb and resource,
   * on the resources an operator touches.
   */
  const apiRequests = async (): Promise<Map<string, { n: number; seconds: number }>> => {
    const text = await kubectl(cluster.kubeconfigPath, ['get', '--raw', '/metrics']);
    const by = new Map<string, { n: number; seconds: number }>();
    const add = (metric: string, field: 'n' | 'seconds') => {
      for (const { labels, value } of metricSamples(text, metric)) {
        const { verb = '', resource = '', subresource } = labels;
        if (verb === 'WATCH' || !TOUCHED_RESOURCES.has(resource)) continue;
        const key = `${verb} ${resource}${subresource ? `/${subresource}` : ''}`;
        const entry = by.get(key) ?? { n: 0, seconds: 0 };
        entry[field] += value;
        by.set(key, entry);
      }
    };
    add('apiserver_request_total', 'n');
    add('apiserver_request_duration_seconds_sum', 'seconds');
    return by;
  };
  const delta = (
    after: Map<string, { n: number; seconds: number }>,
    before: Map<string, { n: number; seconds: number }>,
  ) =>
    new Map(
      [...after]
        .map(
          ([key, v]) =>
            [
              key,
              { n: v.n - (before.get(key)?.n ?? 0), seconds: v.seconds - (before.get(key)?.seconds ?? 0) },
            ] as const,
        )
        .filter(([, v]) => v.n > 0),
    );
  const isWrite = (key: string) => WRITE_VERBS.has(key.split(' ')[0]!);
  /** Writes the apiserver counted on the resources an operator touches. */
  const apiWrites = async (): Promise<{ total: number; by: Map<string, number> }> => {
    const by = new Map(
      [...(await apiRequests())].filter(([key]) => isWrite(key)).map(([key, v]) => [key, v.n] as const),
    );
    return { total: [...by.values()].reduce((a, b) => a + b, 0), by };
  };
  /** The apiserver's CPU profile over `seconds` (its /debug/pprof), written to `path` for `go tool pprof`. */
  const profileApiserver = (path: string, seconds: number): Promise<void> =>
    new Promise((resolvePromise, reject) => {
      const out = createWriteStream(path);
      const child = spawn(cluster.binaries.kubectl, [
        '--kubeconfig',
        cluster.kubeconfigPath,
        'get',
        '--raw',
        `/debug/pprof/profile?seconds=${seconds}`,
      ]);
      child.stdout.pipe(out);
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolvePromise() : reject(new Error(`pprof: kubectl exited ${code}`))));
    });
  const profileDir = process.env['BENCH_APISERVER_PROFILE_DIR'];
  const profileSeconds = 20;
  /** CPU the apiserver, etcd and the operator have used so far (ms, from /proc). */
  const serverCpu = () => ({
    apiserver: processCpuMs(cluster.pids['kube-apiserver']!),
    etcd: processCpuMs(cluster.pids.etcd!),
    operator: operator ? processCpuMs(operator.pid) : 0,
  });

  // Baseline: the same objects, created directly.
  const spec = agentResourceSpecSchema.parse(coach.spec);
  const baselineRequests = await apiRequests();
  const baselineCpu0 = serverCpu();
  const baselineProfile = profileDir
    ? profileApiserver(join(profileDir, 'apiserver-baseline.pprof'), profileSeconds)
    : undefined;
  const baselineStart = performance.now();
  await pool(names, concurrency, async (name) => {
    for (const object of buildWorkload({
      name,
      namespace: 'baseline',
      spec,
      sidecarImage: 'registry.test/agentspec-sidecar:0.1.0',
      managedBy: 'bench-baseline',
    })) {
      await objects.create(object as KubernetesObject);
    }
  });
  const baselineSeconds = (performance.now() - baselineStart) / 1000;
  const baselineCpu1 = serverCpu();
  const baselineByKind = delta(await apiRequests(), baselineRequests);
  await baselineProfile;

  // The operator.
  const [healthPort, metricsPort, inspectPort] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'bench-operator-'));
  console.error(`baseline: ${baselineSeconds.toFixed(1)} s; operator log: ${join(dir, 'operator.log')}`);
  operator = new ManagedProcess({
    name: 'agentspec-operator',
    command: process.execPath,
    args: [
      `--inspect=127.0.0.1:${inspectPort}`,
      // e.g. --cpu-prof --cpu-prof-dir=/tmp/prof, to see where the operator's time goes
      ...(process.env['BENCH_OPERATOR_NODE_OPTIONS']?.split(' ').filter(Boolean) ?? []),
      join(root, 'operator', 'dist', 'bin', 'operator.js'),
      `--kubeconfig=${cluster.kubeconfigPath}`,
      '--namespace=operated',
      '--leader-elect=false',
      `--workers=${concurrency}`,
      `--resync-seconds=${resyncSeconds}`,
      `--health-addr=127.0.0.1:${healthPort}`,
      `--metrics-addr=127.0.0.1:${metricsPort}`,
      '--log-level=warn',
    ],
    logPath: join(dir, 'operator.log'),
  });
  await operator.waitUntil('ready', async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).ok, 30_000);
  const idleRss = rssKiB(operator.pid);
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  /** Retained memory after a GC and the JSON bytes its informers hold (the operator's own count, every resource). */
  const sample = async () => {
    const memory = await memoryAfterGc(inspectPort);
    const json = metricSum(await scrape(metricsUrl), 'agentspec_operator_cache_json_bytes');
    return { retained: memory.heapUsed + memory.external, json };
  };
  // Which Agents have a current observedGeneration, kept by one watch: polling with a list of every Agent would make
  // the apiserver serialise them all twice a second (it did: a third of its time per Agent), which the baseline does
  // not pay.
  const current = new Set<string>();
  let watchError: unknown;
  const agentWatch = await new Watch(kc).watch(
    '/apis/agentspec.io/v1/namespaces/operated/agents',
    { allowWatchBookmarks: false },
    (type, object: { metadata: { name: string; generation: number }; status?: { observedGeneration?: number } }) => {
      if (type !== 'DELETED' && object.status?.observedGeneration === object.metadata.generation) {
        current.add(object.metadata.name);
      } else current.delete(object.metadata.name);
    },
    (err: unknown) => {
      if (err) watchError = err;
    },
  );
  const converged = async (expected: number): Promise<boolean> => {
    if (watchError) throw new Error(`the watch of Agents ended: ${String(watchError)}`);
    if (current.size < expected) return false;
    const deployments = await apps.listNamespacedDeployment({ namespace: 'operated' });
    return deployments.items.length === expected;
  };
  // Two halves, memory sampled after each: the growth from the first half to all of them is what an Agent costs
  // (the first sample already holds the code V8 compiled and the buffers the first reconciles allocated).
  const half = Math.floor(count / 2);
  let operatorSeconds = 0;
  const samples: { agents: number; retained: number; json: number }[] = [];
  const operatorRequests = await apiRequests();
  const operatorCpu0 = serverCpu();
  let operatorCpu1 = operatorCpu0;
  let operatorProfile: Promise<void> | undefined;
  for (const batch of [names.slice(0, half), names.slice(half)]) {
    const started = performance.now();
    if (profileDir && !operatorProfile) {
      operatorProfile = profileApiserver(join(profileDir, 'apiserver-operator.pprof'), profileSeconds);
    }
    await pool(batch, concurrency, (name) =>
      custom.createNamespacedCustomObject({
        group: 'agentspec.io',
        version: 'v1',
        namespace: 'operated',
        plural: 'agents',
        body: { apiVersion: 'agentspec.io/v1', kind: 'Agent', metadata: { name }, spec: coach.spec },
      }),
    );
    const expected = samples.length === 0 ? half : count;
    await operator.waitUntil('converged', () => converged(expected), 60 * 60_000, 500);
    operatorSeconds += (performance.now() - started) / 1000;
    if (expected === count) operatorCpu1 = serverCpu();
    // Sampled once the operator is idle: nothing queued, nothing being reconciled (the echoes of its own writes done).
    await operator.waitUntil(
      'idle',
      async () => {
        const text = await scrape(metricsUrl);
        const depth = metricSum(text, 'workqueue_depth', { name: 'agent' });
        return depth === 0 && metricSum(text, 'controller_runtime_active_workers', { controller: 'agent' }) === 0;
      },
      60_000,
      500,
    );
    samples.push({ agents: expected, ...(await sample()) });
  }
  // Both halves: the requests served while the operator converged and went idle (the memory samples read no API).
  const operatorByKind = delta(await apiRequests(), operatorRequests);
  agentWatch.abort();
  await operatorProfile;
  console.error(`operator converged in ${operatorSeconds.toFixed(1)} s; waiting for a resync`);
  const loadedRss = rssKiB(operator.pid);
  const metricsText = await scrape(metricsUrl);

  // A resync in which nothing changed: every Agent is reconciled again, nothing is written.
  const reconciles = async (): Promise<number> => {
    const text = await scrape(metricsUrl);
    return metricSum(text, 'controller_runtime_reconcile_total', { controller: 'agent', result: 'success' });
  };
  await new Promise((r) => setTimeout(r, 3_000)); // let the last status writes come back through the watch
  const writesBefore = await apiWrites();
  const reconcilesBefore = await reconciles();
  await operator.waitUntil(
    'a full resync',
    async () => (await reconciles()) - reconcilesBefore >= count,
    (resyncSeconds + 60) * 1000,
    1_000,
  );
  const writesAfter = await apiWrites();
  const resyncWrites = writesAfter.total - writesBefore.total;
  const byKind = [...writesAfter.by]
    .map(([key, n]) => [key, n - (writesBefore.by.get(key) ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([key, n]) => `${key}: ${n}`);

  console.log(
    `bench/operator: ${count} Agents, ${concurrency} requests in flight (operator --workers=${concurrency}), Node ${process.version}`,
  );
  console.log(
    `baseline (create ConfigMap+Deployment+Service directly): ${baselineSeconds.toFixed(1)} s (${(count / baselineSeconds).toFixed(0)} Agents/s)`,
  );
  console.log(
    `operator (create Agent → Deployment + observedGeneration): ${operatorSeconds.toFixed(1)} s (${(count / operatorSeconds).toFixed(0)} Agents/s)`,
  );
  console.log(`ratio operator / baseline time: ${(operatorSeconds / baselineSeconds).toFixed(2)}×`);
  const perAgent = (a: number, b: number) => `${((b - a) / count).toFixed(1)} ms`;
  console.log(
    `CPU per Agent (from /proc): kube-apiserver ${perAgent(baselineCpu0.apiserver, baselineCpu1.apiserver)} baseline, ` +
      `${perAgent(operatorCpu0.apiserver, operatorCpu1.apiserver)} operator; etcd ${perAgent(baselineCpu0.etcd, baselineCpu1.etcd)} ` +
      `baseline, ${perAgent(operatorCpu0.etcd, operatorCpu1.etcd)} operator; the operator ${perAgent(operatorCpu0.operator, operatorCpu1.operator)}`,
  );
  console.log(`API requests per Agent (apiserver_request_total), and the apiserver's time serving them per Agent:`);
  for (const key of [...new Set([...baselineByKind.keys(), ...operatorByKind.keys()])].sort()) {
    const cell = (m: Map<string, { n: number; seconds: number }>) => {
      const v = m.get(key);
      return (v ? `${(v.n / count).toFixed(2)} (${((1000 * v.seconds) / count).toFixed(1)} ms)` : '-').padStart(18);
    };
    console.log(`  ${key.padEnd(36)} baseline ${cell(baselineByKind)}   operator ${cell(operatorByKind)}`);
  }
  if (profileDir)
    console.log(`apiserver CPU profiles (${profileSeconds} s each): ${profileDir}/apiserver-{baseline,operator}.pprof`);
  const [first, all] = samples as [(typeof samples)[0], (typeof samples)[0]];
  const added = all.agents - first.agents;
  const memoryPerAgent = (all.retained - first.retained) / 1024 / added;
  const jsonPerAgent = (all.json - first.json) / 1024 / added;
  for (const s of samples) {
    console.log(
      `operator with ${s.agents} Agents: ${(s.retained / 1048576).toFixed(1)} MiB retained after GC (heap + external), ${(s.json / 1048576).toFixed(1)} MiB of cached JSON`,
    );
  }
  console.log(
    `per Agent (from ${first.agents} to ${all.agents}): ${memoryPerAgent.toFixed(1)} KiB retained, ${jsonPerAgent.toFixed(1)} KiB cached JSON: ${(memoryPerAgent / jsonPerAgent).toFixed(2)}× (aims: ≤ 1.5×, ≤ 64 KiB per Agent)`,
  );
  console.log(
    `operator RSS: ${(idleRss / 1024).toFixed(1)} MiB idle, ${(loadedRss / 1024).toFixed(1)} MiB with ${count} Agents → ${((loadedRss - idleRss) / count).toFixed(1)} KiB per Agent (includes garbage not yet collected)`,
  );
  for (const metric of ['workqueue_queue_duration_seconds', 'workqueue_work_duration_seconds']) {
    const q = (p: number) => `${(histogramQuantile(metricsText, metric, { name: 'agent' }, p) * 1000).toFixed(0)} ms`;
    console.log(`${metric}{name="agent"}: p50 ${q(0.5)}, p90 ${q(0.9)}, p99 ${q(0.99)}`);
  }
  console.log(
    `API writes during a resync that changed nothing: ${resyncWrites} (must be 0)${byKind.length ? ` — ${byKind.join(', ')}` : ''}`,
  );
  if (resyncWrites !== 0) process.exitCode = 1;
} finally {
  await operator?.stop();
  await cluster.stop();
}
