// The control-plane session of docs/control-plane.md, run as written against `npx agentspec-control-plane` (no
// database configured).
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '@agentspec/e2e';

const root = resolve(import.meta.dirname, '..', '..');
const doc = readFileSync(join(root, 'docs', 'control-plane.md'), 'utf8');
const session = /<!-- control-plane-curl -->\n```bash\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
const kill: (() => Promise<void>)[] = [];
afterAll(() => Promise.all(kill.map((k) => k())));

/** SIGTERM to a whole process group (npx → sh → node), then wait until no member is left. */
async function stopGroup(pgid: number): Promise<void> {
  const alive = (): boolean => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(-pgid, 'SIGTERM');
  await waitFor('the npx process group to exit', async () => !alive(), { timeoutMs: 30_000 }).catch(() => {
    if (alive()) process.kill(-pgid, 'SIGKILL');
  });
}

describe('docs/control-plane.md session', () => {
  it('prints what the README says, against a control plane started with npx and no database configured', async () => {
    expect(session).toContain('curl');
    const port = await freePort();
    const env = {
      ...process.env,
      PORT: String(port),
      JWT_SECRET: 'readme-jwt-secret-0123456789abcdef0123456789',
      AGENTSPEC_ADMIN_KEY: 'readme-admin-key',
      AGENTSPEC_DATA_DIR: mkdtempSync(join(tmpdir(), 'agentspec-readme-cp-')),
    };
    // Its own process group: SIGTERM must reach the server, not only npx.
    const child = spawn('npx', ['agentspec-control-plane'], { cwd: root, env, stdio: 'ignore', detached: true });
    kill.push(() => stopGroup(child.pid!));
    const url = `http://127.0.0.1:${port}`;
    await waitFor('npx agentspec-control-plane', async () => (await fetch(`${url}/readyz`)).ok, { timeoutMs: 60_000 });

    const script = session.replace('CP=http://localhost:8080', `CP=${url}`);
    const output = await new Promise<string>((done, fail) =>
      execFile('bash', ['-euo', 'pipefail', '-c', script], { env }, (err, stdout, stderr) =>
        err ? fail(new Error(stderr)) : done(stdout),
      ),
    );
    const expected = session
      .split('\n')
      .filter((line) => line.startsWith('# '))
      .map((line) =>
        line
          .slice(2)
          .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
          .replace(/…/g, '.*?'),
      );
    expect(output).toMatch(new RegExp(`^${expected.join('\\s*')}\\s*$`));
  });
});
