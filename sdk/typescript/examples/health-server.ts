import express from 'express';
import { AgentSpecReporter } from '@agentspec/sdk';

// Checks every 30 s in the background; registers with the control plane when AGENTSPEC_CONTROL_PLANE_URL is set.
const reporter = AgentSpecReporter.fromFile('./agent.yaml').registerTool('plan-workout').start();

const app = express();
app.use(reporter.handler()); // GET /agentspec/health
app.post('/v1/chat', (_req, res) => void res.json({ reply: 'Three sets of ten.' }));
const server = app.listen(Number(process.env.PORT ?? 8000));

process.on('SIGTERM', () => {
  reporter.stop();
  server.close();
});
