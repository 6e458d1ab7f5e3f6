import { describe, expect, it } from 'vitest';
import { loadSidecarConfig } from './config.js';

describe('loadSidecarConfig', () => {
  it('applies the defaults of seed 001', () => {
    const config = loadSidecarConfig({ UPSTREAM_URL: 'http://localhost:8000' });
    expect(config).toMatchObject({
      manifestPath: '/manifest/agent.yaml',
      proxyPort: 4000,
      controlPlanePort: 4001,
      auditRingSize: 1000,
      opaUrl: undefined,
      opaProxyMode: 'track',
    });
    expect(config.upstreamUrl.href).toBe('http://localhost:8000/');
  });

  it('refuses an UPSTREAM_URL without http: or https: with the documented message', () => {
    expect(() => loadSidecarConfig({ UPSTREAM_URL: 'localhost:8000' })).toThrow(
      'Invalid UPSTREAM_URL: "localhost:8000" — must use http: or https: protocol',
    );
    expect(() => loadSidecarConfig({ UPSTREAM_URL: 'ftp://agent' })).toThrow(
      'Invalid UPSTREAM_URL: "ftp://agent" — must use http: or https: protocol',
    );
  });

  it("defaults UPSTREAM_URL to seed 001's http://localhost:8000", () => {
    expect(loadSidecarConfig({}).upstreamUrl.href).toBe('http://localhost:8000/');
    expect(loadSidecarConfig({ UPSTREAM_URL: '' }).upstreamUrl.href).toBe('http://localhost:8000/');
  });

  it('refuses non-integer ports and unknown OPA modes, naming the variable', () => {
    const base = { UPSTREAM_URL: 'http://a:1' };
    expect(() => loadSidecarConfig({ ...base, PROXY_PORT: '40.5' })).toThrow(/Invalid PROXY_PORT: "40.5"/);
    expect(() => loadSidecarConfig({ ...base, CONTROL_PLANE_PORT: 'abc' })).toThrow(/Invalid CONTROL_PLANE_PORT/);
    expect(() => loadSidecarConfig({ ...base, AUDIT_RING_SIZE: '0' })).toThrow(/Invalid AUDIT_RING_SIZE/);
    expect(() => loadSidecarConfig({ ...base, OPA_PROXY_MODE: 'block' })).toThrow(/Invalid OPA_PROXY_MODE: "block"/);
  });
});
