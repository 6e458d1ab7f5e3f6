import { X509Certificate, createPrivateKey } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1MutatingWebhookConfiguration,
  type V1Secret,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ifFound, Periodic } from '@agentspec/service-kit';
import { createCertificateAuthority } from './pki.js';

export interface ServingCertificate {
  certPem: string;
  keyPem: string;
  notAfter: Date;
  /** SHA-256 fingerprint of the leaf, to tell certificates apart. */
  fingerprint: string;
}

/** Where the served certificate comes from; `onChange` fires with each new valid certificate. */
export interface CertificateSource {
  start(onChange: (certificate: ServingCertificate) => void): Promise<void>;
  stop(): void;
}

/** Parses and checks a PEM pair: the key must match the first certificate, which must be valid now. */
export function parseServingCertificate(certPem: string, keyPem: string, now = new Date()): ServingCertificate {
  const leaf = new X509Certificate(certPem);
  if (!leaf.checkPrivateKey(createPrivateKey(keyPem))) throw new Error('tls.key does not match tls.crt');
  const notAfter = new Date(leaf.validTo);
  if (notAfter <= now) throw new Error(`the certificate expired at ${notAfter.toISOString()}`);
  if (new Date(leaf.validFrom) > now) throw new Error(`the certificate is not valid before ${leaf.validFrom}`);
  return { certPem, keyPem, notAfter, fingerprint: leaf.fingerprint256 };
}

/**
 * cert-manager mode: serves `tls.crt`/`tls.key` from a mounted Secret directory and reloads them when they change
 * (the kubelet swaps the files atomically; a poll backs the file watch up).
 */
export class FileCertificates implements CertificateSource {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private last: string | undefined;

  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
    private readonly pollMs = 10_000,
  ) {}

  async start(onChange: (certificate: ServingCertificate) => void): Promise<void> {
    const load = async (): Promise<void> => {
      try {
        const [certPem, keyPem] = await Promise.all([
          readFile(join(this.dir, 'tls.crt'), 'utf8'),
          readFile(join(this.dir, 'tls.key'), 'utf8'),
        ]);
        const certificate = parseServingCertificate(certPem, keyPem);
        if (certificate.fingerprint === this.last) return;
        this.last = certificate.fingerprint;
        this.logger.info({ dir: this.dir, notAfter: certificate.notAfter }, 'serving certificate loaded');
        onChange(certificate);
      } catch (err) {
        this.logger.warn({ dir: this.dir, err: (err as Error).message }, 'serving certificate not loaded');
      }
    };
    await load();
    try {
      this.watcher = watch(this.dir, () => void load());
    } catch {
      // no directory yet: the poll picks it up
    }
    this.timer = setInterval(() => void load(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    this.watcher?.close();
    clearInterval(this.timer);
  }
}

export interface RotatorOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Secret holding tls.crt, tls.key and ca.crt. */
  secretName: string;
  /** The MutatingWebhookConfiguration whose caBundle we keep current. */
  webhookConfigurationName: string;
  /** The webhook Service: the certificate is issued for its DNS names. */
  serviceName: string;
  /** More names for the certificate (e.g. 127.0.0.1 for a webhook reached by `url`): DNS names or IP addresses. */
  extraHosts?: string[];
  validityMs: number;
  /** Renew when less than this is left. */
  renewBeforeMs: number;
  checkIntervalMs: number;
  logger: Logger;
}

const isStatus = (err: unknown, code: number): boolean => (err as { code?: number }).code === code;
const decode = (value: string | undefined): string => (value ? Buffer.from(value, 'base64').toString('utf8') : '');
const encode = (value: string): string => Buffer.from(value, 'utf8').toString('base64');

/** The CA certificates of a bundle that are still valid (at most `keep`, newest first). */
function validCas(bundlePem: string, keep: number, now = new Date()): string[] {
  const blocks = bundlePem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  return blocks
    .filter((pem) => {
      try {
        return new Date(new X509Certificate(pem).validTo) > now;
      } catch {
        return false;
      }
    })
    .slice(0, keep)
    .map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`));
}

/**
 * Built-in rotator (no cert-manager): keeps a CA and a serving certificate for the Service's DNS names in a Secret,
 * renews both well before expiry, and keeps the webhook configuration's caBundle current. The bundle holds the new
 * CA and the previous one, so replicas still serving the old certificate stay trusted during a rotation. With
 * several replicas only one writes each rotation: the Secret is written with its resourceVersion as a
 * precondition, and a replica that loses the race (409) adopts the winner's certificate.
 */
export class CertificateRotator implements CertificateSource {
  private readonly core: CoreV1Api;
  private readonly admission: AdmissionregistrationV1Api;
  private periodic: Periodic | undefined;
  private served: string | undefined;

  constructor(private readonly options: RotatorOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.admission = options.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  }

  get dnsNames(): string[] {
    const { serviceName: s, namespace: ns } = this.options;
    const extra = (this.options.extraHosts ?? []).filter((h) => isIP(h) === 0);
    return [s, `${s}.${ns}`, `${s}.${ns}.svc`, `${s}.${ns}.svc.cluster.local`, ...extra];
  }

  get ipAddresses(): string[] {
    return (this.options.extraHosts ?? []).filter((h) => isIP(h) !== 0);
  }

  async start(onChange: (certificate: ServingCertificate) => void): Promise<void> {
    this.periodic = new Periodic(
      () => this.reconcile(onChange),
      this.options.checkIntervalMs,
      (err) => this.options.logger.warn({ err: (err as Error).message }, 'certificate rotation check failed'),
    );
    await this.periodic.start();
  }

  stop(): void {
    this.periodic?.stop();
  }

  /** One check: renew if needed, serve what the Secret holds, keep caBundle current. */
  async reconcile(onChange: (certificate: ServingCertificate) => void): Promise<void> {
    let secret = await this.readSecret();
    let certificate = secret ? this.usable(secret) : undefined;
    if (!certificate) {
      secret = await this.renew(secret);
      certificate = secret ? this.usable(secret) : undefined;
    }
    if (!secret || !certificate) return;
    if (certificate.fingerprint !== this.served) {
      this.served = certificate.fingerprint;
      this.options.logger.info({ notAfter: certificate.notAfter }, 'serving certificate from the rotator');
      onChange(certificate);
    }
    await this.ensureCaBundle(decode(secret.data?.['ca.crt']));
  }

  private readSecret(): Promise<V1Secret | undefined> {
    return ifFound(() =>
      this.core.readNamespacedSecret({ name: this.options.secretName, namespace: this.options.namespace }),
    );
  }

  /** The Secret's certificate if it is valid, for our names, and not due for renewal. */
  private usable(secret: V1Secret): ServingCertificate | undefined {
    try {
      const certificate = parseServingCertificate(decode(secret.data?.['tls.crt']), decode(secret.data?.['tls.key']));
      const left = certificate.notAfter.getTime() - Date.now();
      if (left <= this.options.renewBeforeMs) return undefined;
      // Longer-lived than configured (the validity was shortened): issue one that follows the configuration.
      if (left > this.options.validityMs + 120_000) return undefined;
      const names = new X509Certificate(certificate.certPem).subjectAltName ?? '';
      if (!this.dnsNames.every((name) => names.includes(`DNS:${name}`))) return undefined;
      if (!this.ipAddresses.every((ip) => names.includes(`IP Address:${ip}`))) return undefined;
      if (!decode(secret.data?.['ca.crt'])) return undefined;
      return certificate;
    } catch {
      return undefined;
    }
  }

  /** Issues a new CA and certificate; writes them unless another replica did first (then uses theirs). */
  private async renew(existing: V1Secret | undefined): Promise<V1Secret | undefined> {
    const validDays = this.options.validityMs / 86_400_000;
    const ca = await createCertificateAuthority(`agentspec-webhook-ca-${Date.now()}`, validDays);
    const leaf = await ca.issue({
      subject: `CN=${this.options.serviceName}.${this.options.namespace}.svc`,
      dnsNames: this.dnsNames,
      ipAddresses: this.ipAddresses,
      usage: 'server',
      validDays,
    });
    const previous = validCas(decode(existing?.data?.['ca.crt']), 1);
    const bundle = [ca.certPem, ...previous].join('');
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: this.options.secretName,
        namespace: this.options.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'agentspec-webhook', 'app.kubernetes.io/part-of': 'agentspec' },
        ...(existing?.metadata?.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
      },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': encode(leaf.certPem), 'tls.key': encode(leaf.keyPem), 'ca.crt': encode(bundle) },
    };
    try {
      const written = existing
        ? await this.core.replaceNamespacedSecret({
            name: this.options.secretName,
            namespace: this.options.namespace,
            body,
          })
        : await this.core.createNamespacedSecret({ namespace: this.options.namespace, body });
      this.options.logger.info({ secret: this.options.secretName }, 'issued a new webhook certificate');
      return written;
    } catch (err) {
      if (isStatus(err, 409)) return this.readSecret(); // another replica rotated first
      throw err;
    }
  }

  private async ensureCaBundle(bundlePem: string): Promise<void> {
    let configuration: V1MutatingWebhookConfiguration;
    try {
      configuration = await this.admission.readMutatingWebhookConfiguration({
        name: this.options.webhookConfigurationName,
      });
    } catch (err) {
      if (isStatus(err, 404)) return; // not installed (yet): checked again next time
      throw err;
    }
    const caBundle = encode(bundlePem);
    const webhooks = configuration.webhooks ?? [];
    if (webhooks.every((w) => w.clientConfig.caBundle === caBundle)) return;
    await this.admission.replaceMutatingWebhookConfiguration({
      name: this.options.webhookConfigurationName,
      body: {
        ...configuration,
        webhooks: webhooks.map((w) => ({ ...w, clientConfig: { ...w.clientConfig, caBundle } })),
      },
    });
    this.options.logger.info({ configuration: this.options.webhookConfigurationName }, 'updated caBundle');
  }
}
