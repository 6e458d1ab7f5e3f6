import { loadManifest, startPushMode, stopPushMode } from '@agentspec/sdk';

const { manifest } = loadManifest('./agent.yaml');

// Fire immediately and every 30 seconds
startPushMode({
  manifest,
  url: process.env.AGENTSPEC_URL!,
  apiKey: process.env.AGENTSPEC_KEY!,
  intervalMs: 30_000,
});

// Graceful shutdown
process.on('SIGTERM', () => {
  stopPushMode();
  process.exit(0);
});
// Push mode's timer does not keep a process alive by itself; an agent's server does. Stand in for one here.
setInterval(() => undefined, 60_000);
