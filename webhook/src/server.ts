import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { startOpsServer } from '@agentspec/service-kit';
import { admit } from './admission.js';
import type { CertificateSource, ServingCertificate } from './certificates.js';
import type { InjectOptions } from './inject.js';

/** Large pods exist (many containers, long env lists): accept AdmissionReviews of several MiB. */
export const MAX_REVIEW_BYTES = 16 * 1024 * 1024;

export interface WebhookMetrics {
  registry: Registry;
  requests: Counter<'result'>;
  duration: Histogram<'result'>;
  injected: Counter;
}

export function createWebhookMetrics(): WebhookMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'agentspec_webhook_admission_requests_total',
      help: 'AdmissionReviews answered, by result (injected, unchanged, skipped, invalid, error)',
      labelNames: ['result'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'agentspec_webhook_admission_duration_seconds',
      help: 'Time to answer an AdmissionReview, body parsing included',
      labelNames: ['result'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    injected: new Counter({
      name: 'agentspec_webhook_injected_variables_total',
      help: 'Environment variables added to containers',
      registers: [registry],
    }),
  };
}

/**
 * The admission handler: POST /mutate, everything else 404. Plain node:http(s), no framework: it sits in the path
 * of every pod creation, so it reads the body, parses it once and answers. Bodies up to MAX_REVIEW_BYTES.
 */
export function createAdmissionHandler(
  options: InjectOptions,
  metrics: WebhookMetrics,
  logger: Logger,
): (req: IncomingMessage, res: ServerResponse) => void {
  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  };
  return (req, res) => {
    // The apiserver calls /mutate?timeout=5s.
    const path = (req.url ?? '').split('?', 1)[0];
    if (path !== '/mutate' || req.method !== 'POST') {
      send(res, path === '/mutate' ? 405 : 404, { error: 'NotFound', message: 'POST /mutate' });
      return;
    }
    const started = process.hrtime.bigint();
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > MAX_REVIEW_BYTES) {
        refused = true;
        metrics.requests.inc({ result: 'invalid' });
        send(res, 413, {
          error: 'PayloadTooLarge',
          message: `the AdmissionReview is larger than ${MAX_REVIEW_BYTES} bytes`,
        });
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
      } catch (err) {
        metrics.requests.inc({ result: 'invalid' });
        send(res, 400, { error: 'BadRequest', message: `the body is not valid JSON: ${(err as Error).message}` });
        return;
      }
      const result = admit(body, options);
      metrics.requests.inc({ result: result.outcome });
      if (result.injected) metrics.injected.inc(result.injected);
      if (result.outcome === 'error') {
        logger.warn({ err: result.detail }, 'admitted a pod unchanged after an internal error');
      } else if (result.outcome === 'invalid') {
        logger.info({ detail: result.detail }, 'refused a malformed AdmissionReview');
      }
      send(res, result.httpStatus, result.body);
      metrics.duration.observe({ result: result.outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    });
  };
}

export interface WebhookServerOptions {
  inject: InjectOptions;
  certificates: CertificateSource;
  /** HTTPS port of /mutate (0: any free port). */
  port: number;
  host?: string;
  /** Plain HTTP port of /healthz, /readyz and /metrics (0: any; undefined: none). */
  healthPort?: number;
  logger: Logger;
  /**
   * Longest time one request may take to arrive, headers and body (slow or stalled clients are cut with 408). The
   * apiserver gives up after the webhook's timeoutSeconds (at most 30 s). Default 30 s.
   */
  requestTimeoutMs?: number;
}

export interface RunningWebhook {
  /** https://host:port */
  url: string;
  healthUrl: string | undefined;
  metrics: WebhookMetrics;
  /** The certificate being served. */
  current(): ServingCertificate | undefined;
  stop(): Promise<void>;
}

/**
 * Serves /mutate over HTTPS with the certificate source's current certificate (swapped in place, no restart),
 * plus /healthz, /readyz (200 only while a valid certificate is served) and /metrics over plain HTTP.
 */
export async function startWebhook(options: WebhookServerOptions): Promise<RunningWebhook> {
  const metrics = createWebhookMetrics();
  const handler = createAdmissionHandler(options.inject, metrics, options.logger);
  let current: ServingCertificate | undefined;
  const tls: { server?: HttpsServer } = {};
  let firstCertificate: () => void = () => undefined;
  const haveCertificate = new Promise<void>((resolve) => (firstCertificate = resolve));

  await options.certificates.start((certificate) => {
    current = certificate;
    tls.server?.setSecureContext({ cert: certificate.certPem, key: certificate.keyPem });
    firstCertificate();
  });

  const health =
    options.healthPort === undefined
      ? undefined
      : await startOpsServer({
          addr: `${options.host ?? '0.0.0.0'}:${options.healthPort}`,
          ready: () => current !== undefined && current.notAfter > new Date() && tls.server?.listening === true,
          notReady: 'no valid certificate served yet',
          registry: metrics.registry,
        });

  await haveCertificate;
  const certificate = current as ServingCertificate | undefined;
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const https = createHttpsServer(
    // Timeouts are checked every connectionsCheckingInterval (node's default, 30 s, would let a slow client hold on).
    {
      cert: certificate?.certPem,
      key: certificate?.keyPem,
      connectionsCheckingInterval: Math.min(1_000, requestTimeout),
    },
    handler,
  );
  tls.server = https;
  https.keepAliveTimeout = 65_000;
  https.requestTimeout = requestTimeout;
  https.headersTimeout = Math.min(requestTimeout, 10_000);
  await new Promise<void>((resolve) => https.listen(options.port, options.host ?? '0.0.0.0', resolve));
  const address = https.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  return {
    url: `https://${host}:${address.port}`,
    healthUrl: health?.url?.replace('127.0.0.1', host),
    metrics,
    current: () => current,
    async stop() {
      options.certificates.stop();
      await Promise.all([
        new Promise<void>((resolve) => {
          https.close(() => resolve());
          https.closeIdleConnections();
        }),
        health?.close(),
      ]);
    },
  };
}
