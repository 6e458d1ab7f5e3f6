#!/usr/bin/env node
// The `agentspec` command. Exit codes: 0 ok, 1 a check failed, 2 bad input (usage, unreadable or invalid file).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { runAudit } from '../audit/run-audit.js';
import { convertToAgentResource } from '../manifest/convert.js';
import { ManifestError } from '../manifest/errors.js';
import { loadManifest, type LoadedManifest } from '../manifest/load.js';

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

const USAGE = `usage: agentspec <command> [options]

commands:
  validate <agent.yaml>                    check the manifest against the schema
  audit <agent.yaml> [--json] [--fail-below N]
                                           compliance score, grade and violations
  convert <agent.yaml> [--namespace NS]    print the kind: Agent resource for an upstream kind: AgentSpec file

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

function validate(args: string[], io: CliIo): number {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const file = oneFile(positionals, 'validate');
  try {
    io.out(`ok: ${describe(loadManifest(file))} is valid`);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof ManifestError) {
      io.err(err.message);
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

const COMMANDS: Record<string, (args: string[], io: CliIo) => number> = { validate, audit, convert };

/** Runs the CLI and returns its exit code (tests call this; the bin calls process.exit with it). */
export function runCli(argv: string[], io: CliIo = processIo): number {
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      io.out(USAGE);
      return command ? EXIT_OK : EXIT_BAD_INPUT;
    }
    const run = COMMANDS[command];
    if (!run) throw new UsageError(`unknown command "${command}"`);
    return run(rest, io);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`agentspec: ${(err as Error).message}\n\n${USAGE}`);
    } else if (err instanceof ManifestError) {
      io.err(err.message);
    } else {
      io.err(`agentspec: ${(err as Error).message}`);
    }
    return EXIT_BAD_INPUT;
  }
}
