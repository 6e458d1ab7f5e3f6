#!/usr/bin/env node
// The `agentspec` command. Exit codes: 0 ok, 1 a check failed, 2 bad input (usage, unreadable or invalid file).
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { runAudit } from '../audit/run-audit.js';
import { manifestWarnings, type ManifestWarning } from '../manifest/warnings.js';
import { ControlPlaneClient, ControlPlaneError, RUNTIMES, type Runtime } from '../control-plane/client.js';
import { runHealthChecks } from '../health/checks.js';
import { generate as generateFiles } from './generate.js';
import { FRAMEWORKS, scaffold, ScaffoldConflictError, type Framework } from './scaffold.js';
import { summarize, type CheckCategory } from '../health/types.js';
import { convertToAgentResource } from '../manifest/convert.js';
import { ManifestError } from '../manifest/errors.js';
import { loadManifest, type LoadedManifest } from '../manifest/load.js';

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

const USAGE = `usage: agentspec <command> [options]

commands:
  validate <agent.yaml> [--json]           check the manifest against the schema
  audit <agent.yaml> [--json] [--fail-below N]
                                           compliance score, grade and violations
  health <agent.yaml> [--json] [--category env,model,service,memory,mcp]
                                           run the health checks from here (exit 1 when a check of severity error fails)
  register <agent.yaml> --control-plane URL [--namespace NS] [--instance-id ID] [--runtime local] [--out FILE]
                                           register with the control plane (admin key from AGENTSPEC_ADMIN_KEY)
                                           and write AGENTSPEC_URL/AGENTSPEC_KEY for push mode to .env.agentspec
  probe <namespace>/<name> --control-plane URL [--timeout SECONDS] [--json]
                                           each instance's live report now, through its connected-mode WebSocket
                                           (admin key from AGENTSPEC_ADMIN_KEY; exit 1 when an instance could not answer)
  convert <agent.yaml> [--namespace NS]    print the kind: Agent resource for an upstream kind: AgentSpec file
  generate <agent.yaml> [--framework express|fastapi|langgraph|crewai] [--deploy k8s|helm] [--output ./out]
           [--push] [--force] [--image IMG] [--sidecar-image IMG] [--namespace NS]
                                           --framework: a runnable agent (entry file wired to the SDK, dependencies);
                                           --deploy: manifests (out/k8s/) or a Helm chart (out/); --push: .env.agentspec

exit codes: 0 ok, 1 a check failed, 2 bad input`;

class UsageError extends Error {}

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

function oneFile(positionals: string[], command: string): string {
  if (positionals.length !== 1 || !positionals[0]) throw new UsageError(`${command} takes one agent.yaml`);
  return positionals[0];
}

function describe(loaded: LoadedManifest): string {
  return `${loaded.manifest.metadata.name} (kind ${loaded.kind}, version ${loaded.manifest.metadata.version})`;
}

/** Manifest warnings go to stderr: the file is valid, and scripts reading stdout see what they saw before. */
function printWarnings(warnings: readonly ManifestWarning[], io: CliIo): void {
  for (const w of warnings) io.err(`warning: ${w.field}: ${w.message}`);
}

function validate(args: string[], io: CliIo): number {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false } },
  });
  const file = oneFile(positionals, 'validate');
  try {
    const loaded = loadManifest(file);
    const warnings = manifestWarnings(loaded.manifest.spec);
    if (values.json) {
      const { name } = loaded.manifest.metadata;
      io.out(JSON.stringify({ valid: true, name, kind: loaded.kind, issues: [], warnings }));
    } else {
      io.out(`ok: ${describe(loaded)} is valid`);
      printWarnings(warnings, io);
    }
    return EXIT_OK;
  } catch (err) {
    if (err instanceof ManifestError) {
      if (values.json) io.out(JSON.stringify({ valid: false, issues: err.issues }));
      else io.err(err.message);
      return EXIT_CHECK_FAILED;
    }
    throw err;
  }
}

function audit(args: string[], io: CliIo): number {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, 'fail-below': { type: 'string' } },
  });
  const file = oneFile(positionals, 'audit');
  const failBelowText = values['fail-below'];
  const failBelow = failBelowText === undefined ? undefined : Number(failBelowText);
  if (failBelow !== undefined && (!Number.isInteger(failBelow) || failBelow < 0 || failBelow > 100)) {
    throw new UsageError(`--fail-below needs a whole number from 0 to 100, got "${failBelowText}"`);
  }
  const loaded = loadManifest(file);
  const result = runAudit(loaded.manifest);
  if (values.json) {
    io.out(JSON.stringify(result, null, 2));
  } else {
    io.out(
      `${describe(loaded)}: score ${result.score}/100, grade ${result.grade} (${result.rulesChecked} rules checked)`,
    );
    for (const pack of result.packs) {
      io.out(
        `  ${pack.pack.padEnd(20)} ${String(pack.score).padStart(3)}  ${pack.passed} passed, ${pack.failed} failed`,
      );
    }
    for (const v of result.violations) {
      io.out(`  [${v.severity}] ${v.ruleId} ${v.title}: ${v.message}\n      fix: ${v.remediation}`);
    }
    for (const s of result.suppressed) io.out(`  suppressed ${s.ruleId}: ${s.reason}`);
    printWarnings(result.warnings, io);
  }
  if (failBelow !== undefined && result.score < failBelow) {
    io.err(`score ${result.score} is below ${failBelow}`);
    return EXIT_CHECK_FAILED;
  }
  return EXIT_OK;
}

function convert(args: string[], io: CliIo): number {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { namespace: { type: 'string' } },
  });
  const file = oneFile(positionals, 'convert');
  let document: unknown;
  try {
    document = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ManifestError([{ path: '', message: (err as Error).message.split('\n')[0] ?? 'unreadable' }], file);
  }
  const resource = convertToAgentResource(document, values.namespace ? { namespace: values.namespace } : {});
  io.out(stringify(resource, { lineWidth: 0 }));
  return EXIT_OK;
}

const CATEGORIES: readonly CheckCategory[] = ['env', 'model', 'service', 'memory', 'mcp'];

async function health(args: string[], io: CliIo, env: NodeJS.ProcessEnv): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, category: { type: 'string' } },
  });
  const loaded = loadManifest(oneFile(positionals, 'health'));
  const categories = values.category ? values.category.split(',').map((c) => c.trim()) : [...CATEGORIES];
  const unknown = categories.filter((c) => !(CATEGORIES as readonly string[]).includes(c));
  if (unknown.length) throw new UsageError(`--category: unknown ${unknown.join(', ')} (use ${CATEGORIES.join(', ')})`);
  const checks = await runHealthChecks(loaded.manifest, {
    baseDir: loaded.baseDir,
    env,
    categories: categories as CheckCategory[],
  });
  const report = summarize(loaded.manifest.metadata.name, checks);
  if (values.json) {
    io.out(JSON.stringify(report, null, 2));
  } else {
    const { passed, failed, warnings, skipped } = report.summary;
    io.out(
      `${describe(loaded)}: ${report.status} (${passed} passed, ${failed} failed, ${warnings} warnings, ${skipped} skipped)`,
    );
    for (const c of report.checks) {
      const latency = c.latencyMs !== undefined ? ` ${c.latencyMs} ms` : '';
      io.out(`  ${c.status.padEnd(4)} ${c.id}${latency}${c.message ? ` — ${c.message}` : ''}`);
      if (c.status === 'fail' && c.remediation) io.out(`       fix: ${c.remediation}`);
    }
  }
  return report.summary.failed > 0 ? EXIT_CHECK_FAILED : EXIT_OK;
}

/** The control plane's URL (--control-plane or AGENTSPEC_CONTROL_PLANE_URL) and the admin key, or a usage error. */
function adminAccess(command: string, flag: string | undefined, env: NodeJS.ProcessEnv) {
  const controlPlane = flag ?? env['AGENTSPEC_CONTROL_PLANE_URL'];
  if (!controlPlane) throw new UsageError(`${command} needs --control-plane URL (or AGENTSPEC_CONTROL_PLANE_URL)`);
  const adminKey = env['AGENTSPEC_ADMIN_KEY'];
  if (!adminKey) throw new UsageError(`${command} needs the admin key in AGENTSPEC_ADMIN_KEY`);
  return { controlPlane, adminKey };
}

async function register(args: string[], io: CliIo, env: NodeJS.ProcessEnv): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'control-plane': { type: 'string' },
      namespace: { type: 'string' },
      'instance-id': { type: 'string' },
      runtime: { type: 'string', default: 'local' },
      out: { type: 'string', default: '.env.agentspec' },
    },
  });
  const loaded = loadManifest(oneFile(positionals, 'register'));
  const { controlPlane, adminKey } = adminAccess('register', values['control-plane'], env);
  if (!(RUNTIMES as readonly string[]).includes(values.runtime)) {
    throw new UsageError(`--runtime must be one of ${RUNTIMES.join(', ')}`);
  }
  const client = new ControlPlaneClient({ baseUrl: controlPlane, adminKey });
  const registration = await client.register({
    agentName: loaded.manifest.metadata.name,
    runtime: values.runtime as Runtime,
    instanceId: values['instance-id'] ?? hostname(),
    ...(values.namespace ? { namespace: values.namespace } : {}),
    manifest: loaded.manifest,
  });
  const url = `${controlPlane.replace(/\/+$/, '')}/api/v1/heartbeat`;
  writeFileSync(
    values.out,
    `# Written by agentspec register for ${loaded.manifest.metadata.name} (instance ${registration.instanceId}).\n` +
      `# Push mode reads these; the key expires at ${registration.expiresAt}.\n` +
      `AGENTSPEC_URL=${url}\nAGENTSPEC_KEY=${registration.apiKey}\n`,
    { mode: 0o600 },
  );
  io.out(
    `registered ${loaded.manifest.metadata.name} as instance ${registration.instanceId}; ` +
      `wrote AGENTSPEC_URL and AGENTSPEC_KEY to ${values.out}`,
  );
  return EXIT_OK;
}

async function probe(args: string[], io: CliIo, env: NodeJS.ProcessEnv): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'control-plane': { type: 'string' },
      timeout: { type: 'string', default: '5' },
      json: { type: 'boolean', default: false },
    },
  });
  const [target, ...extra] = positionals;
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/.exec(target ?? '');
  if (!match || extra.length) throw new UsageError('probe needs one <namespace>/<name>');
  const timeout = Number(values.timeout);
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 30)
    throw new UsageError('--timeout must be 1 to 30 seconds');
  const { controlPlane, adminKey } = adminAccess('probe', values['control-plane'], env);
  const result = await new ControlPlaneClient({ baseUrl: controlPlane, adminKey }).probe(
    match[1] ?? '',
    match[3] ?? '',
    timeout,
  );
  if (values.json) io.out(JSON.stringify(result, null, 2));
  else {
    for (const instance of result.instances) {
      if (instance.status !== 'ok') io.out(`${instance.instanceId}: ${instance.error}`);
      else {
        const report = instance.report as { health?: { status?: string }; gap?: { score?: number } } | undefined;
        io.out(
          `${instance.instanceId}: ok in ${instance.latencyMs} ms — health ${report?.health?.status ?? '?'}, score ${report?.gap?.score ?? '?'}`,
        );
      }
    }
    if (result.instances.length === 0) io.out(`${target}: no instances`);
  }
  return result.instances.every((i) => i.status === 'ok') ? EXIT_OK : EXIT_CHECK_FAILED;
}

function generate(args: string[], io: CliIo): number {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      deploy: { type: 'string' },
      framework: { type: 'string' },
      output: { type: 'string', default: './out' },
      push: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      image: { type: 'string' },
      'sidecar-image': { type: 'string' },
      namespace: { type: 'string' },
    },
  });
  const loaded = loadManifest(oneFile(positionals, 'generate'));
  const { deploy, framework } = values;
  if (deploy === undefined && framework === undefined) {
    throw new UsageError(`generate needs --framework ${FRAMEWORKS.join('|')} and/or --deploy k8s|helm`);
  }
  if (deploy !== undefined && deploy !== 'k8s' && deploy !== 'helm') {
    throw new UsageError(`--deploy: expected k8s or helm, got "${deploy}"`);
  }
  if (framework !== undefined && !(FRAMEWORKS as readonly string[]).includes(framework)) {
    throw new UsageError(`--framework: expected one of ${FRAMEWORKS.join(', ')}, got "${framework}"`);
  }
  const files: string[] = [];
  if (framework !== undefined) {
    try {
      files.push(
        ...scaffold(loaded, {
          framework: framework as Framework,
          output: values.output,
          push: values.push,
          force: values.force,
        }),
      );
    } catch (err) {
      if (err instanceof ScaffoldConflictError) throw new UsageError(err.message);
      throw err;
    }
  }
  if (deploy !== undefined) {
    files.push(
      ...generateFiles(loaded, {
        deploy,
        output: values.output,
        push: values.push && framework === undefined, // the scaffold wrote .env.agentspec
        ...(values.image ? { image: values.image } : {}),
        ...(values['sidecar-image'] ? { sidecarImage: values['sidecar-image'] } : {}),
        ...(values.namespace ? { namespace: values.namespace } : {}),
      }),
    );
  }
  for (const file of files) io.out(`wrote ${file}`);
  if (values.push) io.out(`fill in AGENTSPEC_URL and AGENTSPEC_KEY in ${join(values.output, '.env.agentspec')}`);
  return EXIT_OK;
}

type Command = (args: string[], io: CliIo, env: NodeJS.ProcessEnv) => number | Promise<number>;
const COMMANDS: Record<string, Command> = { validate, audit, convert, health, register, probe, generate };

/** Runs the CLI and resolves with its exit code (tests call this; the bin sets process.exitCode). */
export async function runCli(
  argv: string[],
  io: CliIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      io.out(USAGE);
      return command ? EXIT_OK : EXIT_BAD_INPUT;
    }
    const run = COMMANDS[command];
    if (!run) throw new UsageError(`unknown command "${command}"`);
    return await run(rest, io, env);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`agentspec: ${(err as Error).message}\n\n${USAGE}`);
    } else if (err instanceof ManifestError) {
      io.err(err.message);
    } else if (err instanceof ControlPlaneError) {
      io.err(`agentspec: ${err.message}`);
      return EXIT_CHECK_FAILED;
    } else {
      io.err(`agentspec: ${(err as Error).message}`);
    }
    return EXIT_BAD_INPUT;
  }
}
