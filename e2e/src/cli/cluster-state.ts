import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ClusterState } from '../cluster.js';

export function clusterDirFromArgs(): string {
  const { values } = parseArgs({ options: { dir: { type: 'string' } } });
  if (!values.dir) {
    console.error('usage: --dir DIR (the directory that holds the cluster; `make cluster-up` passes it)');
    process.exit(2);
  }
  return values.dir;
}

export function readClusterState(dir: string): ClusterState | undefined {
  const path = join(dir, 'cluster.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as ClusterState) : undefined;
}

export { isAlive } from '../managed-process.js';
