import { describe, expect, it } from 'vitest';
import { helpText, loadOperatorConfig, OperatorConfigError } from './config.js';

describe('loadOperatorConfig', () => {
  it('works with nothing: all namespaces, no control plane, leader election in default', () => {
    const config = loadOperatorConfig([], {});
    expect(config).toMatchObject({
      namespace: undefined,
      controlPlaneUrl: undefined,
      healthAddr: ':8081',
      metricsAddr: ':8080',
      workers: 4,
      leaderElect: true,
      leaderElectionNamespace: 'default',
      leaderElectionId: 'agentspec-operator',
      releaseNamespace: undefined,
      resyncSeconds: 600,
    });
  });

  it('reads the environment, and flags win over it', () => {
    const env = { WATCH_NAMESPACE: 'team-a', POD_NAMESPACE: 'agentspec-system', WORKERS: '2' };
    expect(loadOperatorConfig([], env)).toMatchObject({
      namespace: 'team-a',
      workers: 2,
      releaseNamespace: 'agentspec-system',
      leaderElectionNamespace: 'agentspec-system',
    });
    expect(loadOperatorConfig(['--workers=8', '--namespace', 'team-b'], env)).toMatchObject({
      namespace: 'team-b',
      workers: 8,
    });
  });

  it('names every bad flag at once', () => {
    let error: unknown;
    try {
      loadOperatorConfig(['--workers=0', '--leader-elect=yes', '--metrics-addr=8080'], {
        AGENTSPEC_CONTROL_PLANE_URL: 'http://cp:8080',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(OperatorConfigError);
    const problems = (error as OperatorConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/--workers \(WORKERS\) must be a whole number from 1 to 256, got "0"/);
    expect(problems.join('\n')).toMatch(/--leader-elect \(LEADER_ELECT\) must be true or false/);
    expect(problems.join('\n')).toMatch(/--metrics-addr \(METRICS_ADDR\) must be host:port/);
    expect(problems.join('\n')).toMatch(/AGENTSPEC_ADMIN_KEY must be set/);
  });

  it('refuses unknown flags and never takes the admin key from a flag', () => {
    expect(() => loadOperatorConfig(['--admin-key=x'], {})).toThrow(/Unknown option '--admin-key'/);
    expect(helpText()).toContain('AGENTSPEC_ADMIN_KEY');
  });
});
