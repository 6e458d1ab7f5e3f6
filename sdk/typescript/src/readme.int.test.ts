// The SDK and CLI examples of docs/sdk.md and docs/cli.md, exactly as written there, run against real processes.
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, listenOnLoopback, waitFor } from '@agentspec/e2e';

const root = resolve(import.meta.dirname, '..', '..', '..');
const sdkDoc = readFileSync(join(root, 'docs', 'sdk.md'), 'utf8');
const cliDoc = readFileSync(join(root, 'docs', 'cli.md'), 'utf8');
const bin = join(root, 'sdk', 'typescript', 'dist', 'bin', 'agentspec.js');

/** A fresh copy of examples/fitness-coach to run the examples in. */
function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentspec-readme-'));
  cpSync(join(root, 'examples', 'fitness-coach'), dir, { recursive: true });
  return dir;
}

function runNode(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, args, { cwd, env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('docs/sdk.md snippets', () => {
  const snippets = [...sdkDoc.matchAll(/<!-- snippet: (\S+) -->\n```ts\n([\s\S]*?)```/g)];

  it('are the example files, word for word', () => {
    expect(snippets.map((m) => m[1])).toEqual([
      'sdk/typescript/examples/audit.ts',
      'sdk/typescript/examples/health-server.ts',
      'sdk/typescript/examples/push-mode.ts',
    ]);
    for (const [, file, code] of snippets) expect(code, file).toBe(readFileSync(join(root, file ?? ''), 'utf8'));
  });

  it('audit.ts prints the score and grade', async () => {
    const { code, stdout } = await runNode([join(root, 'sdk/typescript/examples/audit.ts')], workdir());
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('fitness-coach: 100/100 (A)');
  });

  it('health-server.ts serves GET /agentspec/health next to the agent API', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [join(root, 'sdk/typescript/examples/health-server.ts')], {
      cwd: workdir(),
      env: { ...process.env, PORT: String(port), GYM_NAME: 'Riverside' },
      stdio: 'ignore',
    });
    try {
      const report = await waitFor(
        'the health endpoint',
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/agentspec/health`);
          return (await res.json()) as { agentName: string; checks: { id: string; status: string }[] };
        },
        { timeoutMs: 20_000 },
      );
      expect(report.agentName).toBe('fitness-coach');
      expect(report.checks.find((c) => c.id === 'tool:plan-workout')?.status).toBe('pass');
      expect(report.checks.find((c) => c.id === 'env:GYM_NAME')?.status).toBe('pass');
      const chat = await fetch(`http://127.0.0.1:${port}/v1/chat`, { method: 'POST' });
      expect(await chat.json()).toEqual({ reply: 'Three sets of ten.' });
    } finally {
      child.kill('SIGTERM');
    }
  });

  describe('push-mode.ts', () => {
    let server: Server;
    const pushes: { authorization?: string; body: string }[] = [];
    let url = '';
    beforeAll(async () => {
      server = createServer((req, res) => {
        // Push mode also tries connected mode's WebSocket (GET /api/v1/connect), which this stand-in does not serve.
        if (req.method !== 'POST') return void res.writeHead(404).end();
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          pushes.push({ ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), body });
          res.writeHead(204).end();
        });
      });
      url = `${await listenOnLoopback(server)}/api/v1/heartbeat`;
    });
    afterAll(() => void server.close());

    it('pushes at once with the key from AGENTSPEC_KEY and exits 0 on SIGTERM', async () => {
      const child = spawn(process.execPath, [join(root, 'sdk/typescript/examples/push-mode.ts')], {
        cwd: workdir(),
        env: { ...process.env, AGENTSPEC_URL: url, AGENTSPEC_KEY: 'readme-key' },
        stdio: 'ignore',
      });
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      try {
        await waitFor('the first push', async () => pushes.length > 0, { timeoutMs: 20_000 });
        expect(pushes[0]?.authorization).toBe('Bearer readme-key');
        expect(Object.keys(JSON.parse(pushes[0]?.body ?? '{}') as object)).toEqual([
          'health',
          'gap',
          'intervalSeconds',
        ]);
      } finally {
        child.kill('SIGTERM'); // whatever failed above, the example process goes
      }
      expect(await exited).toBe(0);
    });
  });
});

describe('docs/cli.md CLI example', () => {
  const block = /<!-- cli-example -->\n```bash\n([\s\S]*?)```/.exec(cliDoc)?.[1] ?? '';
  const commands = block.split('\n').filter((line) => line.startsWith('agentspec '));

  it('lists commands', () => {
    expect(commands.length).toBeGreaterThanOrEqual(5);
  });

  it('runs every command successfully in a copy of the fitness coach', async () => {
    const dir = workdir();
    for (const command of commands) {
      const args = command.replace(/^agentspec /, '').split(/\s+/);
      const env = {
        GYM_NAME: 'Riverside',
        REDIS_URL: 'redis://cache:6379',
        LANGFUSE_HOST: 'https://lf',
        LANGFUSE_PUBLIC_KEY: 'pk',
      };
      const { code, stderr } = await runNode([bin, ...args], dir, env);
      expect(`${command} -> ${code} ${stderr}`).toBe(`${command} -> 0 `);
    }
    expect(existsSync(join(dir, 'out', 'k8s', 'deployment.yaml'))).toBe(true);
    expect(existsSync(join(dir, 'chart', 'Chart.yaml'))).toBe(true);
  });
});
