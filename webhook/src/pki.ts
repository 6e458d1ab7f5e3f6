// @peculiar/x509 resolves its ASN.1 classes through tsyringe, which needs the Reflect metadata polyfill first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority extends KeyPairPem {
  /** Issues a certificate signed by this CA. */
  issue(request: CertificateRequest): Promise<KeyPairPem>;
}

export interface CertificateRequest {
  /** RFC 4514 subject, e.g. "CN=admin, O=system:masters". */
  subject: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: 'server' | 'client' | 'both';
  validDays?: number;
}

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END ${label}-----\n`;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  return toPem(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

export async function publicKeyPem(key: CryptoKey): Promise<string> {
  return toPem(await webcrypto.subtle.exportKey('spki', key), 'PUBLIC KEY');
}

function serialNumber(): string {
  // Positive 16-byte serial (the top bit cleared keeps the DER INTEGER positive).
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

/** A throwaway CA for one test cluster: ECDSA P-256, valid for `validDays`. */
export async function createCertificateAuthority(commonName: string, validDays = 365): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const notBefore = new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${commonName}`,
    notBefore,
    notAfter: new Date(Date.now() + validDays * DAY_MS),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });

  async function issue(request: CertificateRequest): Promise<KeyPairPem> {
    const leafKeys = await generateKeys();
    const extendedUsages = {
      server: [x509.ExtendedKeyUsage.serverAuth],
      client: [x509.ExtendedKeyUsage.clientAuth],
      both: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
    }[request.usage];
    const altNames: x509.JsonGeneralName[] = [
      ...(request.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(request.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ];
    const leafNotBefore = new Date(Date.now() - 60_000);
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: request.subject,
      issuer: cert.subject,
      notBefore: leafNotBefore,
      notAfter: new Date(Date.now() + (request.validDays ?? validDays) * DAY_MS),
      signingKey: keys.privateKey,
      publicKey: leafKeys.publicKey,
      signingAlgorithm: algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension(extendedUsages),
        ...(altNames.length ? [new x509.SubjectAlternativeNameExtension(altNames)] : []),
        await x509.AuthorityKeyIdentifierExtension.create(cert),
      ],
    });
    return { certPem: leaf.toString('pem') + '\n', keyPem: await privateKeyPem(leafKeys.privateKey) };
  }

  return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyPem(keys.privateKey), issue };
}

/** The key pair the apiserver signs service-account tokens with (and kube-controller-manager uses). */
export async function createSigningKeyPair(): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const keys = await generateKeys();
  return { privateKeyPem: await privateKeyPem(keys.privateKey), publicKeyPem: await publicKeyPem(keys.publicKey) };
}
