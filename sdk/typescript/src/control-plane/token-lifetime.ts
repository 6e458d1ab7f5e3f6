/** The fraction of a token's lifetime after which clients swap it for a fresh one. */
export const REFRESH_AT_FRACTION = 2 / 3;

/**
 * When a token should be refreshed (ms since the epoch): two thirds into its lifetime, read from its own `iat` and
 * `exp` claims (the claims are only read here; the control plane verifies the signature). Undefined for a token that
 * is not a JWT with both claims, which is then simply used until refused.
 */
export function refreshTime(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iat?: unknown; exp?: unknown };
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.exp <= claims.iat) return undefined;
    return (claims.iat + (claims.exp - claims.iat) * REFRESH_AT_FRACTION) * 1000;
  } catch {
    return undefined;
  }
}

/** The control plane's base URL for a heartbeat URL ending in /api/v1/heartbeat; undefined for any other URL. */
export function controlPlaneUrlFor(heartbeatUrl: string): string | undefined {
  return /^(.*)\/api\/v1\/heartbeat\/?$/.exec(heartbeatUrl)?.[1];
}
