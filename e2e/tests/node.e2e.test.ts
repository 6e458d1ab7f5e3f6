// The test cluster's node runs pods for real: containerd and runc under a kubelet with a system:node certificate,
// probes executed by the kubelet, restarts, logs and exec through the apiserver, Services through kube-proxy, names
// through CoreDNS, and Pod Security enforced by the apiserver and by the runtime. Where no node can start here
// (not root, no containerd), the reason is stated and checked instead.
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { kubectl, waitFor } from '../src/index.js';
import { BUSYBOX_IMAGE } from '../src/node/images.js';
import { testKubeConfig, testKubeconfigPath, testNamespace, testNode } from '../src/vitest/test-context.js';

const node = testNode();
const core = testKubeConfig().makeApiClient(CoreV1Api);

const busybox = (name: string, script: string, extra: Partial<NonNullable<V1Pod['spec']>['containers'][0]> = {}) => ({
  name,
  image: BUSYBOX_IMAGE,
  imagePullPolicy: 'Never',
  command: ['sh', '-c', script],
  ...extra,
});

async function createPod(body: V1Pod, namespace = testNamespace()): Promise<V1Pod> {
  return core.createNamespacedPod({ namespace, body });
}

const podStatus = async (name: string, namespace = testNamespace()) =>
  (await core.readNamespacedPod({ name, namespace })).status;

/** Runs a pod to completion and returns its log. */
async function runToCompletion(name: string, script: string, namespace = testNamespace()): Promise<string> {
  await createPod(
    { metadata: { name }, spec: { restartPolicy: 'Never', containers: [busybox(name, script)] } },
    namespace,
  );
  const phase = await waitFor(
    `pod ${name} to finish`,
    async () => {
      const p = (await podStatus(name, namespace))?.phase;
      return p === 'Succeeded' || p === 'Failed' ? p : undefined;
    },
    { timeoutMs: 60_000 },
  );
  const log = await kubectl(testKubeconfigPath(), ['logs', '-n', namespace, name]);
  expect(phase, log).toBe('Succeeded');
  return log;
}

if (node.running) {
  describe('the test node', () => {
    it('runs a pod whose HTTP readiness probe the kubelet executes, in a containerd container', async () => {
      await createPod({
        metadata: { name: 'web', labels: { app: 'web' } },
        spec: {
          containers: [
            busybox(
              'web',
              'mkdir -p /tmp/www && echo hello-from-web > /tmp/www/index.html && echo started && exec httpd -f -p 8080 -h /tmp/www',
              { readinessProbe: { httpGet: { path: '/index.html', port: 8080 }, periodSeconds: 1 } },
            ),
          ],
        },
      });
      const status = await waitFor(
        'web to be Ready',
        async () => {
          const s = await podStatus('web');
          return s?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? s : undefined;
        },
        { timeoutMs: 60_000 },
      );
      expect(status.containerStatuses?.[0]?.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
      expect(status.podIP).toMatch(/^10\.244\.0\.\d+$/);
    });

    it('serves logs and exec through the apiserver (kubelet client certificate, no anonymous kubelet)', async () => {
      expect(await kubectl(testKubeconfigPath(), ['logs', '-n', testNamespace(), 'web'])).toContain('started');
      const out = await kubectl(testKubeconfigPath(), [
        'exec',
        '-n',
        testNamespace(),
        'web',
        '--',
        'cat',
        '/tmp/www/index.html',
      ]);
      expect(out.trim()).toBe('hello-from-web');
    });

    it('routes a Service by its DNS name from another pod (kube-proxy, CoreDNS)', async () => {
      await core.createNamespacedService({
        namespace: testNamespace(),
        body: {
          metadata: { name: 'web' },
          spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
        },
      });
      const fqdn = `web.${testNamespace()}.svc.cluster.local`;
      const log = await runToCompletion(
        'client',
        // Endpoints reach kube-proxy a moment after the Service exists: the client retries for a while.
        `for i in $(seq 1 60); do wget -qO- http://${fqdn}/index.html && exit 0; sleep 0.5; done; exit 1`,
      );
      expect(log).toContain('hello-from-web');
      const short = await runToCompletion('short-name', 'wget -qO- http://web/index.html');
      expect(short).toContain('hello-from-web');
    });

    it('restarts a container whose liveness probe fails', async () => {
      await createPod({
        metadata: { name: 'flaky' },
        spec: {
          terminationGracePeriodSeconds: 1, // sleep as PID 1 ignores SIGTERM
          containers: [
            busybox('flaky', 'touch /tmp/alive; sleep 2; rm /tmp/alive; exec sleep 3600', {
              livenessProbe: { exec: { command: ['cat', '/tmp/alive'] }, periodSeconds: 1, failureThreshold: 1 },
            }),
          ],
        },
      });
      await waitFor(
        'the kubelet to restart it',
        async () => ((await podStatus('flaky'))?.containerStatuses?.[0]?.restartCount ?? 0) >= 1,
        { timeoutMs: 60_000 },
      );
    });

    it('enforces Pod Security restricted: a privileged pod is refused, a compliant one runs confined', async () => {
      const restricted = `${testNamespace()}-restricted`;
      await core.createNamespace({
        body: { metadata: { name: restricted, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
      });
      try {
        await waitFor('the default ServiceAccount', async () =>
          core.readNamespacedServiceAccount({ name: 'default', namespace: restricted }).then(() => true),
        );
        await expect(
          createPod({ metadata: { name: 'root' }, spec: { containers: [busybox('root', 'id')] } }, restricted),
        ).rejects.toMatchObject({ code: 403 });
        await createPod(
          {
            metadata: { name: 'confined' },
            spec: {
              restartPolicy: 'Never',
              securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
              containers: [
                busybox('confined', 'id -u; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status', {
                  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
                }),
              ],
            },
          },
          restricted,
        );
        await waitFor(
          'the confined pod to finish',
          async () => (await podStatus('confined', restricted))?.phase === 'Succeeded',
          {
            timeoutMs: 60_000,
          },
        );
        const log = await kubectl(testKubeconfigPath(), ['logs', '-n', restricted, 'confined']);
        // Enforced by the runtime: no capabilities, no new privileges, a seccomp filter (mode 2).
        expect(log).toMatch(/^65532$/m);
        expect(log).toMatch(/^CapEff:\s+0000000000000000$/m);
        expect(log).toMatch(/^NoNewPrivs:\s+1$/m);
        expect(log).toMatch(/^Seccomp:\s+2$/m);
      } finally {
        await core.deleteNamespace({ name: restricted }).catch(() => undefined);
      }
    });
  });
} else {
  describe('without a node', () => {
    it('states why none runs, and the e2e tier falls back to the pod runner', () => {
      // The reasons a machine cannot run one; anything else is a failure to investigate.
      expect(node.reason).toMatch(/not root|missing|not Linux|AGENTSPEC_TEST_NODE=0|in use|no cgroup/);
    });
  });
}
