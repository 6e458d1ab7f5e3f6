import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cacheDir } from './testbin.js';

const root = resolve(import.meta.dirname, '..', '..');

/** The example Python agent (FastAPI + LangGraph with the Python SDK). */
export const PYTHON_AGENT_APP = join(root, 'examples', 'python-agent', 'app.py');

/**
 * The Python SDK's venv in the cache (`make python-sdk` builds it and installs the SDK's wheel): the interpreter the
 * tests run Python agents with. AGENTSPEC_PY_VENV (exported by the Makefile) or the same path computed here.
 */
export function pythonSdkVenv(): { dir: string; python: string } {
  const requirements = readFileSync(join(root, 'sdk', 'python', 'requirements-dev.txt'));
  const hash = createHash('sha256').update(requirements).digest('hex').slice(0, 12);
  const dir = process.env['AGENTSPEC_PY_VENV'] ?? join(cacheDir(), `pysdk-${hash}`);
  const python = join(dir, 'bin', 'python');
  if (!existsSync(join(dir, '.agentspec-wheel'))) {
    throw new Error(`the Python SDK is not installed in ${dir}: run \`make python-sdk\` (make test-int does)`);
  }
  return { dir, python };
}
