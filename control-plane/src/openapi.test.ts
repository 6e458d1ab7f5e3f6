import { describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import type { ControlPlaneDatabase } from './db/database.js';
import { openApiDocument } from './openapi.js';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every route the express app serves, as "METHOD /path/{param}". */
function servedRoutes(): string[] {
  const database = {
    db: {},
    kind: 'pglite',
    ping: async () => undefined,
    close: async () => undefined,
  } as unknown as ControlPlaneDatabase;
  const config = {
    jwtSecret: 'x'.repeat(40),
    tokenTtlSeconds: 60,
    logLevel: 'silent',
    heartbeatIntervalSeconds: 30,
    minHeartbeatIntervalSeconds: 0,
    historyLimit: 10,
    port: 0,
    host: '127.0.0.1',
    databaseUrl: undefined,
    dataDir: '/tmp',
    adminKey: undefined,
    instanceRetentionSeconds: 86_400,
    reaperIntervalSeconds: 10,
    databaseWaitSeconds: 120,
    databasePreparedStatements: true,
    eventRetention: 1_000,
    eventsMaxSubscribers: 10,
    eventsKeepAliveSeconds: 15,
    hostedAllowedNetworks: [],
    hostedCaFile: undefined,
    hostedTimeoutSeconds: 5,
  };
  const { app } = createApp({ config, database });
  const routes: string[] = [];
  const walk = (stack: Layer[]): void => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods))
          routes.push(`${method.toUpperCase()} ${layer.route.path.replace(/:(\w+)/g, '{$1}')}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return routes.sort();
}

describe('OpenAPI document', () => {
  const doc = openApiDocument() as {
    paths: Record<string, Record<string, { responses: object; security?: unknown }>>;
    components: { schemas: Record<string, { required?: string[] }> };
  };

  it('describes exactly the routes the app serves', () => {
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    // The connected-mode WebSocket is described in docs/control-plane.md: OpenAPI describes HTTP exchanges only.
    expect(servedRoutes()).toContain('GET /api/v1/connect');
    expect(documented).toEqual(servedRoutes().filter((r) => r !== 'GET /api/v1/connect'));
  });

  it('takes the request schemas from the validation schemas', () => {
    expect(doc.components.schemas['RegisterRequest']?.required).toEqual(['agentName', 'runtime']);
    expect(doc.components.schemas['HeartbeatRequest']?.required).toEqual(['health', 'gap']);
    expect(doc.paths['/api/v1/heartbeat']?.['post']?.responses).toHaveProperty('429');
    expect(doc.paths['/api/v1/agents']?.['get']?.security).toEqual([{ adminKey: [] }]);
  });
});
