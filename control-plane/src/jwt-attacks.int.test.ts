// The JWT attack matrix of RFC 8725 (JSON Web Token Best Current Practices) against the heartbeat endpoint on
// PostgreSQL: every forged, swapped, stale or revoked token is refused with 401, the genuine one is accepted.
import { createHmac, createSecretKey, randomUUID } from 'node:crypto';
import { decodeJwt, exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFigures } from '@agentspec/e2e';
import { testDatabase } from '@agentspec/e2e/vitest';
import { heartbeat, JWT_SECRET, register, startTestControlPlane, type TestControlPlane } from '../tests/support.js';

const secret = new TextEncoder().encode(JWT_SECRET);
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('JWT attacks (RFC 8725) against POST /api/v1/heartbeat', () => {
  let cp: TestControlPlane;
  let genuine = '';
  let other = { apiKey: '', ins: '' };
  const results: { attack: string; status: number }[] = [];

  beforeAll(async () => {
    cp = await startTestControlPlane(await testDatabase());
    genuine = (await register(cp.url, { agentName: 'jwt', namespace: 'team-j', instanceId: 'a', runtime: 'k8s' }))
      .apiKey;
    const b = await register(cp.url, { agentName: 'jwt', namespace: 'team-j', instanceId: 'b', runtime: 'k8s' });
    other = { apiKey: b.apiKey, ins: String(decodeJwt(b.apiKey)['ins']) };
  });
  afterAll(async () => {
    const rejected = results.filter((r) => r.status === 401).length;
    recordFigures('hostile-input', {
      suite: 'control plane: JWT attacks (RFC 8725)',
      cases: results.length,
      rejected: `${rejected}/${results.length} (${Math.round((100 * rejected) / Math.max(1, results.length))} %)`,
      '5xx': results.filter((r) => r.status >= 500).length,
    });
    await cp?.close();
  });

  /** A token with the genuine token's claims, changed by `edit`, signed by `sign`. */
  async function forge(
    edit: (claims: Record<string, unknown>) => Record<string, unknown>,
    sign: (jwt: SignJWT) => Promise<string> = (jwt) => jwt.setProtectedHeader({ alg: 'HS256' }).sign(secret),
  ): Promise<string> {
    return sign(new SignJWT(edit({ ...decodeJwt(genuine) })));
  }

  it('accepts the genuine token (the control case)', async () => {
    expect((await heartbeat(cp.url, genuine)).status).toBe(204);
  });

  it('refuses every attack with 401', async () => {
    const [header, payload, signature] = genuine.split('.') as [string, string, string];
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const ec = await generateKeyPair('ES256');
    const publicPem = await exportSPKI(rsa.publicKey);
    const claims = decodeJwt(genuine);
    const now = Math.floor(Date.now() / 1000);
    const attacks: Record<string, () => Promise<string> | string> = {
      'alg none (unsecured JWT, same claims)': () => new UnsecuredJWT({ ...claims }).encode(),
      'alg none header on the genuine payload': () => `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'alg "None" header with the genuine signature': () => `${b64({ alg: 'None' })}.${payload}.${signature}`,
      'HS512 with the real secret (algorithm swap)': () =>
        forge(
          (c) => c,
          (jwt) => jwt.setProtectedHeader({ alg: 'HS512' }).sign(secret),
        ),
      'HS384 with the real secret (algorithm swap)': () =>
        forge(
          (c) => c,
          (jwt) => jwt.setProtectedHeader({ alg: 'HS384' }).sign(secret),
        ),
      "RS256 signed with an attacker's RSA key": () =>
        forge(
          (c) => c,
          (jwt) => jwt.setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey),
        ),
      "ES256 signed with an attacker's EC key": () =>
        forge(
          (c) => c,
          (jwt) => jwt.setProtectedHeader({ alg: 'ES256' }).sign(ec.privateKey),
        ),
      'key confusion: HS256 keyed with a public key PEM': () =>
        forge(
          (c) => c,
          (jwt) => jwt.setProtectedHeader({ alg: 'HS256' }).sign(createSecretKey(Buffer.from(publicPem))),
        ),
      'embedded jwk header with RS256 (self-signed key)': async () => {
        const jwk = await exportJWK(rsa.publicKey);
        return forge(
          (c) => c,
          (jwt) => jwt.setProtectedHeader({ alg: 'RS256', jwk }).sign(rsa.privateKey),
        );
      },
      'HS256 with a wrong secret': () =>
        forge(
          (c) => c,
          (jwt) => jwt.setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(48))),
        ),
      'tampered payload (other instance), genuine signature': () =>
        `${header}.${b64({ ...claims, ins: other.ins })}.${signature}`,
      'signature stripped': () => `${header}.${payload}.`,
      expired: () => forge((c) => ({ ...c, iat: now - 7200, exp: now - 3600 })),
      'no exp claim': () => forge(({ exp: _exp, ...c }) => c),
      'not yet valid (nbf in the future)': () => forge((c) => ({ ...c, nbf: now + 3600 })),
      'wrong issuer': () => forge((c) => ({ ...c, iss: 'someone-else' })),
      'unknown critical header (HMAC with the real secret)': () => {
        const signingInput = `${b64({ alg: 'HS256', crit: ['x-evil'], 'x-evil': 1 })}.${payload}`;
        return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
      },
      "another instance's id with this instance's token id (validly signed)": () =>
        forge((c) => ({ ...c, ins: other.ins })),
      'a random instance id (validly signed)': () => forge((c) => ({ ...c, ins: randomUUID(), jti: randomUUID() })),
    };
    for (const [attack, make] of Object.entries(attacks)) {
      const token = await make();
      const status = (await heartbeat(cp.url, token)).status;
      results.push({ attack, status });
    }
    // Revoked: re-registering the instance rotates its token; the old one is refused from then on.
    await register(cp.url, { agentName: 'jwt', namespace: 'team-j', instanceId: 'b', runtime: 'k8s' });
    results.push({
      attack: 'revoked (instance re-registered)',
      status: (await heartbeat(cp.url, other.apiKey)).status,
    });

    expect(results.filter((r) => r.status !== 401)).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(20);
  });
});
