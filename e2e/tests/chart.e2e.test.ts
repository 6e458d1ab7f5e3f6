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
  KubeConfig,
  NetworkingV1Api,
  PolicyV1Api,
  RbacAuthorizationV1Api,
  type V1PodTemplateSpec,
} from '@kubernetes/client-node';
import {
  ENV,
  JWT_SECRET_KEY,
  REGISTRATION_SECRET,
  REGISTRATION_SECRET_KEY,
  scopedRegistrationKey,
} from '@agentspec/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  chartDir,
  helm as runHelm,
  installChart,
  kubectl,
  startChartOperator,
  startChartWebhook,
  startControlPlaneProcess,
  testbinPaths,
  USER_FLAGS,
  waitFor,
  writeImpersonatingKubeconfig,
} from '../src/index.js';
import { testDatabase, testKubeConfig, testKubeconfigPath, testNamespace } from '../src/vitest/test-context.js';

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

/**
 * `helm template` of the chart with these values (`key=value`), only `showOnly` when given; its stdout. An apiKey is
 * given first (the values may override it): without a cluster the chart refuses to generate keys.
 */
async function renderChart(values: string[], showOnly?: string): Promise<string> {
  const sets = ['controlPlane.apiKey=render-admin-key-0123456789abcdef', ...values].flatMap((value) => [
    '--set',
    value,
  ]);
  const only = showOnly ? ['--show-only', showOnly] : [];
  return (await helm('template', 'agentspec', chart, '--kube-version', kubeVersion(), ...sets, ...only)).stdout;
}

describe('charts/agentspec', () => {
  afterAll(async () => {
    // --no-hooks: no kubelet runs the pre-delete Job here; its command is tested on its own below.
    await helm('uninstall', 'agentspec', '-n', testNamespace(), '--no-hooks').catch(() => undefined);
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

  it('passes numeric values to the components as whole numbers (Helm would print 2592000 as 2.592e+06)', async () => {
    const rendered = await renderChart(USER_FLAGS);
    const values = [...rendered.matchAll(/- name: (\w+)\n\s+value: "?([^"\n]*)"?/g)].map(([, name, value]) => ({
      name,
      value,
    }));
    expect(values.find((v) => v.name === 'AGENTSPEC_TOKEN_TTL_SECONDS')?.value).toBe('2592000');
    expect(values.find((v) => v.name === 'CERT_VALIDITY_SECONDS')?.value).toBe('31536000');
    expect(values.filter((v) => /^[0-9.]+e[+-][0-9]+$/.test(v.value ?? ''))).toEqual([]);
  });

  it('renders a PodDisruptionBudget only for a component with more than one replica', async () => {
    const render = async (replicas: number) =>
      (await renderChart([...USER_FLAGS, `webhook.replicas=${replicas}`, `controlPlane.replicas=${replicas}`])).match(
        /^kind: PodDisruptionBudget$/gm,
      )?.length ?? 0;
    expect(await render(2)).toBe(2);
    expect(await render(1)).toBe(0);
  });

  it('ships ingress NetworkPolicies: PostgreSQL from the control plane only, the control plane from agent pods and the operator', async () => {
    type Policy = {
      metadata: { name: string };
      spec: { podSelector: { matchLabels: Record<string, string> }; ingress?: { from?: Record<string, unknown>[] }[] };
    };
    const policies = (await renderChart(USER_FLAGS, 'templates/networkpolicy.yaml'))
      .split('\n---\n')
      .map((d) => parse(d) as Policy | null)
      .filter((d): d is Policy => d !== null);
    const byName = Object.fromEntries(policies.map((p) => [p.metadata.name, p]));
    const component = (c: string) => expect.objectContaining({ 'app.kubernetes.io/component': c });
    expect(byName['agentspec-postgresql']?.spec.ingress?.[0]?.from).toEqual([
      { podSelector: { matchLabels: component('control-plane') } },
    ]);
    expect(byName['agentspec-control-plane']?.spec.ingress?.[0]?.from).toEqual([
      { namespaceSelector: {}, podSelector: { matchLabels: { 'agentspec.io/inject': 'true' } } },
      { podSelector: { matchLabels: component('operator') } },
    ]);
    expect(Object.keys(byName).sort()).toEqual([
      'agentspec-control-plane',
      'agentspec-operator',
      'agentspec-operator-uninstall',
      'agentspec-postgresql',
      'agentspec-webhook',
    ]);
    expect(
      await renderChart([...USER_FLAGS, 'networkPolicy.enabled=false'], 'templates/networkpolicy.yaml').catch(
        (e: Error) => e.message,
      ),
    ).toContain('could not find template');
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
    await helm('uninstall', 'agentspec', '-n', ns, '--no-hooks');
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
    // No ServiceAccount of the chart reads the cluster's Secrets: the operator only those of one name.
    for (const account of ['agentspec-operator', 'agentspec-webhook', 'agentspec-control-plane']) {
      for (const verb of ['get', 'list', 'watch']) {
        expect([account, verb, await canI(asServiceAccount(account), verb, 'secrets', '-n', 'kube-system')]).toEqual([
          account,
          verb,
          'no',
        ]);
      }
    }
    const operatorKubeconfig = asServiceAccount('agentspec-operator');
    expect(await canI(operatorKubeconfig, 'get', 'secrets/agentspec-control-plane', '-n', agentsNs)).toBe('yes');
    expect(await canI(operatorKubeconfig, 'get', 'secrets/some-other-secret', '-n', agentsNs)).toBe('no');
    expect(await canI(operatorKubeconfig, 'delete', 'pods', '-n', agentsNs)).toBe('no');
    // As the chart runs it with networkPolicy.enabled (the default).
    const operator = await startChartOperator({
      kubeconfigPath: testKubeconfigPath(),
      namespace: ns,
      dir,
      env: { AGENTSPEC_NETWORK_POLICIES: 'true' },
    });
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
      // Its NetworkPolicy: the proxy open, the sidecar's diagnostics port only from the release namespace.
      const policy = await kc
        .makeApiClient(NetworkingV1Api)
        .readNamespacedNetworkPolicy({ name: 'coach', namespace: agentsNs });
      expect(policy.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Agent', name: 'coach' });
      expect(JSON.parse(JSON.stringify(policy.spec?.ingress))).toEqual([
        { ports: [{ port: 4000, protocol: 'TCP' }] },
        {
          ports: [{ port: 4001, protocol: 'TCP' }],
          _from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } }],
        },
      ]);
      await operator.process.waitUntil(
        'the registration Secret copied',
        async () =>
          (await core
            .readNamespacedSecret({ name: REGISTRATION_SECRET, namespace: agentsNs })
            .catch(() => undefined)) !== undefined,
        30_000,
      );
      // It holds that namespace's registration key, never the admin key.
      const source = await core.readNamespacedSecret({ name: REGISTRATION_SECRET, namespace: ns });
      const copy = await core.readNamespacedSecret({ name: REGISTRATION_SECRET, namespace: agentsNs });
      const decode = (data: Record<string, string> | undefined) =>
        Buffer.from(data?.[REGISTRATION_SECRET_KEY] ?? '', 'base64').toString();
      expect(decode(copy.data)).toBe(scopedRegistrationKey(decode(source.data), agentsNs));
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

  it('refuses to generate keys without a cluster (helm template would rotate them on every render)', async () => {
    const error = await helm(
      'template',
      'agentspec',
      chart,
      '--kube-version',
      kubeVersion(),
      ...USER_FLAGS.flatMap((v) => ['--set', v]),
    ).then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(error).toContain('controlPlane: keys cannot be generated without a cluster');
    expect(error).toContain('set controlPlane.apiKey');
  });

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

  /**
   * One agent namespace through the operator (as its ServiceAccount) against a control plane holding `adminKey`: the
   * copy holds the namespace's registration key, which registers an instance there, and the Agent turns Registered.
   */
  async function registersThroughTheChart(adminKey: string, jwtSecret: string, operatorEnv: NodeJS.ProcessEnv) {
    const ns = testNamespace();
    const agentsNs = `${ns}-keys-${Math.random().toString(36).slice(2, 7)}`;
    const dir = mkdtempSync(join(tmpdir(), 'agentspec-keys-'));
    const controlPlane = await startControlPlaneProcess({ databaseUrl: await testDatabase(), adminKey, jwtSecret });
    const operator = await startChartOperator({
      kubeconfigPath: testKubeconfigPath(),
      namespace: ns,
      dir,
      env: { ...operatorEnv, AGENTSPEC_CONTROL_PLANE_URL: controlPlane.url, AGENTSPEC_ADMIN_KEY: adminKey },
    });
    const custom = kc.makeApiClient(CustomObjectsApi);
    const ref = { group: 'agentspec.io', version: 'v1', namespace: agentsNs, plural: 'agents', name: 'coach' };
    try {
      await core.createNamespace({ body: { metadata: { name: agentsNs } } });
      await custom.createNamespacedCustomObject({
        ...ref,
        body: { apiVersion: 'agentspec.io/v1', kind: 'Agent', metadata: { name: 'coach' }, spec: coach.spec },
      });
      const key = await waitFor('the namespace’s registration key', async () => {
        const copy = await core
          .readNamespacedSecret({ name: REGISTRATION_SECRET, namespace: agentsNs })
          .catch(() => undefined);
        return copy && Buffer.from(copy.data?.[REGISTRATION_SECRET_KEY] ?? '', 'base64').toString();
      });
      expect(key).toBe(scopedRegistrationKey(adminKey, agentsNs));
      const registered = await fetch(`${controlPlane.url}/api/v1/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-admin-key': key },
        body: JSON.stringify({ agentName: 'coach', namespace: agentsNs, instanceId: 'coach-0', runtime: 'k8s' }),
      });
      expect(registered.status).toBe(201);
      await waitFor('Registered=True', async () => {
        const agent = (await custom.getNamespacedCustomObject(ref)) as {
          status?: { conditions?: { type: string; status: string }[] };
        };
        return agent.status?.conditions?.some((c) => c.type === 'Registered' && c.status === 'True') === true;
      });
    } finally {
      await operator.stop();
      await controlPlane.stop();
      await core.deleteNamespace({ name: agentsNs }).catch(() => undefined);
    }
  }

  it('honours controlPlane.existingSecret end to end: the operator derives the keys from it', async () => {
    const ns = testNamespace();
    const adminKey = 'byo-admin-key-0123456789abcdef';
    const jwtSecret = 'byo-jwt-secret-0123456789abcdef0123456789';
    await core.createNamespace({ body: { metadata: { name: ns } } }).catch(() => undefined);
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'my-keys' }, stringData: { apiKey: adminKey, jwtSecret } },
    });
    try {
      await installChart(testKubeconfigPath(), ns, [...USER_FLAGS, 'controlPlane.existingSecret=my-keys']);
      const operatorEnv = Object.fromEntries(
        (
          (await apps.readNamespacedDeployment({ name: 'agentspec-operator', namespace: ns })).spec?.template.spec
            ?.containers[0]?.env ?? []
        ).map((e) => [e.name, e.value]),
      );
      expect(operatorEnv['AGENTSPEC_SOURCE_SECRET']).toBe('my-keys');
      await registersThroughTheChart(adminKey, jwtSecret, { AGENTSPEC_SOURCE_SECRET: 'my-keys' });
    } finally {
      await installChart(testKubeconfigPath(), ns, USER_FLAGS);
      await core.deleteNamespacedSecret({ name: 'my-keys', namespace: ns }).catch(() => undefined);
    }
  }, 180_000);

  it('uses a Secret created by hand before the install (seed 000) and derives its JWT secret', async () => {
    const ns = testNamespace();
    await helm('uninstall', 'agentspec', '-n', ns, '--no-hooks').catch(() => undefined);
    // The chart's Secret outlives an uninstall (resource-policy keep); here it goes, and the user makes their own.
    await core.deleteNamespacedSecret({ name: REGISTRATION_SECRET, namespace: ns }).catch(() => undefined);
    await core.createNamespace({ body: { metadata: { name: ns } } }).catch(() => undefined);
    const adminKey = 'hand-made-admin-key-0123456789';
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: REGISTRATION_SECRET }, stringData: { apiKey: adminKey } },
    });
    await installChart(testKubeconfigPath(), ns, USER_FLAGS);
    // Used, not clobbered: still the user's key, still not Helm's.
    const secret = await core.readNamespacedSecret({ name: REGISTRATION_SECRET, namespace: ns });
    expect(Buffer.from(secret.data?.[REGISTRATION_SECRET_KEY] ?? '', 'base64').toString()).toBe(adminKey);
    expect(secret.metadata?.labels?.['app.kubernetes.io/managed-by']).toBeUndefined();
    const derived = await core.readNamespacedSecret({ name: 'agentspec-control-plane-jwt', namespace: ns });
    const jwtSecret = Buffer.from(derived.data?.[JWT_SECRET_KEY] ?? '', 'base64').toString();
    expect(jwtSecret).toMatch(/^[0-9a-f]{64}$/);
    const controlPlaneEnv = (await apps.readNamespacedDeployment({ name: 'agentspec-control-plane', namespace: ns }))
      .spec?.template.spec?.containers[0]?.env;
    expect(controlPlaneEnv?.find((e) => e.name === 'JWT_SECRET')?.valueFrom?.secretKeyRef?.name).toBe(
      'agentspec-control-plane-jwt',
    );
    await registersThroughTheChart(adminKey, jwtSecret, {});
  }, 180_000);

  it('admits an Agent asking for a ServiceAccount or Secrets only from a user who may create Deployments', async () => {
    const ns = testNamespace();
    await installChart(testKubeconfigPath(), ns, USER_FLAGS);
    const team = `${ns}-vap`;
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespace({ body: { metadata: { name: team } } });
    const role = (name: string, rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[]) =>
      rbac.createNamespacedRole({ namespace: team, body: { metadata: { name }, rules } });
    const bind = (user: string, roleName: string) =>
      rbac.createNamespacedRoleBinding({
        namespace: team,
        body: {
          metadata: { name: `${user}-${roleName}` },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
        },
      });
    await role('agent-author', [
      { apiGroups: ['agentspec.io'], resources: ['agents'], verbs: ['create', 'get', 'delete'] },
    ]);
    await role('deployer', [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create'] }]);
    await bind('alice', 'agent-author');
    await bind('bob', 'agent-author');
    await bind('bob', 'deployer');
    const dir = mkdtempSync(join(tmpdir(), 'agentspec-vap-'));
    const client = (user: string) => {
      const config = new KubeConfig();
      config.loadFromFile(writeImpersonatingKubeconfig(testKubeconfigPath(), user, join(dir, `${user}.kubeconfig`)));
      return config.makeApiClient(CustomObjectsApi);
    };
    const base = coach.spec as { deployment: Record<string, unknown> };
    const agent = (name: string, deployment: Record<string, unknown>) => ({
      group: 'agentspec.io',
      version: 'v1',
      namespace: team,
      plural: 'agents',
      body: {
        apiVersion: 'agentspec.io/v1',
        kind: 'Agent',
        metadata: { name },
        spec: { ...coach.spec, deployment: { ...base.deployment, ...deployment } },
      },
    });
    const create = (user: string, name: string, deployment: Record<string, unknown>) =>
      client(user)
        .createNamespacedCustomObject(agent(name, deployment))
        .then(
          () => ({ status: 201, message: '' }),
          (err: { code?: number; body?: string }) => ({
            status: err.code ?? 0,
            message: (JSON.parse(err.body ?? '{}') as { message?: string }).message ?? '',
          }),
        );
    try {
      const asking = [
        { serviceAccountName: 'default' },
        { envFrom: [{ secretRef: { name: 'db' } }] },
        { env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'db', key: 'token' } } }] },
      ];
      // The policy is type-checked and loaded by the apiserver shortly after the install: wait for its first denial.
      const denied = await waitFor('the policy to deny alice', async () => {
        const result = await create('alice', 'asks-0', asking[0]!);
        if (result.status === 201) {
          await client('alice').deleteNamespacedCustomObject({ ...agent('asks-0', {}), name: 'asks-0' });
          return false;
        }
        return result;
      });
      expect(denied.status).toBe(403);
      expect(denied.message).toContain('only a user who may create Deployments in namespace');
      for (const [n, deployment] of asking.entries()) {
        expect((await create('alice', `asks-${n}`, deployment)).status).toBe(403);
        expect((await create('bob', `asks-${n}`, deployment)).status).toBe(201);
      }
      // An Agent that asks for nothing more is alice's to create.
      expect((await create('alice', 'plain', {})).status).toBe(201);
    } finally {
      await core.deleteNamespace({ name: team }).catch(() => undefined);
    }
  }, 120_000);

  it('releases every Agent from the finalizer on uninstall, so kept Agents and their namespaces can go', async () => {
    const ns = testNamespace();
    await installChart(testKubeconfigPath(), ns, USER_FLAGS);
    // The chart's pre-delete hook runs the operator image with release-finalizers as the operator's ServiceAccount.
    const hook = parse(
      await renderChart(USER_FLAGS, 'templates/operator.yaml').then(
        (out) => out.split('\n---\n').find((d) => d.includes('kind: Job')) ?? '',
      ),
    ) as {
      metadata: { annotations: Record<string, string> };
      spec: { template: { spec: { serviceAccountName: string; containers: { args: string[] }[] } } };
    };
    expect(hook.metadata.annotations['helm.sh/hook']).toBe('pre-delete');
    expect(hook.spec.template.spec.serviceAccountName).toBe('agentspec-operator');
    expect(hook.spec.template.spec.containers[0]?.args).toEqual(['release-finalizers']);

    const held = `${ns}-held`;
    const custom = kc.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: held } } });
    await custom.createNamespacedCustomObject({
      group: 'agentspec.io',
      version: 'v1',
      namespace: held,
      plural: 'agents',
      body: {
        apiVersion: 'agentspec.io/v1',
        kind: 'Agent',
        metadata: { name: 'coach', finalizers: ['agentspec.io/deregister'] },
        spec: coach.spec,
      },
    });
    // What the Job runs, with the same rights.
    const dir = mkdtempSync(join(tmpdir(), 'agentspec-release-'));
    const kubeconfig = writeImpersonatingKubeconfig(
      testKubeconfigPath(),
      `system:serviceaccount:${ns}:agentspec-operator`,
      join(dir, 'operator.kubeconfig'),
    );
    const { stdout } = await run(process.execPath, [
      join(root, 'operator', 'dist', 'bin', 'operator.js'),
      'release-finalizers',
      `--kubeconfig=${kubeconfig}`,
    ]);
    expect(stdout).toContain('finalizers released');
    await core.deleteNamespace({ name: held });
    await waitFor(
      'the namespace with the kept Agent to be deleted',
      async () =>
        await core.readNamespace({ name: held }).then(
          () => false,
          (err: { code?: number }) => err.code === 404,
        ),
      { timeoutMs: 60_000 },
    );
  }, 120_000);
});
