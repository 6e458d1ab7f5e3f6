// The harness itself, on the real binaries: bounded failure, component restarts, clean stop, cluster-up/down.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { startTestCluster } from './cluster.js';
import { httpGet } from './http-probe.js';
import { ComponentError, isAlive } from './managed-process.js';

const run = promisify(execFile);

describe('startTestCluster', () => {
  it('fails within its bound with the log tail of the component that did not become ready, leaving nothing running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentspec-bounded-'));
    const error = await startTestCluster({ dir, readyTimeoutMs: 1, controllerManager: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComponentError);
    expect((error as ComponentError).component).toBe('etcd');
    expect((error as ComponentError).message).toMatch(/not healthy after 1 ms[\s\S]*last lines of the etcd log/);
  });

  it('restarts the apiserver with its data and stops every process on stop()', async () => {
    const cluster = await startTestCluster({ controllerManager: false });
    const pids = Object.values(cluster.pids);
    try {
      const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
      await core.createNamespace({ body: { metadata: { name: 'survives-restart' } } });

      await cluster.stopComponent('kube-apiserver');
      await expect(httpGet(`${cluster.server}/readyz`, { insecure: true }, 1_000)).rejects.toThrow();
      expect(cluster.pids['kube-apiserver']).toBeUndefined();

      await cluster.startComponent('kube-apiserver');
      const ns = await core.readNamespace({ name: 'survives-restart' });
      expect(ns.metadata?.name).toBe('survives-restart');
    } finally {
      await cluster.stop();
    }
    expect(pids.length).toBe(2);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(existsSync(cluster.dir)).toBe(false);
  });
});

describe('make cluster-up / cluster-down', () => {
  const cli = (name: string): string => join(import.meta.dirname, '..', 'dist', 'cli', `${name}.js`);

  it('starts a cluster that outlives the command, prints its KUBECONFIG, and stops it again', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'agentspec-cluster-up-')), 'cluster');
    const up = await run(process.execPath, [cli('cluster-up'), '--dir', dir]);
    const kubeconfigPath = /^export KUBECONFIG=(.+)$/m.exec(up.stdout)?.[1];
    expect(kubeconfigPath).toBe(join(dir, 'kubeconfig'));
    try {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath ?? '');
      const list = await kc.makeApiClient(CoreV1Api).listNamespace();
      expect(list.items.map((n) => n.metadata?.name)).toContain('kube-system');

      const again = await run(process.execPath, [cli('cluster-up'), '--dir', dir]);
      expect(again.stdout).toContain('already running');
    } finally {
      const down = await run(process.execPath, [cli('cluster-down'), '--dir', dir]);
      expect(down.stdout).toContain('test cluster stopped');
    }
    expect(existsSync(dir)).toBe(false);
  });
});
