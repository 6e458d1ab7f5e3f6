// The baseline of bench/webhook: a no-op HTTPS handler that reads and parses each AdmissionReview and admits it
// unchanged. TLS_CERT / TLS_KEY are PEM file paths.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

const server = createServer(
  { cert: readFileSync(String(process.env['TLS_CERT'])), key: readFileSync(String(process.env['TLS_KEY'])) },
  (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request: { uid: string } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: { uid: review.request.uid, allowed: true },
        }),
      );
    });
  },
);
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env['PORT']), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
