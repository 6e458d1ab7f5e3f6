import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const secret = 'a'.repeat(32);

describe('loadConfig', () => {
  it('has working defaults with only JWT_SECRET set', () => {
    expect(loadConfig({ JWT_SECRET: secret })).toMatchObject({
      port: 8080,
      databaseUrl: undefined,
      adminKey: undefined,
      tokenTtlSeconds: 2_592_000,
      minHeartbeatIntervalSeconds: 10,
      heartbeatIntervalSeconds: 30,
      historyLimit: 100,
      host: '0.0.0.0',
      instanceRetentionSeconds: 86_400,
      reaperIntervalSeconds: 10,
      databaseWaitSeconds: 120,
      databasePreparedStatements: true,
      eventsMaxSubscribers: 100,
    });
    expect(
      loadConfig({ JWT_SECRET: secret, AGENTSPEC_DATABASE_PREPARED_STATEMENTS: 'false' }).databasePreparedStatements,
    ).toBe(false);
    expect(loadConfig({ JWT_SECRET: secret, HOST: '127.0.0.1' }).host).toBe('127.0.0.1');
    expect(loadConfig({ JWT_SECRET: secret }).dataDir).toMatch(/\.agentspec-data$/);
  });

  it('reads the instance retention as a duration and names the variable when it is not one', () => {
    const retention = (text: string) =>
      loadConfig({ JWT_SECRET: secret, AGENTSPEC_INSTANCE_RETENTION: text }).instanceRetentionSeconds;
    expect([retention('90'), retention('90s'), retention('30m'), retention('24h'), retention('7d')]).toEqual([
      90, 90, 1_800, 86_400, 604_800,
    ]);
    for (const bad of ['1w', '-5s', '1.5h', 'soon']) {
      expect(() => retention(bad)).toThrow(/AGENTSPEC_INSTANCE_RETENTION must be a duration/);
    }
  });

  it('refuses a short or missing JWT_SECRET, saying how to make one, without echoing it', () => {
    const error = (() => {
      try {
        loadConfig({ JWT_SECRET: 'short-secret' });
      } catch (err) {
        return err as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('JWT_SECRET must be at least 32 characters');
    expect(error.message).toContain('openssl rand -hex 32');
    expect(error.message).not.toContain('short-secret');
    expect(() => loadConfig({})).toThrow(/JWT_SECRET .* is not set/);
  });

  it('reports every bad variable at once, by name', () => {
    const error = (() => {
      try {
        loadConfig({
          JWT_SECRET: secret,
          PORT: 'eighty',
          DATABASE_URL: 'mysql://db',
          AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS: '-1',
        });
      } catch (err) {
        return err as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error.problems).toHaveLength(3);
    expect(error.message).toContain('PORT must be a whole number from 0 to 65535, got "eighty"');
    expect(error.message).toContain('DATABASE_URL must be a postgres:// or postgresql:// URL');
    expect(error.message).toContain(
      'AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS must be a whole number from 0 to 3600, got "-1"',
    );
    expect(() => loadConfig({ JWT_SECRET: secret, AGENTSPEC_HEARTBEAT_INTERVAL_SECONDS: '5' })).toThrow(
      'AGENTSPEC_HEARTBEAT_INTERVAL_SECONDS must not be below AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS',
    );
  });

  it('reads hosted mode settings, naming a bad network or a missing CA file', () => {
    expect(loadConfig({ JWT_SECRET: secret, AGENTSPEC_HOSTED_ALLOWED_NETWORKS: '10.0.0.0/8, fd00::/8' })).toMatchObject(
      {
        hostedAllowedNetworks: ['10.0.0.0/8', 'fd00::/8'],
        hostedCaFile: undefined,
        hostedTimeoutSeconds: 5,
      },
    );
    expect(() =>
      loadConfig({
        JWT_SECRET: secret,
        AGENTSPEC_HOSTED_ALLOWED_NETWORKS: '10.0.0.0/33',
        AGENTSPEC_HOSTED_CA_FILE: '/nonexistent/ca.pem',
      }),
    ).toThrow(
      /AGENTSPEC_HOSTED_ALLOWED_NETWORKS: 10\.0\.0\.0\/33 is not a network[\s\S]*AGENTSPEC_HOSTED_CA_FILE: \/nonexistent\/ca\.pem does not exist/,
    );
  });
});
