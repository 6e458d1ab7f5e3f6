import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority, createSigningKeyPair } from './pki.js';

describe('certificate authority', () => {
  it('issues server certificates with the requested names, signed by the CA', async () => {
    const ca = await createCertificateAuthority('unit-ca');
    const leaf = await ca.issue({
      subject: 'CN=webhook',
      usage: 'server',
      dnsNames: ['webhook.ns.svc'],
      ipAddresses: ['127.0.0.1'],
    });
    const caCert = new X509Certificate(ca.certPem);
    const cert = new X509Certificate(leaf.certPem);
    expect(caCert.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.subjectAltName).toBe('DNS:webhook.ns.svc, IP Address:127.0.0.1');
    expect(cert.checkPrivateKey(createPrivateKey(leaf.keyPem))).toBe(true);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });

  it('puts groups into the subject of client certificates (O=system:masters)', async () => {
    const ca = await createCertificateAuthority('unit-ca');
    const client = await ca.issue({ subject: 'CN=admin, O=system:masters', usage: 'client', validDays: 2 });
    const cert = new X509Certificate(client.certPem);
    expect(cert.subject.split('\n').sort()).toEqual(['CN=admin', 'O=system:masters']);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    const lifetimeDays = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    expect(Math.round(lifetimeDays)).toBe(2);
  });

  it('creates a matching signing key pair in PEM', async () => {
    const pair = await createSigningKeyPair();
    const fromPrivate = createPublicKey(createPrivateKey(pair.privateKeyPem)).export({ format: 'pem', type: 'spki' });
    expect(fromPrivate).toBe(pair.publicKeyPem);
  });
});
