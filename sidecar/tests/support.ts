// Helpers shared by the sidecar's integration tests (not a test file itself).
import { join, resolve } from 'node:path';
import { freePort, ManagedProcess } from '@agentspec/e2e';

const root = resolve(import.meta.dirname, '..', '..');

export interface SidecarProcess {
  proxy: string;
  diagnostics: string;
  process: ManagedProcess;
}

/**
 * The built agentspec-sidecar as a real process in front of `upstream`, listening once its diagnostics answer. The
 * process is added to `processes` for the caller to stop.
 */
export async function startSidecarProcess(
  upstream: string,
  options: { manifestPath: string; logDir: string; processes: ManagedProcess[]; env?: NodeJS.ProcessEnv },
): Promise<SidecarProcess> {
  const [proxyPort, diagnosticsPort] = [await freePort(), await freePort()];
  const sidecar = new ManagedProcess({
    name: 'agentspec-sidecar',
    command: process.execPath,
    args: [join(root, 'sidecar', 'dist', 'bin', 'sidecar.js')],
    logPath: join(options.logDir, `sidecar-${proxyPort}.log`),
    env: {
      PATH: process.env['PATH'] ?? '',
      UPSTREAM_URL: upstream,
      MANIFEST_PATH: options.manifestPath,
      PROXY_PORT: String(proxyPort),
      CONTROL_PLANE_PORT: String(diagnosticsPort),
      LOG_LEVEL: 'warn',
      ...options.env,
    },
  });
  options.processes.push(sidecar);
  const diagnostics = `http://127.0.0.1:${diagnosticsPort}`;
  await sidecar.waitUntil('listening', async () => (await fetch(`${diagnostics}/agentspec/health/live`)).ok, 20_000);
  return { proxy: `http://127.0.0.1:${proxyPort}`, diagnostics, process: sidecar };
}
