import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { testbinPaths } from './testbin.js';

const run = promisify(execFile);

/** The repository's crds/ directory. */
export const crdsDir = resolve(import.meta.dirname, '..', '..', 'crds');

/** Server-side applies every CRD in crds/ with the real kubectl and waits until each is Established. */
export async function installCrds(kubeconfigPath: string): Promise<void> {
  const { kubectl } = testbinPaths();
  const base = ['--kubeconfig', kubeconfigPath];
  await run(kubectl, [
    ...base,
    'apply',
    '--server-side',
    '--force-conflicts',
    '--field-manager=agentspec-tests',
    '-f',
    crdsDir,
  ]);
  await run(kubectl, [...base, 'wait', '--for=condition=Established', '--timeout=60s', '-f', crdsDir]);
}

/** Runs the test kubectl; resolves with stdout, or rejects with stderr in the message. */
export async function kubectl(kubeconfigPath: string, args: string[], input?: string): Promise<string> {
  const { kubectl: binary } = testbinPaths();
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      binary,
      ['--kubeconfig', kubeconfigPath, ...args],
      { maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`kubectl ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
        else resolvePromise(stdout);
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}
