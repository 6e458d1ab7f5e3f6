import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { renderKubeconfig } from './kubeconfig.js';

describe('renderKubeconfig', () => {
  const user = { name: 'admin', certPem: 'CERT', keyPem: 'KEY' };

  it('loads in client-node with the server, CA and client certificate', () => {
    const kc = new KubeConfig();
    kc.loadFromString(renderKubeconfig('https://127.0.0.1:6443', 'CA', user));
    expect(kc.getCurrentCluster()).toMatchObject({
      server: 'https://127.0.0.1:6443',
      caData: Buffer.from('CA').toString('base64'),
    });
    expect(kc.getCurrentUser()).toMatchObject({ name: 'admin', certData: Buffer.from('CERT').toString('base64') });
  });

  it('impersonates a user (a chart ServiceAccount) when asked', () => {
    const text = renderKubeconfig('https://127.0.0.1:6443', 'CA', user, 'system:serviceaccount:ns:operator');
    expect(text).toContain('as: system:serviceaccount:ns:operator');
    expect(renderKubeconfig('https://127.0.0.1:6443', 'CA', user)).not.toContain('as:');
  });
});
