// cert-manager mode: the webhook serves the mounted tls.crt/tls.key and picks up new files without a restart.
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '@agentspec/e2e';
import { FileCertificates } from './certificates.js';
import { createCertificateAuthority } from './pki.js';
import { startWebhook, type RunningWebhook } from './server.js';

let webhook: RunningWebhook | undefined;
let caPem: string | undefined;
afterAll(() => webhook?.stop());

/** The fingerprint of the certificate the server presents, trusting `ca`. */
function servedFingerprint(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/healthz`, { ca, method: 'GET', agent: false }, (res) => {
      resolve((res.socket as TLSSocket).getPeerX509Certificate()?.fingerprint256 ?? '');
      res.resume();
    });
    req.on('error', reject);
    req.end();
  });
}

function post(url: string, ca: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/mutate`,
      { ca, method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function writePair(dir: string, ca: Awaited<ReturnType<typeof createCertificateAuthority>>): Promise<void> {
  const leaf = await ca.issue({ subject: 'CN=agentspec-webhook', ipAddresses: ['127.0.0.1'], usage: 'server' });
  // Like the kubelet: write elsewhere, then swap in.
  writeFileSync(join(dir, 'tls.key.new'), leaf.keyPem);
  writeFileSync(join(dir, 'tls.crt.new'), leaf.certPem);
  renameSync(join(dir, 'tls.key.new'), join(dir, 'tls.key'));
  renameSync(join(dir, 'tls.crt.new'), join(dir, 'tls.crt'));
}

describe('cert-manager mode', () => {
  it('serves the mounted certificate and reloads it when the files change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webhook-tls-'));
    const ca = await createCertificateAuthority('cert-manager-test', 1);
    await writePair(dir, ca);
    webhook = await startWebhook({
      inject: { controlPlaneUrl: 'http://cp:8080', excludedNamespaces: new Set() },
      certificates: new FileCertificates(dir, pino({ level: 'silent' }), 200),
      port: 0,
      host: '127.0.0.1',
      healthPort: 0,
      logger: pino({ level: 'silent' }),
    });
    const first = webhook.current()?.fingerprint;
    caPem = ca.certPem;
    expect(await servedFingerprint(webhook.url, ca.certPem)).toBe(first);
    expect((await fetch(`${webhook.healthUrl}/readyz`)).status).toBe(200);

    await writePair(dir, ca);
    await waitFor('the new certificate to be served', async () => {
      const served = await servedFingerprint(webhook!.url, ca.certPem);
      return served !== first && served === webhook!.current()?.fingerprint;
    });
  });

  it('accepts AdmissionReviews of several MiB (large pods exist)', async () => {
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'big-1',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        operation: 'CREATE',
        namespace: 'team-a',
        object: {
          metadata: {
            name: 'big',
            labels: { 'agentspec.io/inject': 'true' },
            annotations: { blob: 'x'.repeat(5 * 1024 * 1024) },
          },
          spec: { containers: [{ name: 'agent', image: 'a:1' }] },
        },
      },
    };
    const answer = await post(webhook!.url, caPem!, JSON.stringify(review));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({
      response: { uid: 'big-1', allowed: true, patchType: 'JSONPatch' },
    });
    const bad = await post(webhook!.url, caPem!, '{"apiVersion":');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: 'BadRequest' });
  });

  it('keeps serving the old certificate when the new files are broken', async () => {
    const current = webhook!.current()?.fingerprint;
    const dir = mkdtempSync(join(tmpdir(), 'webhook-tls-broken-'));
    const certificates = new FileCertificates(dir, pino({ level: 'silent' }), 100);
    writeFileSync(join(dir, 'tls.crt'), 'not a certificate');
    writeFileSync(join(dir, 'tls.key'), 'not a key');
    const seen: string[] = [];
    await certificates.start((c) => seen.push(c.fingerprint));
    certificates.stop();
    expect(seen).toEqual([]);
    expect(webhook!.current()?.fingerprint).toBe(current);
  });
});
