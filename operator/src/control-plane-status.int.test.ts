// The operator's view of the control plane when the two start in the wrong order (as after `helm install`, where the
// operator is up long before the control plane's database): the figures arrive once the control plane answers,
// through the event stream, not at the next resync.
import { ControlPlaneClient } from '@agentspec/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startControlPlaneProcess, waitFor, type ControlPlaneProcess } from '@agentspec/e2e';
import { testDatabase } from '@agentspec/e2e/vitest';
import { createOperatorLogger } from './operator.js';
import { ControlPlaneStatus } from './control-plane-status.js';

let cp: ControlPlaneProcess | undefined;
let status: ControlPlaneStatus | undefined;

afterAll(async () => {
  status?.stop();
  await cp?.stop();
});

describe('ControlPlaneStatus', () => {
  it('started before the control plane: reads everything once the event stream connects', async () => {
    const port = await freePort();
    const adminKey = 'status-int-admin-key-0123456789';
    const changed: string[] = [];
    let reachabilityChanges = 0;
    status = new ControlPlaneStatus({
      client: new ControlPlaneClient({ baseUrl: `http://127.0.0.1:${port}`, adminKey, backoff: { baseMs: 50 } }),
      resyncMs: 3_600_000, // out of reach of the test
      logger: createOperatorLogger('silent', []),
      onChange: (key) => changed.push(key),
      onReachabilityChange: () => reachabilityChanges++,
    });
    status.start();
    await waitFor('the first read to fail', async () => status?.isReachable === false);

    cp = await startControlPlaneProcess({ databaseUrl: await testDatabase(), adminKey, port });
    await waitFor('the control plane to be read', async () => status?.isReachable === true, { timeoutMs: 30_000 });
    const registered = await fetch(`${cp.url}/api/v1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-admin-key': adminKey },
      body: JSON.stringify({ agentName: 'late', namespace: 'ns1', instanceId: 'late-1', runtime: 'k8s' }),
    });
    expect(registered.status).toBe(201);
    await waitFor('the registration to reach the status', async () => status?.get('ns1', 'late') !== undefined, {
      timeoutMs: 30_000,
    });
    expect(changed).toContain('ns1/late');
    expect(reachabilityChanges).toBe(2);
  });
});
