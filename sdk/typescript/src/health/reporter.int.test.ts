import { createServer, type Server } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, listenOnLoopback, waitFor } from '@agentspec/e2e';
import { parseManifest } from '../manifest/load.js';
import { AgentSpecReporter, agentSpecExpressRouter, agentSpecFastifyPlugin } from './reporter.js';
import type { HealthReport } from './types.js';

let models: Server;
let modelCalls = 0;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  models = createServer((_req, res) => {
    modelCalls++;
    res.writeHead(200).end('{}');
  });
  env = { AGENTSPEC_MODEL_ENDPOINT_OPENAI: `${await listenOnLoopback(models)}/v1/models`, OPENAI_API_KEY: 'k' };
});
afterAll(() => void models.close());

const { manifest } = parseManifest({
  apiVersion: 'agentspec.io/v1',
  kind: 'AgentSpec',
  metadata: { name: 'gymcoach', version: '1.0.0', description: 'd' },
  spec: {
    model: { provider: 'openai', id: 'gpt-4o', apiKey: '$env:OPENAI_API_KEY' },
    prompts: { system: 's' },
    tools: [{ name: 'log-workout', type: 'function' }],
  },
});

async function getJson(url: string): Promise<{ status: number; body: HealthReport }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as HealthReport };
}

describe('AgentSpecReporter', () => {
  it('caches the report and re-checks synchronously only when it is older than staleAfterMs', async () => {
    const reporter = new AgentSpecReporter({ manifest, env, refreshIntervalMs: 60_000, staleAfterMs: 200 });
    const before = modelCalls;
    const first = await reporter.getReport();
    expect(await reporter.getReport()).toBe(first);
    expect(modelCalls - before).toBe(1);
    await new Promise((r) => setTimeout(r, 250));
    const second = await reporter.getReport();
    expect(second).not.toBe(first);
    expect(modelCalls - before).toBe(2);
  });

  it('refreshes in the background every refreshIntervalMs, and stop() keeps the last report', async () => {
    const reporter = new AgentSpecReporter({ manifest, env, refreshIntervalMs: 50, staleAfterMs: 60_000 }).start();
    const before = modelCalls;
    await waitFor('three background refreshes', async () => modelCalls - before >= 3, {
      timeoutMs: 5_000,
      intervalMs: 10,
    });
    reporter.stop();
    const last = await reporter.getReport();
    const calls = modelCalls;
    await new Promise((r) => setTimeout(r, 150));
    expect(await reporter.getReport()).toBe(last);
    expect(modelCalls).toBe(calls);
  });

  it('reports tool checks from registerTool()', async () => {
    const reporter = new AgentSpecReporter({ manifest, env });
    expect((await reporter.refresh()).checks.find((c) => c.id === 'tool:log-workout')?.status).toBe('fail');
    reporter.registerTool('log-workout');
    const report = await reporter.refresh();
    expect(report.checks.find((c) => c.id === 'tool:log-workout')?.status).toBe('pass');
    expect(report).toMatchObject({
      agentName: 'gymcoach',
      status: 'healthy',
      summary: { passed: 3, failed: 0, warnings: 0, skipped: 0 },
    });
  });

  describe('serves GET /agentspec/health', () => {
    let reporter: AgentSpecReporter;
    const servers: { close: () => unknown }[] = [];
    beforeAll(() => {
      reporter = new AgentSpecReporter({ manifest, env }).registerTool('log-workout');
    });
    afterAll(async () => {
      for (const s of servers) await s.close();
    });

    it('from node:http (404 elsewhere)', async () => {
      const server = createServer(reporter.handler());
      servers.push(server);
      const base = await listenOnLoopback(server);
      const { status, body } = await getJson(`${base}/agentspec/health`);
      expect(status).toBe(200);
      expect(body.status).toBe('healthy');
      expect((await fetch(`${base}/other`)).status).toBe(404);
    });

    it('from express, passing other paths on', async () => {
      const app = express();
      app.use(reporter.handler());
      app.get('/chat', (_req, res) => void res.json({ reply: 'hi' }));
      const port = await freePort();
      const server = app.listen(port, '127.0.0.1');
      servers.push(server);
      await new Promise((r) => server.once('listening', r));
      expect((await getJson(`http://127.0.0.1:${port}/agentspec/health`)).body.agentName).toBe('gymcoach');
      expect(await (await fetch(`http://127.0.0.1:${port}/chat`)).json()).toEqual({ reply: 'hi' });
    });

    it('from fastify', async () => {
      const app = Fastify();
      app.get('/agentspec/health', reporter.handler());
      const port = await freePort();
      await app.listen({ port, host: '127.0.0.1' });
      servers.push(app);
      const { status, body } = await getJson(`http://127.0.0.1:${port}/agentspec/health`);
      expect(status).toBe(200);
      expect(body.checks.map((c) => c.id).sort()).toEqual([
        'env:OPENAI_API_KEY',
        'model:openai/gpt-4o',
        'tool:log-workout',
      ]);
    });

    // Upstream AgentSpec's SDK surface, as its README shows it.
    it("from upstream's agentSpecExpressRouter mounted at /agentspec, its httpHandler and two-argument registerTool", async () => {
      const upstreamStyle = new AgentSpecReporter({ manifest, env });
      upstreamStyle.registerTool('log-workout', async () => 'logged');
      const app = express();
      app.use('/agentspec', agentSpecExpressRouter(upstreamStyle));
      app.get('/health', (_req, res) => void res.json({ app: 'own health route' }));
      app.get('/upstream-handler', upstreamStyle.httpHandler());
      const port = await freePort();
      const server = app.listen(port, '127.0.0.1');
      servers.push(server);
      await new Promise((r) => server.once('listening', r));
      const { status, body } = await getJson(`http://127.0.0.1:${port}/agentspec/health`);
      expect(status).toBe(200);
      expect(body.checks.find((c) => c.id === 'tool:log-workout')?.status).toBe('pass');
      expect(await (await fetch(`http://127.0.0.1:${port}/health`)).json()).toEqual({ app: 'own health route' });
      const handler = await getJson(`http://127.0.0.1:${port}/upstream-handler`);
      expect(handler.status).toBe(200);
      expect(handler.body.agentName).toBe('gymcoach');
    });

    it("from upstream's agentSpecFastifyPlugin", async () => {
      const app = Fastify();
      await app.register(agentSpecFastifyPlugin(reporter));
      const port = await freePort();
      await app.listen({ port, host: '127.0.0.1' });
      servers.push(app);
      const plugin = await getJson(`http://127.0.0.1:${port}/agentspec/health`);
      expect(plugin.status).toBe(200);
      expect(plugin.body.agentName).toBe('gymcoach');
    });
  });
});
