import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';

type CreateDispatcher = (
  cluster: { name?: string; server?: string } | null,
  options: Record<string, unknown>,
) => unknown;

const TLS_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;
const MAX_DISPATCHERS = 16;
const pooled = new WeakSet<KubeConfig>();

/**
 * client-node 2.0 builds a new undici Agent — a new connection pool — for every API request, so each request opens
 * its own TLS connection to the apiserver: a handshake on both sides each time (bench/operator's CPU profile: TLS
 * setup was the operator's largest cost after waiting, and it takes the apiserver's CPU too). This keeps one per
 * cluster and TLS material, so requests reuse keep-alive connections as client-go's do. New credentials (a rotated
 * client certificate) get a new pool. Returns `kc`; a client-node without that method is left as it is.
 */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createDispatcher?: CreateDispatcher };
  const create = target.createDispatcher;
  if (typeof create !== 'function' || pooled.has(kc)) return kc;
  pooled.add(kc);
  const pools = new Map<string, unknown>();
  target.createDispatcher = (cluster, options) => {
    const material = TLS_OPTIONS.map((name) => {
      const value = options[name];
      return Buffer.isBuffer(value) ? value.toString('base64') : (value ?? null);
    });
    const key = createHash('sha256')
      .update(JSON.stringify([cluster?.name ?? null, cluster?.server ?? null, material]))
      .digest('hex');
    if (!pools.has(key)) {
      if (pools.size >= MAX_DISPATCHERS) pools.delete(pools.keys().next().value as string);
      pools.set(key, create.call(kc, cluster, options));
    }
    return pools.get(key);
  };
  return kc;
}
