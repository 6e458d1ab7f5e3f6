// The fitness coach as a running agent: a small HTTP server instrumented with the SDK's AgentSpecReporter
// (GET /agentspec/health), used by `make demo` and the end-to-end scenario in place of its container image.
// Reads AGENTSPEC_MANIFEST_PATH (the operator mounts agent.yaml there) and PORT (default 8000).
import { createServer } from 'node:http';
import { AgentSpecReporter, loadManifest } from '@agentspec/sdk';

const { manifest, baseDir } = loadManifest(
  process.env.AGENTSPEC_MANIFEST_PATH ?? new URL('agent.yaml', import.meta.url).pathname,
);
const reporter = new AgentSpecReporter({ manifest, baseDir, refreshIntervalMs: 30_000 });
for (const tool of manifest.spec.tools ?? []) reporter.registerTool(tool.name);
reporter.start();
const health = reporter.handler();

const server = createServer((req, res) => {
  if (req.url?.startsWith('/agentspec/health')) return health(req, res);
  if (req.method === 'POST' && req.url === '/chat') {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'X-AgentSpec-Guardrails-Invoked': 'prompt-injection,pii-detector',
        'X-AgentSpec-Tools-Called': 'plan-workout',
      });
      res.end(
        JSON.stringify({ answer: 'Three sets of eight squats, then rest for two minutes.', received: body.length }),
      );
    });
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"NotFound"}');
});
server.listen(Number(process.env.PORT ?? 8000), process.env.HOST ?? '0.0.0.0');
process.on('SIGTERM', () => {
  reporter.stop();
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
