import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
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

/** The admission app: POST /mutate (tests call it without TLS). */
export function createWebhookApp(options: InjectOptions, metrics: WebhookMetrics, logger: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  app.post(
    '/mutate',
    (req: Request, _res: Response, next: NextFunction) => {
      (req as Request & { startedAt?: bigint }).startedAt = process.hrtime.bigint();
      next();
    },
    express.json({ limit: MAX_REVIEW_BYTES, type: () => true }),
    (req: Request, res: Response) => {
      const result = admit(req.body, options);
      metrics.requests.inc({ result: result.outcome });
      if (result.injected) metrics.injected.inc(result.injected);
      const started = (req as Request & { startedAt?: bigint }).startedAt ?? process.hrtime.bigint();
      metrics.duration.observe({ result: result.outcome }, Number(process.hrtime.bigint() - started) / 1e9);
      if (result.outcome === 'error') {
        logger.warn({ err: result.detail }, 'admitted a pod unchanged after an internal error');
      } else if (result.outcome === 'invalid') {
        logger.info({ detail: result.detail }, 'refused a malformed AdmissionReview');
      }
      res.status(result.httpStatus).json(result.body);
    },
  );
  // Unreadable JSON or an oversized body: 400 with a clear message (never a stack trace).
  app.use(
    (err: { status?: number; type?: string; message?: string }, _req: Request, res: Response, _next: NextFunction) => {
      metrics.requests.inc({ result: 'invalid' });
      const status = err.status === 413 ? 413 : 400;
      const message =
        status === 413
          ? `the AdmissionReview is larger than ${MAX_REVIEW_BYTES} bytes`
          : `the body is not valid JSON: ${err.message ?? 'unreadable'}`;
      res.status(status).json({ error: status === 413 ? 'PayloadTooLarge' : 'BadRequest', message });
    },
  );
  return app;
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
  const app = createWebhookApp(options.inject, metrics, options.logger);
  let current: ServingCertificate | undefined;
  let https: HttpsServer | undefined;
  let firstCertificate: () => void = () => undefined;
  const haveCertificate = new Promise<void>((resolve) => (firstCertificate = resolve));

  await options.certificates.start((certificate) => {
    current = certificate;
    if (https) https.setSecureContext({ cert: certificate.certPem, key: certificate.keyPem });
    firstCertificate();
  });

  const health = options.healthPort === undefined ? undefined : await listenHealth(options.healthPort);
  async function listenHealth(port: number): Promise<HttpServer> {
    const server = createHttpServer((req, res) => {
      if (req.url === '/healthz') return void res.writeHead(200).end('ok');
      if (req.url === '/readyz') {
        const ready = current !== undefined && current.notAfter > new Date() && https?.listening === true;
        return void res.writeHead(ready ? 200 : 503).end(ready ? 'ok' : 'no valid certificate served yet');
      }
      if (req.url === '/metrics') {
        return void metrics.registry
          .metrics()
          .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text));
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(port, options.host ?? '0.0.0.0', resolve));
    return server;
  }

  await haveCertificate;
  const certificate = current as ServingCertificate | undefined;
  https = createHttpsServer({ cert: certificate?.certPem, key: certificate?.keyPem }, app);
  https.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => https?.listen(options.port, options.host ?? '0.0.0.0', resolve));
  const address = https.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  const healthAddress = health?.address() as AddressInfo | undefined;
  return {
    url: `https://${host}:${address.port}`,
    healthUrl: healthAddress ? `http://${host}:${healthAddress.port}` : undefined,
    metrics,
    current: () => current,
    async stop() {
      options.certificates.stop();
      await Promise.all(
        [https, health].map(
          (server) =>
            server &&
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeIdleConnections();
            }),
        ),
      );
    },
  };
}
