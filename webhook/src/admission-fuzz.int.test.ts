// AdmissionReview fuzzing: random and recorded-then-mutated reviews, oversized and slow bodies. Every answer is an
// AdmissionReview or a 4xx, the process never fails, and every patch returned applies (with fast-json-patch) to the
// Pod it was computed for; applied patches are idempotent.
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import jsonpatch from 'fast-json-patch';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFigures } from '@agentspec/e2e';
import { admit } from './admission.js';
import type { CertificateSource } from './certificates.js';
import { parseServingCertificate } from './certificates.js';
import type { InjectOptions } from './inject.js';
import { createCertificateAuthority } from './pki.js';
import { MAX_REVIEW_BYTES, startWebhook, type RunningWebhook } from './server.js';

const fixtures = resolve(import.meta.dirname, '..', 'fixtures');
const recorded = readdirSync(fixtures)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(fixtures, f), 'utf8')) as Record<string, unknown>);
const options: InjectOptions = {
  controlPlaneUrl: 'http://agentspec-control-plane.agentspec-system:8080',
  excludedNamespaces: new Set(['kube-system']),
};
const figures = { cases: 0, crashes: 0, patches: 0, patchesFailing: 0 };

/** mulberry32: a small seeded generator, so a failing case can be replayed from the printed seed. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env['FUZZ_SEED'] ?? Date.now() % 1_000_000);
const random = generator(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

function randomValue(depth = 0): unknown {
  switch (Math.floor(random() * (depth > 3 ? 6 : 9))) {
    case 0:
      return null;
    case 1:
      return Math.floor(random() * 1e6) - 5e5;
    case 2:
      return pick(['', 'true', 'agentspec-sidecar', 'x\u0000y', '\ud800', 'é—🚀', '~1/~0', 'a'.repeat(300)]);
    case 3:
      return random() < 0.5;
    case 4:
      return pick([[], {}]);
    case 5:
      return {
        name: pick(['AGENTSPEC_ADMIN_KEY', 'PATH', 'AGENTSPEC_CONTROL_PLANE_URL', 7, null]),
        value: randomValue(depth + 1),
      };
    case 6:
      return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: Math.floor(random() * 4) }, () => [
          pick(['name', 'env', 'labels', 'x', '']),
          randomValue(depth + 1),
        ]),
      );
  }
}

/** Every object and array of a document, with the path to it. */
function places(root: unknown): { parent: Record<string, unknown> | unknown[]; key: string | number }[] {
  const out: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach((v, i) => {
        out.push({ parent: node, key: i });
        walk(v);
      });
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        out.push({ parent: node as Record<string, unknown>, key: k });
        walk(v);
      }
    }
  };
  walk(root);
  return out;
}

/** A recorded review with a few random edits: values replaced, keys dropped, containers and env entries added. */
function mutated(): Record<string, unknown> {
  const review = structuredClone(pick(recorded));
  const request = review['request'] as Record<string, unknown>;
  const pod = request['object'] as {
    metadata?: { labels?: Record<string, unknown> };
    spec?: { containers?: unknown[] };
  };
  if (random() < 0.7 && pod?.metadata) pod.metadata.labels = { ...pod.metadata.labels, 'agentspec.io/inject': 'true' };
  for (let edits = 1 + Math.floor(random() * 4); edits > 0; edits--) {
    const all = places(pod);
    if (all.length === 0) break;
    const { parent, key } = pick(all);
    const action = random();
    if (action < 0.45) (parent as Record<string | number, unknown>)[key] = randomValue();
    else if (action < 0.65 && !Array.isArray(parent)) delete parent[key as string];
    else if (Array.isArray(pod?.spec?.containers)) {
      pod.spec.containers.push({
        name: pick(['app', 'agentspec-sidecar', 'extra']),
        env: pick([undefined, null, [], [randomValue()]]),
      });
    }
  }
  return review;
}

/** The kinds of random review, from nonsense to nearly right. */
function randomReview(): unknown {
  const r = random();
  if (r < 0.1) return randomValue();
  if (r < 0.2) return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: randomValue() };
  return mutated();
}

/** Answers one review in process and checks the answer; returns the patched Pod when a patch was applied. */
function check(review: unknown): void {
  figures.cases++;
  let result;
  try {
    result = admit(review, options);
  } catch (err) {
    figures.crashes++;
    throw new Error(
      `admit threw for seed ${SEED}: ${(err as Error).message}\n${JSON.stringify(review).slice(0, 2_000)}`,
      { cause: err },
    );
  }
  expect([200, 400]).toContain(result.httpStatus);
  const response = (result.body as { response?: { allowed?: boolean; patch?: string } }).response;
  if (result.httpStatus === 200) expect(response?.allowed).toBe(true);
  if (!response?.patch) return;
  figures.patches++;
  const pod = (review as { request: { object: unknown } }).request.object;
  const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as jsonpatch.Operation[];
  let patched: unknown;
  try {
    patched = jsonpatch.applyPatch(structuredClone(pod), ops, true, false).newDocument;
  } catch (err) {
    figures.patchesFailing++;
    throw new Error(`patch does not apply (seed ${SEED}): ${(err as Error).message}\n${JSON.stringify(ops)}`, {
      cause: err,
    });
  }
  // Reinvocation: the patched Pod needs nothing more.
  const again = admit(
    { ...(review as object), request: { ...(review as { request: object }).request, object: patched } },
    options,
  );
  expect((again.body as { response?: { patch?: string } }).response?.patch).toBeUndefined();
}

describe(`AdmissionReview fuzzing (FUZZ_SEED=${SEED})`, () => {
  afterAll(() => {
    recordFigures('hostile-input', {
      suite: `webhook: AdmissionReview fuzz (seed ${SEED})`,
      cases: figures.cases,
      crashes: figures.crashes,
      patches: figures.patches,
      'patches failing': figures.patchesFailing,
    });
  });

  it('answers 5,000 random and mutated reviews in process; every patch applies and is idempotent', () => {
    for (const review of recorded) check(review);
    // Found by this fuzzer: a container that is a list, and `env: null`, once produced patches that do not apply.
    const base = recorded.find((r) => JSON.stringify(r).includes('"agentspec.io/inject":"true"'))!;
    for (const containers of [[['odd']], [{ name: 'app', env: null }], [{ name: 'app', env: 'x' }, { name: 'b' }]]) {
      const review = structuredClone(base) as { request: { object: { spec: { containers: unknown } } } };
      review.request.object.spec.containers = containers;
      check(review);
    }
    for (let i = 0; i < 5_000; i++) check(randomReview());
    expect(figures.crashes).toBe(0);
    expect(figures.patches).toBeGreaterThan(100);
  });

  describe('over HTTPS', () => {
    let webhook: RunningWebhook;
    let ca = '';
    beforeAll(async () => {
      const authority = await createCertificateAuthority('fuzz-ca');
      const leaf = await authority.issue({ subject: 'CN=webhook', ipAddresses: ['127.0.0.1'], usage: 'server' });
      ca = authority.certPem;
      const certificates: CertificateSource = {
        start: async (onChange) => onChange(parseServingCertificate(leaf.certPem, leaf.keyPem)),
        stop: () => undefined,
      };
      webhook = await startWebhook({
        inject: options,
        certificates,
        port: 0,
        host: '127.0.0.1',
        logger: pino({ level: 'silent' }),
        requestTimeoutMs: 2_000,
      });
    });
    afterAll(() => webhook?.stop());

    /** One POST /mutate; `write` sends the body its own way (slowly, in pieces). */
    const post = (write: (req: ReturnType<typeof request>) => void): Promise<{ status: number; text: string }> =>
      new Promise((done, fail) => {
        const url = new URL(`${webhook.url}/mutate`);
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            ca,
            headers: { 'content-type': 'application/json' },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => done({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
            res.on('error', fail);
          },
        );
        req.on('error', fail);
        write(req);
      });

    it('answers mutated reviews, invalid JSON and invalid UTF-8 through the server with 200 or 400 only', async () => {
      const bodies: Buffer[] = [
        Buffer.from('{"apiVersion": '),
        Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
        Buffer.from(JSON.stringify('x'.repeat(1000))),
        ...Array.from({ length: 300 }, () => Buffer.from(JSON.stringify(randomReview()))),
      ];
      for (const body of bodies) {
        const answer = await post((req) => req.end(body));
        figures.cases++;
        expect([200, 400]).toContain(answer.status);
        expect(() => JSON.parse(answer.text)).not.toThrow();
      }
    });

    it('refuses 16 MiB + 1 byte with 413 and still answers the next review', async () => {
      const oversized = Buffer.alloc(MAX_REVIEW_BYTES + 1, 0x20);
      const answer = await post((req) => req.end(oversized)).catch((err: Error) => ({ status: 0, text: err.message }));
      figures.cases++;
      // The server answers 413 as soon as the limit passes; the client may see the answer or a reset while still sending.
      expect([413, 0]).toContain(answer.status);
      const next = await post((req) => req.end(JSON.stringify(recorded[0])));
      expect(next.status).toBe(200);
    });

    it('cuts a body that trickles in past the request timeout, and serves other reviews meanwhile', async () => {
      let timer: NodeJS.Timeout | undefined;
      const slow = post((req) => {
        req.write('{"apiVersion":"admission.k8s.io/v1",');
        timer = setInterval(() => req.write(' '), 200);
      }).catch((err: Error) => ({ status: 0, text: err.message }));
      const meanwhile = await post((req) => req.end(JSON.stringify(recorded[0])));
      expect(meanwhile.status).toBe(200);
      const cut = await slow;
      clearInterval(timer);
      figures.cases++;
      expect([408, 0]).toContain(cut.status);
    });
  });
});
