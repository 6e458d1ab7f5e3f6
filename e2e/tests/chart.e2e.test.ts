// charts/agentspec against the real apiserver: every ci/*-values.yaml rendered and sent as a server-side dry run;
// then the user's commands — an install without flags, upgraded with controlPlane.enabled and webhook.enabled —
// with checks on what was created and on the generated keys surviving upgrades.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  AdmissionregistrationV1Api,
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PolicyV1Api,
  type V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { ENV, JWT_SECRET_KEY, REGISTRATION_SECRET, REGISTRATION_SECRET_KEY } from '@agentspec/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  chartDir,
  helm as runHelm,
  installChart,
  kubectl,
  startChartOperator,
  startChartWebhook,
  testbinPaths,
  USER_FLAGS,
  waitFor,
  writeImpersonatingKubeconfig,
} from '../src/index.js';
import { testKubeConfig, testKubeconfigPath, testNamespace } from '../src/vitest/test-context.js';

const root = resolve(import.meta.dirname, '..', '..');
const chart = chartDir;
const run = promisify(execFile);
const helm = (...args: string[]) => runHelm(testKubeconfigPath(), ...args);
const kubeVersion = () => testbinPaths().kubernetesVersion.replace(/^v/, '');

const kc = testKubeConfig();
const coach = parse(readFileSync(join(root, 'examples', 'fitness-coach', 'agent.yaml'), 'utf8')) as {
  spec: Record<string, unknown>;
};
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);

function expectRestricted(template: V1PodTemplateSpec | undefined, what: string): void {
  const pod = template?.spec;
  expect(pod?.securityContext?.runAsNonRoot, what).toBe(true);
  expect(pod?.securityContext?.seccompProfile?.type, what).toBe('RuntimeDefault');
  for (const container of pod?.containers ?? []) {
    expect(container.securityContext, `${what}/${container.name}`).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.resources?.requests, `${what}/${container.name}`).toBeDefined();
    expect(container.image, `${what}/${container.name}`).not.toMatch(/:latest$/);
  }
}

/** `helm template` of the chart with these values (`key=value`), only `showOnly` when given; its stdout. */
async function renderChart(values: string[], showOnly?: string): Promise<string> {
  const sets = values.flatMap((value) => ['--set', value]);
  const only = showOnly ? ['--show-only', showOnly] : [];
  return (await helm('template', 'agentspec', chart, '--kube-version', kubeVersion(), ...sets, ...only)).stdout;
}

describe('charts/agentspec', () => {
  afterAll(async () => {
    await helm('uninstall', 'agentspec', '-n', testNamespace()).catch(() => undefined);
  });

  it('renders every ci/*-values.yaml into objects the apiserver accepts (server-side dry run)', async () => {
    const files = readdirSync(join(chart, 'ci')).filter((f) => f.endsWith('-values.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const file of files) {
      const { stdout } = await helm(
        'template',
        'agentspec',
        chart,
        '-n',
        testNamespace(),
        '--kube-version',
        kubeVersion(),
        '-f',
        join(chart, 'ci', file),
      );
      const out = await kubectl(
        testKubeconfigPath(),
        ['apply', '--dry-run=server', '-n', testNamespace(), '-f', '-'],
        stdout,
      );
      expect(out, file).toContain('deployment.apps/agentspec-operator created (server dry run)');
    }
  });

  it('refuses unknown keys and wrong types with a message naming the value', async () => {
    const unknown = await helm('template', 'agentspec', chart, '--set', 'controlPlane.enable=true').catch(
      (err: { stderr: string }) => err,
    );
    expect((unknown as { stderr: string }).stderr).toMatch(/additional properties 'enable' not allowed/);
    const wrong = await helm('template', 'agentspec', chart, '--set', 'webhook.replicas=two').catch(
      (err: { stderr: string }) => err,
    );
    expect((wrong as { stderr: string }).stderr).toMatch(/webhook\/replicas.*got string, want integer/);
  });

  it('renders a PodDisruptionBudget only for a component with more than one replica', async () => {
    const render = async (replicas: number) =>
      (await renderChart([...USER_FLAGS, `webhook.replicas=${replicas}`, `controlPlane.replicas=${replicas}`])).match(
        /^kind: PodDisruptionBudget$/gm,
      )?.length ?? 0;
    expect(await render(2)).toBe(2);
    expect(await render(1)).toBe(0);
  });

  it('installs without flags, then upgrades with the control plane and the webhook, keeping the keys', async () => {
    const ns = testNamespace();
    await installChart(testKubeconfigPath(), ns);
    expect((await apps.readNamespacedDeployment({ name: 'agentspec-operator', namespace: ns })).spec?.replicas).toBe(1);
    await expect(core.readNamespacedSecret({ name: REGISTRATION_SECRET, namespace: ns })).rejects.toThrow();

    // The user's command, as an upgrade of that install.
    await installChart(testKubeconfigPath(), ns, USER_FLAGS);
    const secret = await core.readNamespacedSecret({ name: REGISTRATION_SECRET, namespace: ns });
    const apiKey = Buffer.from(secret.data?.[REGISTRATION_SECRET_KEY] ?? '', 'base64').toString();
    const jwtSecret = Buffer.from(secret.data?.[JWT_SECRET_KEY] ?? '', 'base64').toString();
    expect(apiKey.length).toBeGreaterThanOrEqual(32);
    expect(jwtSecret.length).toBeGreaterThanOrEqual(32);

    const deployment = (name: string) => apps.readNamespacedDeployment({ name, namespace: ns });
    const operator = await deployment('agentspec-operator');
    const webhook = await deployment('agentspec-webhook');
    const controlPlane = await deployment('agentspec-control-plane');
    expect(webhook.spec?.replicas).toBe(2);
    expect(controlPlane.spec?.replicas).toBe(2);
    const postgres = await apps.readNamespacedStatefulSet({ name: 'agentspec-postgresql', namespace: ns });
    expect(postgres.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.['storage']).toBe('8Gi');
    for (const [what, template] of [
      ['operator', operator.spec?.template],
      ['webhook', webhook.spec?.template],
      ['control plane', controlPlane.spec?.template],
      ['postgresql', postgres.spec?.template],
    ] as const) {
      expectRestricted(template, what);
    }
    expect(operator.spec?.template.spec?.containers[0]?.image).toBe('ghcr.io/agentspec/operator:0.1.0');
    const operatorEnv = Object.fromEntries(
      (operator.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]),
    );
    expect(operatorEnv[ENV.controlPlaneUrl]).toBe(`http://agentspec-control-plane.${ns}.svc:8080`);
    expect(operatorEnv['AGENTSPEC_ADMIN_KEY']).toEqual({
      secretKeyRef: { name: REGISTRATION_SECRET, key: REGISTRATION_SECRET_KEY },
    });
    expect(operatorEnv['AGENTSPEC_SIDECAR_IMAGE']).toBe('ghcr.io/agentspec/sidecar:0.1.0');
    const pdbs = await kc.makeApiClient(PolicyV1Api).listNamespacedPodDisruptionBudget({ namespace: ns });
    expect(pdbs.items.map((p) => p.metadata?.name).sort()).toEqual(['agentspec-control-plane', 'agentspec-webhook']);

    const configuration = await kc
      .makeApiClient(AdmissionregistrationV1Api)
      .readMutatingWebhookConfiguration({ name: 'agentspec-webhook' });
    const hook = configuration.webhooks?.[0];
    expect(hook).toMatchObject({
      failurePolicy: 'Ignore',
      reinvocationPolicy: 'IfNeeded',
      sideEffects: 'None',
      timeoutSeconds: 5,
      objectSelector: { matchLabels: { 'agentspec.io/inject': 'true' } },
      clientConfig: { service: { name: 'agentspec-webhook', namespace: ns, path: '/mutate' } },
    });
    expect(hook?.namespaceSelector?.matchExpressions?.[0]).toMatchObject({
      key: 'kubernetes.io/metadata.name',
      operator: 'NotIn',
      values: ['kube-system', 'kube-public', 'kube-node-lease', ns],
    });

    // Upgrades keep the generated keys.
    await installChart(testKubeconfigPath(), ns, USER_FLAGS);
    const again = await core.readNamespacedSecret({ name: REGISTRATION_SECRET, namespace: ns });
    expect(again.data).toEqual(secret.data);
    const pg = await core.readNamespacedSecret({ name: 'agentspec-postgresql', namespace: ns });
    await helm('upgrade', 'agentspec', chart, '-n', ns, '--reuse-values', '--set', 'operator.workers=8');
    expect((await core.readNamespacedSecret({ name: 'agentspec-postgresql', namespace: ns })).data).toEqual(pg.data);

    // Uninstall keeps the CRD (crds.keep).
    await helm('uninstall', 'agentspec', '-n', ns);
    const crd = await kc
      .makeApiClient(ApiextensionsV1Api)
      .readCustomResourceDefinition({ name: 'agents.agentspec.io' });
    expect(crd.metadata?.name).toBe('agents.agentspec.io');
  }, 180_000);

  it('runs the operator and the webhook with no more rights than the chart grants their ServiceAccounts', async () => {
    const ns = testNamespace();
    const agentsNs = `${ns}-agents`;
    await installChart(testKubeconfigPath(), ns, USER_FLAGS);
    await core.createNamespace({ body: { metadata: { name: agentsNs } } });
    const dir = mkdtempSync(join(tmpdir(), 'agentspec-rbac-'));
    const asServiceAccount = (name: string) =>
      writeImpersonatingKubeconfig(
        testKubeconfigPath(),
        `system:serviceaccount:${ns}:${name}`,
        join(dir, `${name}.kubeconfig`),
      );
    // The kubeconfigs really carry only the ServiceAccounts' rights.
    const canI = (kubeconfig: string, ...args: string[]) =>
      run(testbinPaths().kubectl, ['--kubeconfig', kubeconfig, 'auth', 'can-i', ...args]).then(
        (out) => out.stdout.trim(),
        (err: { stdout?: string }) => (err.stdout ?? '').trim(),
      );
    expect(await canI(asServiceAccount('agentspec-operator'), 'patch', 'deployments', '-n', agentsNs)).toBe('yes');
    expect(await canI(asServiceAccount('agentspec-operator'), 'list', 'nodes')).toBe('no');
    expect(await canI(asServiceAccount('agentspec-webhook'), 'list', 'secrets', '-n', ns)).toBe('no');
    const operator = await startChartOperator({ kubeconfigPath: testKubeconfigPath(), namespace: ns, dir });
    const webhook = await startChartWebhook({
      kubeconfigPath: testKubeconfigPath(),
      namespace: ns,
      dir,
      controlPlaneUrl: `http://agentspec-control-plane.${ns}.svc:8080`,
    });
    try {
      // The webhook's rotator: its Secret and the configuration's caBundle.
      const tls = await core.readNamespacedSecret({ name: 'agentspec-webhook-tls', namespace: ns });
      expect(Object.keys(tls.data ?? {}).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
      await waitFor('caBundle', async () =>
        Boolean(
          (
            await kc
              .makeApiClient(AdmissionregistrationV1Api)
              .readMutatingWebhookConfiguration({ name: 'agentspec-webhook' })
          ).webhooks?.[0]?.clientConfig.caBundle,
        ),
      );
      // The operator: an Agent in another namespace reconciled, the registration Secret copied there.
      await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
        group: 'agentspec.io',
        version: 'v1',
        namespace: agentsNs,
        plural: 'agents',
        body: { apiVersion: 'agentspec.io/v1', kind: 'Agent', metadata: { name: 'coach' }, spec: coach.spec },
      });
      await operator.process.waitUntil(
        'the Agent reconciled',
        async () => {
          const agent = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
            group: 'agentspec.io',
            version: 'v1',
            namespace: agentsNs,
            plural: 'agents',
            name: 'coach',
          })) as { metadata: { generation: number }; status?: { observedGeneration?: number } };
          return agent.status?.observedGeneration === agent.metadata.generation;
        },
        30_000,
      );
      expect((await apps.readNamespacedDeployment({ name: 'coach', namespace: agentsNs })).metadata?.name).toBe(
        'coach',
      );
      await operator.process.waitUntil(
        'the registration Secret copied',
        async () =>
          (await core
            .readNamespacedSecret({ name: REGISTRATION_SECRET, namespace: agentsNs })
            .catch(() => undefined)) !== undefined,
        30_000,
      );
      for (const [process_, what] of [
        [operator.process, 'operator'],
        [webhook.process, 'webhook'],
      ] as const) {
        expect(process_.logTail(400), what).not.toMatch(/forbidden/i);
      }
    } finally {
      await operator.stop();
      await webhook.stop();
      await core.deleteNamespace({ name: agentsNs }).catch(() => undefined);
    }
  }, 180_000);

  it('derives jwtSecret from a given apiKey (seed 000)', async () => {
    const render = () =>
      renderChart(
        ['controlPlane.enabled=true', 'controlPlane.apiKey=given-admin-key-0123456789'],
        'templates/secret.yaml',
      );
    const stdout = await render();
    const data = Object.fromEntries(
      [...stdout.matchAll(/^ {2}(\w+): "([^"]+)"$/gm)].map((m) => [m[1], Buffer.from(m[2] ?? '', 'base64').toString()]),
    );
    expect(data['apiKey']).toBe('given-admin-key-0123456789');
    expect(data['jwtSecret']).toMatch(/^[0-9a-f]{64}$/);
    expect(await render()).toBe(stdout);
  });
});
