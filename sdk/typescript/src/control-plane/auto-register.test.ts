import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { autoRegistrationConfig } from './auto-register.js';

describe('autoRegistrationConfig', () => {
  const injected = {
    AGENTSPEC_CONTROL_PLANE_URL: 'http://cp:8080',
    AGENTSPEC_ADMIN_KEY: 'admin',
    AGENTSPEC_AGENT_NAME: 'coach',
    AGENTSPEC_NAMESPACE: 'team-a',
    AGENTSPEC_INSTANCE_ID: 'coach-7d9f-abcde',
    KUBERNETES_SERVICE_HOST: '10.0.0.1',
  };

  it('reads what the webhook injects', () => {
    expect(autoRegistrationConfig(injected, 'manifest-name')).toEqual({
      controlPlaneUrl: 'http://cp:8080',
      adminKey: 'admin',
      agentName: 'coach',
      namespace: 'team-a',
      instanceId: 'coach-7d9f-abcde',
      runtime: 'k8s',
      transport: 'auto',
    });
  });

  it('falls back to the manifest name, the hostname and the local runtime', () => {
    expect(autoRegistrationConfig({ AGENTSPEC_CONTROL_PLANE_URL: 'http://cp' }, 'manifest-name')).toEqual({
      controlPlaneUrl: 'http://cp',
      adminKey: undefined,
      agentName: 'manifest-name',
      namespace: undefined,
      instanceId: hostname(),
      runtime: 'local',
      transport: 'auto',
    });
  });

  it('reads AGENTSPEC_TRANSPORT, and refuses a value it does not know, naming it', () => {
    const env = { AGENTSPEC_CONTROL_PLANE_URL: 'http://cp' };
    expect(autoRegistrationConfig({ ...env, AGENTSPEC_TRANSPORT: 'WS' }, 'x')?.transport).toBe('ws');
    expect(autoRegistrationConfig({ ...env, AGENTSPEC_TRANSPORT: 'http' }, 'x')?.transport).toBe('http');
    expect(() => autoRegistrationConfig({ ...env, AGENTSPEC_TRANSPORT: 'pigeon' }, 'x')).toThrow(
      /AGENTSPEC_TRANSPORT must be ws, http or auto, got "pigeon"/,
    );
  });

  it('stays off without a control plane, and when the sidecar registers for the pod', () => {
    expect(autoRegistrationConfig({}, 'x')).toBeUndefined();
    expect(autoRegistrationConfig({ ...injected, AGENTSPEC_REGISTRAR: 'sidecar' }, 'x')).toBeUndefined();
  });
});
