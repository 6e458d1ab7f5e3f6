// The npm packages as a user gets them: every workspace packed with `npm pack` (scripts/pack-install.sh, what would be
// published) and installed into an empty project on the pinned Node, then used through their commands only —
// `npx agentspec validate`, a control plane started with `npx agentspec-control-plane` on its embedded PGlite, the
// SDK's push mode against it, and `npx agentspec-sidecar --help`.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './free-port.js';
import { ManagedProcess } from './managed-process.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..', '..');
const project = join(mkdtempSync(join(tmpdir(), 'agentspec-packages-')), 'project');
const published = ['sdk', 'service-kit', 'dashboard', 'control-plane', 'sidecar'];
const processes: ManagedProcess[] = [];
// The user's environment: this process's PATH (the pinned Node first), nothing of the repository.
const env = { PATH: process.env['PATH'] ?? '', HOME: project };
const npx = (command: string, args: string[], extra: Record<string, string> = {}) =>
  run(join(project, 'node_modules', '.bin', command), args, { cwd: project, env: { ...env, ...extra } });

beforeAll(async () => {
  await run(join(root, 'scripts', 'pack-install.sh'), [project], { cwd: root, timeout: 600_000 });
}, 600_000);
afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
});

describe('the npm packages, packed and installed into an empty project', () => {
  it.each(published)('@agentspec/%s is ready to publish: public, licensed, engines, repository, provenance', (name) => {
    const pkg = JSON.parse(readFileSync(join(project, 'node_modules', '@agentspec', name, 'package.json'), 'utf8')) as {
      private?: boolean;
      license?: string;
      engines?: { node?: string };
      repository?: { url?: string };
      publishConfig?: { access?: string; provenance?: boolean };
      exports?: Record<string, Record<string, string> | string>;
    };
    expect(pkg.private).toBeUndefined();
    expect(pkg).toMatchObject({
      license: 'Apache-2.0',
      engines: { node: '>=22' },
      repository: { url: expect.stringContaining('github.com') },
      publishConfig: { access: 'public', provenance: true },
    });
    // Every path the exports name is in the package (no workspace-only path).
    for (const target of Object.values(pkg.exports ?? {}).flatMap((e) =>
      typeof e === 'string' ? [e] : Object.values(e),
    )) {
      expect(() => readFileSync(join(project, 'node_modules', '@agentspec', name, target)), target).not.toThrow();
    }
  });

  it('npx agentspec validate, a control plane from npx agentspec-control-plane, push mode against it, the sidecar --help', async () => {
    writeFileSync(join(project, 'agent.yaml'), readFileSync(join(root, 'examples', 'minimal', 'agent.yaml')));
    const validate = await npx('agentspec', ['validate', 'agent.yaml']);
    expect(validate.stdout).toContain('hello-agent');

    const port = await freePort();
    const controlPlane = new ManagedProcess({
      name: 'npx agentspec-control-plane',
      command: join(project, 'node_modules', '.bin', 'agentspec-control-plane'),
      args: [],
      logPath: join(project, 'control-plane.log'),
      cwd: project,
      env: {
        ...env,
        PORT: String(port),
        JWT_SECRET: 'packages-test-jwt-secret-0123456789abcdef',
        AGENTSPEC_ADMIN_KEY: 'packages-test-admin-key',
        AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS: '0',
      },
    });
    processes.push(controlPlane);
    const url = `http://127.0.0.1:${port}`;
    await controlPlane.waitUntil('ready on PGlite', async () => (await fetch(`${url}/readyz`)).ok, 120_000);
    const dashboard = await fetch(`${url}/`);
    expect(dashboard.status).toBe(200); // the dashboard ships with it

    await npx('agentspec', ['register', 'agent.yaml', '--control-plane', url, '--instance-id', 'packaged-1'], {
      AGENTSPEC_ADMIN_KEY: 'packages-test-admin-key',
    });
    const script = [
      "import { loadManifest, startPushMode, stopPushMode } from '@agentspec/sdk';",
      "process.loadEnvFile('.env.agentspec');",
      "const { manifest, baseDir } = loadManifest('agent.yaml');",
      'startPushMode({ manifest, baseDir, url: process.env.AGENTSPEC_URL, apiKey: process.env.AGENTSPEC_KEY, transport: "http" });',
      'setTimeout(() => { stopPushMode(); }, 3000);',
    ].join('\n');
    writeFileSync(join(project, 'push.mjs'), script);
    await run(process.execPath, ['push.mjs'], { cwd: project, env });
    await waitFor('the pushed heartbeat', async () => {
      const res = await fetch(`${url}/api/v1/agents/get_connection`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-admin-key': 'packages-test-admin-key' },
        body: JSON.stringify({ instance_id: 'packaged-1' }),
      });
      return Boolean(((await res.json()) as { last_heartbeat?: string | null }).last_heartbeat);
    });

    const help = await npx('agentspec-sidecar', ['--help']);
    expect(help.stdout).toContain('UPSTREAM_URL');
  }, 180_000);
});
