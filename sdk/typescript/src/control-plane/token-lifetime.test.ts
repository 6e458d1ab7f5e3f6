import { describe, expect, it } from 'vitest';
import { controlPlaneUrlFor, refreshTime } from './token-lifetime.js';

const jwt = (claims: Record<string, unknown>): string =>
  `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('token lifetime', () => {
  it('is due two thirds into the lifetime the token states', () => {
    expect(refreshTime(jwt({ iat: 1_000, exp: 1_060 }))).toBe(1_040_000);
    expect(refreshTime(jwt({ iat: 0, exp: 2_592_000 }))).toBe(1_728_000_000);
  });

  it('is undefined for anything that is not a JWT with iat before exp', () => {
    for (const token of [
      'opaque-key',
      jwt({ exp: 5 }),
      jwt({ iat: 5, exp: 5 }),
      'a.!!!.c',
      jwt({ iat: '1', exp: 9 }),
    ]) {
      expect(refreshTime(token)).toBeUndefined();
    }
  });

  it('derives the control plane URL only from a control plane heartbeat URL', () => {
    expect(controlPlaneUrlFor('https://cp.example.com/api/v1/heartbeat')).toBe('https://cp.example.com');
    expect(controlPlaneUrlFor('http://10.0.0.1:8080/base/api/v1/heartbeat/')).toBe('http://10.0.0.1:8080/base');
    expect(controlPlaneUrlFor('https://other.example.com/ingest')).toBeUndefined();
  });
});
