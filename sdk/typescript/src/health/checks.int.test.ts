// Health checks against real servers: a provider models endpoint started here, Redis (PING), PostgreSQL (SELECT 1).
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, listenOnLoopback, startTestRedis, type TestRedis } from '@agentspec/e2e';
import { testPostgresUrl } from '@agentspec/e2e/vitest';
import { parseManifest, type AgentManifest } from '../manifest/load.js';
import { runHealthChecks } from './checks.js';

let models: Server;
let modelsUrl = '';
const modelRequests: Record<string, string | undefined>[] = [];
let redis: TestRedis;
let lockedRedis: TestRedis;

beforeAll(async () => {
  models = createServer((req, res) => {
    modelRequests.push({
      authorization: req.headers.authorization,
      'x-api-key': req.headers['x-api-key'] as string | undefined,
    });
    const key = req.headers.authorization?.replace(/^Bearer /, '') ?? req.headers['x-api-key'];
    res.writeHead(key === 'good-key' ? 200 : 401, { 'content-type': 'application/json' }).end('{"data":[]}');
  });
  modelsUrl = `${await listenOnLoopback(models)}/v1/models`;
  [redis, lockedRedis] = await Promise.all([startTestRedis(), startTestRedis({ password: 'hunter2' })]);
});

afterAll(async () => {
  models.close();
  await Promise.all([redis.stop(), lockedRedis.stop()]);
});

function agent(spec: Record<string, unknown>): AgentManifest {
  return parseManifest({
    apiVersion: 'agentspec.io/v1',
    kind: 'AgentSpec',
    metadata: { name: 'probe', version: '1.0.0', description: 'd' },
    spec: {
      model: { provider: 'openai', id: 'gpt-4o', apiKey: '$env:OPENAI_API_KEY' },
      prompts: { system: 's' },
      ...spec,
    },
  }).manifest;
}

const byId = async (manifest: AgentManifest, env: NodeJS.ProcessEnv) =>
  Object.fromEntries(
    (await runHealthChecks(manifest, { baseDir: process.cwd(), env, timeoutMs: 2_000 })).map((c) => [c.id, c]),
  );

describe('model check', () => {
  const env = (key?: string): NodeJS.ProcessEnv => ({
    AGENTSPEC_MODEL_ENDPOINT_OPENAI: modelsUrl,
    ...(key ? { OPENAI_API_KEY: key } : {}),
  });

  it('passes when the provider accepts the key, with its latency', async () => {
    const check = (await byId(agent({}), env('good-key')))['model:openai/gpt-4o'];
    expect(check).toMatchObject({ category: 'model', status: 'pass', severity: 'error' });
    expect(check?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(modelRequests.at(-1)?.authorization).toBe('Bearer good-key');
  });

  it('fails when the provider rejects the key: a wrong key is not "reachable"', async () => {
    const check = (await byId(agent({}), env('sk-wrong')))['model:openai/gpt-4o'];
    expect(check).toMatchObject({ status: 'fail', message: 'the provider rejected the API key (HTTP 401)' });
    expect(JSON.stringify(check)).not.toContain('sk-wrong');
  });

  it('skips when the key reference is not resolved, and the env check covers it', async () => {
    const checks = await byId(agent({}), env());
    expect(checks['model:openai/gpt-4o']).toMatchObject({ status: 'skip' });
    expect(checks['env:OPENAI_API_KEY']).toMatchObject({
      status: 'fail',
      severity: 'error',
      message: 'OPENAI_API_KEY is not set (used by spec.model.apiKey)',
    });
  });

  it('sends the key the way the provider expects (anthropic: x-api-key)', async () => {
    const manifest = agent({
      model: { provider: 'anthropic', id: 'claude-sonnet-4', apiKey: '$env:ANTHROPIC_API_KEY' },
    });
    const checks = await byId(manifest, {
      AGENTSPEC_MODEL_ENDPOINT_ANTHROPIC: modelsUrl,
      ANTHROPIC_API_KEY: 'good-key',
    });
    expect(checks['model:anthropic/claude-sonnet-4']?.status).toBe('pass');
    expect(modelRequests.at(-1)).toEqual({ authorization: undefined, 'x-api-key': 'good-key' });
  });

  it('fails when the endpoint is unreachable', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/v1/models`;
    const check = (await byId(agent({}), { AGENTSPEC_MODEL_ENDPOINT_OPENAI: closed, OPENAI_API_KEY: 'good-key' }))[
      'model:openai/gpt-4o'
    ];
    expect(check).toMatchObject({ status: 'fail' });
    expect(check?.message).toMatch(/^models endpoint unreachable/);
  });
});

describe('service and memory checks', () => {
  it('PINGs Redis and runs SELECT 1 on PostgreSQL', async () => {
    const manifest = agent({
      requires: {
        services: [
          { type: 'redis', connection: '$env:REDIS_URL' },
          { type: 'postgres', connection: '$env:DATABASE_URL' },
        ],
      },
      memory: {
        shortTerm: { backend: 'redis', connection: '$env:REDIS_URL' },
        longTerm: { backend: 'postgres', connectionString: '$env:DATABASE_URL' },
      },
    });
    const checks = await byId(manifest, { REDIS_URL: redis.url, DATABASE_URL: testPostgresUrl() });
    for (const id of ['service:redis', 'service:postgres', 'memory:shortTerm', 'memory:longTerm']) {
      expect(checks[id], id).toMatchObject({ status: 'pass' });
      expect(checks[id]?.latencyMs, id).toBeGreaterThanOrEqual(0);
    }
  });

  it('authenticates to Redis with the URL password and fails on a wrong one', async () => {
    const manifest = agent({ requires: { services: [{ type: 'redis', connection: '$env:REDIS_URL' }] } });
    expect((await byId(manifest, { REDIS_URL: lockedRedis.url }))['service:redis']?.status).toBe('pass');
    const wrong = (await byId(manifest, { REDIS_URL: `redis://:wrong@127.0.0.1:${lockedRedis.port}` }))[
      'service:redis'
    ];
    expect(wrong).toMatchObject({ status: 'fail' });
    expect(wrong?.message).toMatch(/WRONGPASS|ERR/);
    const noAuth = (await byId(manifest, { REDIS_URL: `redis://127.0.0.1:${lockedRedis.port}` }))['service:redis'];
    expect(noAuth?.message).toMatch(/NOAUTH/);
  });

  it('fails a PostgreSQL that rejects the credentials, though TCP connects', async () => {
    const bad = testPostgresUrl().replace(/:\/\/postgres:[^@]+@/, '://postgres:wrong@');
    const manifest = agent({ requires: { services: [{ type: 'postgres', connection: bad }] } });
    const check = (await byId(manifest, {}))['service:postgres'];
    expect(check).toMatchObject({ status: 'fail', severity: 'info' });
    expect(check?.message).toMatch(/password authentication failed/);
  });

  it('fails a service nobody listens on, and skips unresolved references', async () => {
    const port = await freePort();
    const manifest = agent({
      requires: {
        services: [
          { type: 'mysql', connection: `127.0.0.1:${port}` },
          { type: 'mongodb', connection: '$env:MONGO_URL' },
        ],
      },
    });
    const checks = await byId(manifest, {});
    expect(checks['service:mysql']).toMatchObject({ status: 'fail' });
    expect(checks['service:mysql']?.message).toMatch(/ECONNREFUSED/);
    expect(checks['service:mongodb']).toMatchObject({ status: 'skip' });
  });
});

describe('env, mcp and tool checks', () => {
  it('checks requires.envVars, stdio MCP commands on PATH and registered tools', async () => {
    const manifest = agent({
      requires: { envVars: ['GYM_NAME', 'MISSING_ONE'] },
      mcp: {
        servers: [
          { name: 'shell', transport: 'stdio', command: 'sh' },
          { name: 'ghost', transport: 'stdio', command: 'no-such-mcp' },
        ],
      },
      tools: [
        { name: 'plan', type: 'function' },
        { name: 'log', type: 'function' },
      ],
    });
    const checks = Object.fromEntries(
      (
        await runHealthChecks(manifest, {
          baseDir: process.cwd(),
          env: { GYM_NAME: 'Riverside', PATH: process.env['PATH'] },
          registeredTools: new Set(['plan']),
          categories: ['env', 'mcp', 'tool'],
        })
      ).map((c) => [c.id, c]),
    );
    expect(checks['env:GYM_NAME']?.status).toBe('pass');
    expect(checks['env:MISSING_ONE']?.status).toBe('fail');
    expect(checks['mcp:shell']?.status).toBe('pass');
    expect(checks['mcp:ghost']).toMatchObject({ status: 'fail', message: 'command no-such-mcp not found on PATH' });
    expect(checks['tool:plan']?.status).toBe('pass');
    expect(checks['tool:log']).toMatchObject({ status: 'fail', severity: 'info' });
    expect(Object.keys(checks).some((id) => id.startsWith('model:'))).toBe(false);
  });
});
