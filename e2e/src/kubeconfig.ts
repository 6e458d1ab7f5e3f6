import { stringify } from 'yaml';

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
