#!/usr/bin/env node
// agentspec-control-plane [serve] | migrate | --help
import { printedHelp, runCommand, settingsHelp } from '@agentspec/service-kit';
import { loadConfig, SETTINGS } from '../config.js';
import { migrateToLatest, openDatabase } from '../db/database.js';
import { startControlPlane } from '../server.js';

const USAGE = `usage: agentspec-control-plane [serve|migrate]

  serve     run the API (default): migrates the database, then listens on PORT
  migrate   apply pending database migrations and exit

${settingsHelp('registration, heartbeats and the fleet read API', 'agentspec-control-plane', SETTINGS)}`;

async function main(): Promise<number> {
  const command = process.argv[2] ?? 'serve';
  if (printedHelp(command === 'help' ? ['--help'] : [command], USAGE)) return 0;
  if (command !== 'serve' && command !== 'migrate') {
    process.stderr.write(`agentspec-control-plane: unknown command "${command}"\n\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig();
  if (command === 'migrate') {
    const database = await openDatabase(config);
    try {
      const applied = await migrateToLatest(database.db);
      process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'the database is up to date\n');
    } finally {
      await database.close();
    }
    return 0;
  }
  const running = await startControlPlane(config);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      const force = setTimeout(() => process.exit(1), 25_000);
      force.unref();
      void running.shutdown().then(resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}

runCommand('agentspec-control-plane', main, () => USAGE);
