import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request, type RequestOptions } from 'node:https';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/**
 * Hosted mode (seed 003): the control plane calls into an agent's public HTTPS surface — its agent card at
 * registration, its health report when probed. Every such call is a request the *client* chose the target of, so
 * it follows the rules of docs/adr/0009-hosted-mode-ssrf.md: https only, no credentials in the URL, every address
 * the name resolves to must be public unicast (or inside an allowed network), the connection goes to the address
 * that was checked (no second resolution to rebind), redirects only within the same origin (at most 3), a
 * deadline for the whole exchange and a cap on the body.
 */

export type HostedFailure = 'scheme' | 'address' | 'unreachable' | 'timeout' | 'too-large' | 'redirect' | 'status';

export class HostedCallError extends Error {
  constructor(
    readonly reason: HostedFailure,
    message: string,
  ) {
    super(message);
    this.name = 'HostedCallError';
  }
}

export interface HostedCallOptions {
  /** Networks (CIDR) whose non-public addresses may be called anyway: an in-cluster ingress, a test server. */
  allowedNetworks: readonly string[];
  /** PEM certificates trusted in addition to the system roots (a private CA in front of the agents). */
  extraCa?: string | undefined;
  /** Deadline for one call: resolution, connection, TLS, redirects and body. */
  timeoutMs: number;
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** The setting's CIDRs, parsed; throws naming the first bad one. */
export function parseNetworks(list: readonly string[]): Cidr[] {
  return list.map((text) => {
    try {
      if (text.includes('/')) return ipaddr.parseCIDR(text);
      const ip = ipaddr.parse(text);
      return [ip, ip.kind() === 'ipv4' ? 32 : 128];
    } catch {
      throw new Error(`${text} is not a network such as 10.0.0.0/8 or fd00::/8`);
    }
  });
}

/** Whether the control plane may connect to this address: public unicast, or inside an allowed network. */
export function addressAllowed(address: string, allowed: readonly Cidr[]): boolean {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process() turns IPv4-mapped IPv6 (::ffff:10.0.0.1) into the IPv4 address it is.
    ip = ipaddr.process(address);
  } catch {
    return false;
  }
  if (ip.range() === 'unicast') return true;
  return allowed.some(([network, bits]) => network.kind() === ip.kind() && ip.match(network, bits));
}

/** Validates a hosted agent's publicUrl; the message names what is wrong (the caller names the field). */
export function checkPublicUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new HostedCallError('scheme', 'not an absolute URL');
  }
  if (url.protocol !== 'https:') {
    throw new HostedCallError(
      'scheme',
      `must be https:// (the control plane does not call ${url.protocol}// endpoints)`,
    );
  }
  if (url.username || url.password) throw new HostedCallError('scheme', 'must not carry credentials');
  if (url.search || url.hash) throw new HostedCallError('scheme', 'must not have a query or fragment');
  return url;
}

/** `{publicUrl}/{path}` with one slash between them. */
export function hostedUrl(publicUrl: string, path: string): URL {
  const base = publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`;
  return new URL(path.replace(/^\/+/, ''), base);
}

/** Seed 003: a hosted agent publishes its card here. */
export const AGENT_CARD_PATH = '.well-known/agent-card.json';
/** The health report a probe of a hosted instance fetches. */
export const HEALTH_PATH = 'agentspec/health';

/** The card a hosted instance must publish to be admitted (A2A's AgentCard; only what we rely on is required). */
export const agentCardSchema = z.looseObject({
  name: z.string().min(1).max(253),
  url: z.string().max(2048).optional(),
  version: z.string().max(253).optional(),
  description: z.string().optional(),
});

export interface HostedResponse {
  status: number;
  body: unknown;
}

/** Calls hosted agents under the SSRF rules. */
export class HostedCaller {
  private readonly allowed: Cidr[];
  private readonly ca: string[] | undefined;

  constructor(private readonly options: HostedCallOptions) {
    this.allowed = parseNetworks(options.allowedNetworks);
    this.ca = options.extraCa ? [...rootCertificates, options.extraCa] : undefined;
  }

  /** GET a JSON document of at most maxBytes; any status is returned (the caller judges it). */
  async getJson(url: URL, maxBytes: number, timeoutMs = this.options.timeoutMs): Promise<HostedResponse> {
    const signal = AbortSignal.timeout(timeoutMs);
    const origin = url.origin;
    let current = url;
    for (let redirects = 0; ; redirects++) {
      const answer = await this.once(current, maxBytes, signal, timeoutMs);
      if (answer.location === undefined) return parseJson(answer);
      if (redirects === 3) throw new HostedCallError('redirect', 'more than 3 redirects');
      const next = new URL(answer.location, current);
      if (next.origin !== origin) {
        throw new HostedCallError('redirect', `redirects to another origin (${next.origin}) are not followed`);
      }
      current = next;
    }
  }

  /** The address to connect to: every address of the name must be allowed (one bad record refuses the name). */
  private async resolve(hostname: string, signal: AbortSignal): Promise<{ address: string; family: number }> {
    if (signal.aborted) throw new HostedCallError('timeout', `no time left to resolve ${hostname}`);
    const bare = hostname.replace(/^\[|\]$/g, '');
    const addresses: LookupAddress[] = isIP(bare)
      ? [{ address: bare, family: isIP(bare) }]
      : await new Promise((resolve, reject) => {
          const abort = () => reject(new HostedCallError('timeout', `resolving ${hostname} took too long`));
          signal.addEventListener('abort', abort, { once: true });
          dnsLookup(hostname, { all: true }, (err, found) => {
            signal.removeEventListener('abort', abort);
            if (err)
              reject(new HostedCallError('unreachable', `${hostname} does not resolve (${err.code ?? 'error'})`));
            else resolve(found);
          });
        });
    const refused = addresses.find((a) => !addressAllowed(a.address, this.allowed));
    if (refused || addresses.length === 0) {
      throw new HostedCallError(
        'address',
        `${hostname} resolves to ${refused?.address ?? 'nothing'}, a private or reserved address ` +
          '(allow its network with AGENTSPEC_HOSTED_ALLOWED_NETWORKS)',
      );
    }
    return addresses[0]!;
  }

  private async once(
    url: URL,
    maxBytes: number,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<{ status: number; body: Buffer; location?: string }> {
    const target = await this.resolve(url.hostname, signal);
    const options: RequestOptions = {
      method: 'GET',
      signal,
      agent: false,
      headers: { accept: 'application/json', 'user-agent': 'agentspec-control-plane' },
      // Connect to the address that was checked, whatever the resolver would say now.
      lookup: (_host, opts, callback) => {
        const cb = callback as unknown as (...args: unknown[]) => void;
        if ((opts as { all?: boolean }).all) cb(null, [target]);
        else cb(null, target.address, target.family);
      },
      ...(this.ca ? { ca: this.ca } : {}),
    };
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => {
        if (err instanceof HostedCallError) return reject(err);
        if (signal.aborted) {
          return reject(new HostedCallError('timeout', `${url.host} did not answer within ${timeoutMs} ms`));
        }
        const code = (err as NodeJS.ErrnoException).code;
        reject(new HostedCallError('unreachable', `${url.host}: ${code ?? err.message}`));
      };
      const req = request(url, options, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          return resolve({ status, body: Buffer.alloc(0), location: res.headers.location });
        }
        const declared = Number(res.headers['content-length']);
        if (declared > maxBytes) {
          res.destroy();
          return reject(new HostedCallError('too-large', `the answer is larger than ${maxBytes} bytes`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            res.destroy();
            reject(new HostedCallError('too-large', `the answer is larger than ${maxBytes} bytes`));
          } else chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
      });
      req.on('error', fail);
      req.end();
    });
  }
}

function parseJson(answer: { status: number; body: Buffer }): HostedResponse {
  try {
    return { status: answer.status, body: JSON.parse(answer.body.toString('utf8')) as unknown };
  } catch {
    return { status: answer.status, body: undefined };
  }
}
