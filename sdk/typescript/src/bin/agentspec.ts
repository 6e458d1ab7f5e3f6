#!/usr/bin/env node
import { runCli } from '../cli/agentspec.js';

process.exitCode = runCli(process.argv.slice(2));
