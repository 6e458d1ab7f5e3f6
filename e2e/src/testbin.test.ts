import { describe, expect, it } from 'vitest';
import { readVersions } from './testbin.js';

describe('versions.env', () => {
  it('pins every test binary to an exact version', () => {
    const versions = readVersions();
    expect(Object.keys(versions).sort()).toEqual([
      'ACTIONLINT_VERSION',
      'CHART_TESTING_VERSION',
      'COREDNS_VERSION',
      'ETCD_VERSION',
      'HELM_VERSION',
      'KIND_VERSION',
      'KUBERNETES_VERSION',
      'KUBE_SCORE_VERSION',
      'OPA_VERSION',
    ]);
    for (const value of Object.values(versions)) expect(value).toMatch(/^v\d+\.\d+\.\d+$/);
  });
});
