import { createHash, randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';

export interface TokenClaims {
  /** agents.id */
  agentId: string;
  /** instances.id */
  instancePk: string;
  jti: string;
  /** exp, in seconds since the epoch. */
  expiresAt?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function hashTokenId(jti: string): string {
  return createHash('sha256').update(jti).digest('hex');
}

/** Signs and verifies the per-instance heartbeat tokens: HS256 only, on verify as on sign. */
export class TokenService {
  private readonly key: Uint8Array;
  /**
   * Tokens already verified, by their exact text (signature included), newest last: a heartbeat or reconnect with a
   * known token skips the HMAC (jose runs it through WebCrypto's job queue). Expiry is checked on every use;
   * revocation is the database's (the token id hash). Bounded: the oldest entries go first.
   */
  private readonly verified = new Map<string, TokenClaims>();
  private readonly maxVerified = 20_000;

  constructor(
    secret: string,
    readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  /** A token for one instance; `jti` is chosen by the caller when it must be stored first. */
  async issue(
    agentId: string,
    instancePk: string,
    jti: string = randomUUID(),
  ): Promise<{ token: string; jti: string; expiresAt: Date }> {
    const now = Math.floor(Date.now() / 1000);
    const expiresAt = new Date((now + this.ttlSeconds) * 1000);
    const token = await new SignJWT({ ins: instancePk })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(agentId)
      .setJti(jti)
      .setIssuedAt(now)
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .setIssuer('agentspec-control-plane')
      .sign(this.key);
    return { token, jti, expiresAt };
  }

  /**
   * Throws for anything but a valid, unexpired HS256 token of ours (alg none and algorithm swaps included). A token
   * must carry `exp`, and its ids must be the UUIDs we issue: a signed token with other claims is refused here rather
   * than reaching the database.
   */
  async verify(token: string): Promise<TokenClaims> {
    const known = this.verified.get(token);
    if (known) {
      if (known.expiresAt! > Date.now() / 1000) return known;
      this.verified.delete(token);
    }
    const claims = await this.verifySignature(token);
    this.verified.set(token, Object.freeze(claims));
    if (this.verified.size > this.maxVerified) this.verified.delete(this.verified.keys().next().value!);
    return claims;
  }

  private async verifySignature(token: string): Promise<TokenClaims> {
    const { payload } = await jwtVerify(token, this.key, {
      algorithms: ['HS256'],
      issuer: 'agentspec-control-plane',
      requiredClaims: ['exp', 'sub', 'jti'],
    });
    const ids = [payload.sub, payload['ins'], payload.jti];
    if (!ids.every((id) => typeof id === 'string' && UUID.test(id))) {
      throw new Error('token ids sub, ins and jti must be UUIDs');
    }
    return { agentId: payload.sub!, instancePk: payload['ins'] as string, jti: payload.jti!, expiresAt: payload.exp! };
  }
}
