import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

export interface KubeconfigUser {
  name: string;
  certPem: string;
  keyPem: string;
}

/** A kubeconfig with embedded credentials for one cluster and one client-certificate user. */
export function renderKubeconfig(server: string, caPem: string, user: KubeconfigUser, impersonate?: string): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'agentspec-test', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [
      {
        name: user.name,
        user: {
          'client-certificate-data': b64(user.certPem),
          'client-key-data': b64(user.keyPem),
          ...(impersonate ? { as: impersonate } : {}),
        },
      },
    ],
    contexts: [{ name: 'agentspec-test', context: { cluster: 'agentspec-test', user: user.name } }],
    'current-context': 'agentspec-test',
  });
}

/** A copy of `basePath` (written to `outPath`) whose user impersonates `user`, e.g. a chart's ServiceAccount. */
export function writeImpersonatingKubeconfig(basePath: string, user: string, outPath: string): string {
  const config = parse(readFileSync(basePath, 'utf8')) as { users: { user: Record<string, unknown> }[] };
  for (const entry of config.users) entry.user['as'] = user;
  writeFileSync(outPath, stringify(config), { mode: 0o600 });
  return outPath;
}
