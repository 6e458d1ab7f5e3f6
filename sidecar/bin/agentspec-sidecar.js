#!/usr/bin/env node
// The command's entry point. It is committed (unlike dist/) so that `npm ci` links it on a fresh clone; the code
// itself is compiled into dist/ by `make build`.
import('../dist/bin/sidecar.js').catch((err) => {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/bin/sidecar.js')) {
    console.error('agentspec-sidecar is not built yet: run `make build` in the repository first');
    process.exit(1);
  }
  throw err;
});
