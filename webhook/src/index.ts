export { createCertificateAuthority, createSigningKeyPair, type CertificateAuthority, type KeyPairPem } from './pki.js';
export { admit, type AdmissionOutcome, type AdmissionResult } from './admission.js';
export { decideInjection, registrationEnv, type InjectOptions } from './inject.js';
export {
  CertificateRotator,
  FileCertificates,
  parseServingCertificate,
  type CertificateSource,
  type RotatorOptions,
  type ServingCertificate,
} from './certificates.js';
export {
  createAdmissionHandler,
  startWebhook,
  MAX_REVIEW_BYTES,
  type RunningWebhook,
  type WebhookServerOptions,
} from './server.js';
export { loadWebhookConfig, helpText, SETTINGS, WebhookConfigError, type WebhookConfig } from './config.js';
