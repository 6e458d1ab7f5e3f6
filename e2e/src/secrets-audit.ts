import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl } from './crds.js';

/** A JWT anywhere in text: three base64url parts, the first two JSON objects. */
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g;

export interface SecretsAuditOptions {
  kubeconfigPath: string;
  /** The values that must appear nowhere: admin key, JWT secret, issued tokens. */
  secrets: Record<string, string>;
  /** Log files, or directories searched for `*.log` files. */
  logs: string[];
  /** Recorded HTTP response bodies. */
  responses: string[];
  /** Secrets that hold a key by design: `namespace/name` pairs are not searched (any namespace when no `/`). */
  keyHolders: string[];
}

export interface SecretsAuditResult {
  scanned: { objects: number; logFiles: number; logBytes: number; responses: number };
  /** Where something was found: `what` (the secret's name or "a JWT") and `where`. */
  findings: { what: string; where: string }[];
}

function logFiles(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (path: string): void => {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isFile()) out.push(path);
    else if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) {
        const child = join(path, entry);
        if (statSync(child, { throwIfNoEntry: false })?.isDirectory() || entry.endsWith('.log')) walk(child);
      }
    }
  };
  paths.forEach(walk);
  return out;
}

interface StoredObject {
  kind?: string;
  type?: string;
  metadata?: { name?: string; namespace?: string };
}

/**
 * Scans every object the apiserver stores (every listable resource, every namespace), every log line of the
 * components and every recorded response for the given secrets (verbatim and base64-encoded, as Secrets and
 * ConfigMaps would carry them) and for JWTs. Secrets that hold a key by design and ServiceAccount token Secrets are
 * left out.
 */
export async function auditSecrets(options: SecretsAuditOptions): Promise<SecretsAuditResult> {
  const needles = Object.entries(options.secrets)
    .filter(([, value]) => value.length >= 8)
    .flatMap(([name, value]) => [
      { name, value },
      { name: `${name} (base64)`, value: Buffer.from(value).toString('base64') },
    ]);
  const findings: SecretsAuditResult['findings'] = [];
  const scan = (text: string, where: string, jwts = true): void => {
    for (const { name, value } of needles) if (text.includes(value)) findings.push({ what: name, where });
    if (jwts && JWT.test(text)) findings.push({ what: 'a JWT', where });
    JWT.lastIndex = 0;
  };

  const resources = (await kubectl(options.kubeconfigPath, ['api-resources', '--verbs=list', '-o', 'name']))
    .split('\n')
    .filter(Boolean);
  const list = JSON.parse(
    await kubectl(options.kubeconfigPath, ['get', resources.join(','), '--all-namespaces', '-o', 'json']),
  ) as { items: StoredObject[] };
  const holds = (o: StoredObject): boolean =>
    o.kind === 'Secret' &&
    (o.type === 'kubernetes.io/service-account-token' ||
      options.keyHolders.some((h) =>
        h.includes('/') ? h === `${o.metadata?.namespace}/${o.metadata?.name}` : h === o.metadata?.name,
      ));
  for (const object of list.items) {
    if (holds(object)) continue;
    const where = `${object.kind} ${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
    // Secret data is what Secrets are for: only keys and tokens of ours are looked for there, not any JWT.
    scan(JSON.stringify(object), where, object.kind !== 'Secret');
  }

  const files = logFiles(options.logs);
  let logBytes = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    logBytes += text.length;
    scan(text, `log ${file}`);
  }
  options.responses.forEach((body, i) => scan(body, `response #${i + 1}`));
  return {
    scanned: { objects: list.items.length, logFiles: files.length, logBytes, responses: options.responses.length },
    findings,
  };
}
