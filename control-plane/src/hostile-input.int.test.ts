// Hostile bytes against the control plane on PostgreSQL: every client error is a 4xx naming the field, never a 5xx,
// and one bad heartbeat never fails another.
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFigures } from '@agentspec/e2e';
import { testDatabase } from '@agentspec/e2e/vitest';
import { HeartbeatWriter, type HeartbeatWrite } from './heartbeat-writer.js';
import { hashTokenId } from './tokens.js';
import {
  ADMIN_KEY,
  JWT_SECRET,
  heartbeat,
  post,
  register,
  startTestControlPlane,
  type TestControlPlane,
} from '../tests/support.js';

/** A raw HTTP exchange: fetch would refuse or normalise some of these requests before they leave. */
function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(base);
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolvePromise({
          status: res.statusCode ?? 0,
          body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `[[[...1...]]]` nested `depth` deep, as text (serialising such a value would itself exhaust the stack). */
const deep = (depth: number): string => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

describe('control plane under hostile input (PostgreSQL)', () => {
  let cp: TestControlPlane;
  let token: string;
  const statuses: number[] = [];
  const admin = { 'x-admin-key': ADMIN_KEY };

  beforeAll(async () => {
    cp = await startTestControlPlane(await testDatabase());
    token = (await register(cp.url, { agentName: 'hostile', namespace: 'team-h', instanceId: 'h-0', runtime: 'k8s' }))
      .apiKey;
  });
  afterAll(async () => {
    recordFigures('hostile-input', {
      suite: 'control plane: malformed requests',
      cases: statuses.length,
      '5xx': statuses.filter((s) => s >= 500).length,
    });
    await cp?.close();
  });

  const expectClientError = (
    res: { status: number; body: Record<string, unknown> },
    status: number,
    field?: string,
  ) => {
    statuses.push(res.status);
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(typeof res.body['error']).toBe('string');
    expect(typeof res.body['message']).toBe('string');
    if (field) expect(res.body['field']).toBe(field);
  };

  it('415 for a charset other than UTF-8 and for an unknown Content-Encoding', async () => {
    const body = JSON.stringify({ agentName: 'x', runtime: 'k8s' });
    expectClientError(
      await raw(
        cp.url,
        'POST',
        '/api/v1/register',
        { ...admin, 'content-type': 'application/json; charset=latin1' },
        body,
      ),
      415,
      'content-type',
    );
    expectClientError(
      await raw(
        cp.url,
        'POST',
        '/api/v1/register',
        { ...admin, 'content-type': 'application/json', 'content-encoding': 'bogus' },
        body,
      ),
      415,
      'content-encoding',
    );
  });

  it('400 for a malformed percent-escape, NUL in a path or a query, a path segment that is no label', async () => {
    expectClientError(await raw(cp.url, 'GET', '/api/v1/namespaces/%E0%A4%A/agents/x', admin), 400);
    expectClientError(await raw(cp.url, 'GET', '/api/v1/namespaces/a%00b/agents/x', admin), 400, 'namespace');
    // An encoded lone surrogate is no UTF-8: the path cannot even be decoded.
    expectClientError(await raw(cp.url, 'GET', '/api/v1/agents/%ED%A0%80/health', admin), 400);
    expectClientError(await raw(cp.url, 'GET', '/api/v1/agents/Not_A_Label/health', admin), 400, 'name');
    expectClientError(await raw(cp.url, 'GET', '/api/v1/agents?namespace=%00', admin), 400, 'namespace');
  });

  it('400 for repeated, array-valued, unknown and non-decimal query parameters', async () => {
    for (const [path, query] of [
      ['/api/v1/agents', 'namespace=a&namespace=b'],
      ['/api/v1/agents', 'namespace[]=a'],
      ['/api/v1/namespaces/-/agents', 'name=a&name=b'],
      ['/api/v1/namespaces/-/agents', 'limit=0x10'],
      ['/api/v1/namespaces/-/agents', 'limit=1e2'],
      ['/api/v1/namespaces/-/agents', 'limit=%20%207'],
      ['/api/v1/namespaces/-/agents', 'limit=0'],
      ['/api/v1/events', 'types='],
      ['/api/v1/events', 'types=agent.heartbeat,,agent.offline'],
      ['/api/v1/events', 'types=agent.heartbeat%00'],
      ['/api/v1/events', 'namespace=Team_A'],
    ] as const) {
      const res = await raw(cp.url, 'GET', `${path}?${query}`, admin);
      expectClientError(res, 400);
      expect(query).toContain(String(res.body['field']).replace('[]', ''));
    }
    expectClientError(await raw(cp.url, 'GET', '/api/v1/namespaces/-/agents?cursor=a%00/b', admin), 400, 'cursor');
    expectClientError(await raw(cp.url, 'GET', '/api/v1/namespaces/-/agents?cursor=a/b/c', admin), 400, 'cursor');
    for (const id of ['-1', '1e3', '9'.repeat(16), '0x10', 'last']) {
      const res = await raw(cp.url, 'GET', '/api/v1/events', { ...admin, 'last-event-id': id });
      expectClientError(res, 400, 'last-event-id');
    }
  });

  it('400 naming the field for NUL, lone surrogates and deep nesting in a manifest, a heartbeat or a proof', async () => {
    const send = async (path: string, headers: Record<string, string>, body: string) =>
      raw(cp.url, 'POST', path, { ...headers, 'content-type': 'application/json' }, body);
    const reg = (manifest: string) =>
      send('/api/v1/register', admin, `{"agentName":"m","runtime":"k8s","manifest":${manifest}}`);
    expectClientError(await reg('{"spec":{"prompts":{"system":"a\\u0000b"}}}'), 400, 'manifest.spec.prompts.system');
    expectClientError(await reg('{"metadata":{"name":"\\ud800"}}'), 400, 'manifest.metadata.name');
    expectClientError(await reg(deep(5_000)), 400);
    const bearer = { authorization: `Bearer ${token}` };
    expectClientError(
      await send('/api/v1/heartbeat', bearer, '{"health":{"status":"healthy","note":"\\u0000"},"gap":{}}'),
      400,
      'health.note',
    );
    expectClientError(await send('/api/v1/heartbeat', bearer, `{"health":{},"gap":{},"proof":${deep(5_000)}}`), 400);
  });

  it('401 for a correctly signed token whose claims are not the ids we issue', async () => {
    const odd = await new SignJWT({ ins: 'not-a-uuid' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(randomUUID())
      .setJti(randomUUID())
      .setIssuer('agentspec-control-plane')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(JWT_SECRET));
    const res = await heartbeat(cp.url, odd);
    statuses.push(res.status);
    expect(res.status).toBe(401);
  });

  it('one heartbeat the database refuses never fails the others in its batch', async () => {
    const instances = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        register(cp.url, { agentName: 'batch', namespace: 'team-h', instanceId: `b-${i}`, runtime: 'k8s' }),
      ),
    );
    // Past the HTTP check (which would answer 400), straight into a writer of our own on the same database.
    const writer = new HeartbeatWriter(cp.context.database.db, {
      minIntervalSeconds: 0,
      historyLimit: 10,
      maxInFlight: 1,
    });
    const writes: HeartbeatWrite[] = instances.map((reg, i) => {
      const claims = decodeJwt(reg.apiKey);
      // Not JSON: PostgreSQL refuses this one row (nothing before the writer would let it through).
      const health = i === 7 ? '{"status":"healthy",' : '{"status":"healthy"}';
      return {
        instancePk: String(claims['ins']),
        tokenIdHash: hashTokenId(String(claims.jti)),
        healthStatus: 'healthy',
        phase: 'Healthy',
        score: 90,
        grade: 'A',
        healthJson: health,
        healthHash: `h${i}`,
        gapJson: '{"score":90}',
        gapHash: 'g',
        proofJson: null,
        proofHash: null,
        problemsJson: '{"checks":[],"violations":[]}',
        intervalSeconds: null,
      };
    });
    const results = await Promise.allSettled(writes.map((w) => writer.write(w)));
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(results[7]!.status).toBe('rejected');
    expect(results.filter((r) => r.status === 'fulfilled' && r.value.written)).toHaveLength(29);

    // And through HTTP: 40 concurrent heartbeats, one of them hostile.
    const more = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        register(cp.url, { agentName: 'batch', namespace: 'team-h', instanceId: `c-${i}`, runtime: 'k8s' }),
      ),
    );
    const answers = await Promise.all(
      more.map((reg, i) =>
        post(
          `${cp.url}/api/v1/heartbeat`,
          i === 3
            ? '{"health":{"status":"healthy"},"gap":{"note":"\\ud800"}}'
            : { health: { status: 'healthy' }, gap: { score: 90 } },
          { authorization: `Bearer ${reg.apiKey}` },
        ).then((r) => r.status),
      ),
    );
    statuses.push(...answers);
    expect(answers.filter((s) => s === 204)).toHaveLength(39);
    expect(answers[3]).toBe(400);
  });

  it('writes an audit line for registrations, deregistrations and repeated authentication failures, never a key', async () => {
    await register(cp.url, { agentName: 'audited', namespace: 'team-h', instanceId: 'a-0', runtime: 'k8s' });
    const wrong = 'wrong-admin-key-that-must-not-be-logged';
    for (let i = 0; i < 10; i++) {
      statuses.push((await raw(cp.url, 'GET', '/api/v1/agents', { 'x-admin-key': wrong })).status);
    }
    statuses.push((await raw(cp.url, 'DELETE', '/api/v1/namespaces/team-h/agents/audited', admin)).status);
    const lines = cp.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['audit']);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ audit: 'register', namespace: 'team-h', agent: 'audited', instanceId: 'a-0' }),
        expect.objectContaining({ audit: 'deregister', namespace: 'team-h', agent: 'audited' }),
        expect.objectContaining({ audit: 'auth-failed', failures: 1, path: '/api/v1/agents' }),
        expect.objectContaining({ audit: 'auth-failed', failures: 10 }),
      ]),
    );
    expect(lines.filter((l) => l['audit'] === 'auth-failed')).toHaveLength(2);
    const text = cp.logs.join('');
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(ADMIN_KEY);
  });

  it('answers 413 to a declared Content-Length over 64 KiB before any of the body arrives', async () => {
    const url = new URL(cp.url);
    const socket = connect(Number(url.port), url.hostname);
    const answer = new Promise<string>((resolvePromise, reject) => {
      socket.once('data', (chunk: Buffer) => resolvePromise(chunk.toString('latin1')));
      socket.once('error', reject);
    });
    socket.write(
      'POST /api/v1/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        `Authorization: Bearer ${token}\r\nContent-Length: 65537\r\n\r\n`,
    );
    const head = await answer; // no body is ever sent: only a refusal from the headers can answer
    socket.destroy();
    statuses.push(Number(head.split(' ')[1]));
    expect(head).toMatch(/^HTTP\/1\.1 413 /);
    expect(head.toLowerCase()).toContain('connection: close');
  });

  it('logs client errors below error level', () => {
    const errors = cp.logs.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 50);
    expect(errors).toEqual([]);
  });
});
