import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface ProbeTls {
  ca?: string;
  cert?: string;
  key?: string;
  /** For components that serve a self-signed certificate we did not issue (kube-controller-manager). */
  insecure?: boolean;
}

/** GET `url` and resolve with status and body; rejects on connection errors or after `timeoutMs`. */
export async function httpGet(
  url: string,
  tls: ProbeTls = {},
  timeoutMs = 5_000,
): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const req =
      target.protocol === 'https:'
        ? httpsRequest(target, { ...tls, rejectUnauthorized: !tls.insecure, timeout: timeoutMs }, onResponse)
        : httpRequest(target, { timeout: timeoutMs }, onResponse);
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
