#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerConfigCommand } from './commands/config.js';
import { registerInfoCommand } from './commands/info.js';
import { registerLabelsCommand } from './commands/labels.js';
import { registerPairsCommand } from './commands/pairs.js';
import { registerEvalCommand } from './commands/eval.js';
import { registerTinyModelCommand } from './commands/tiny-model.js';
import { registerSynthCommand } from './commands/synth.js';
import { registerAskCommand } from './commands/ask.js';
import { registerViewpointCommand } from './commands/viewpoint.js';
import { CliError } from './output.js';

/** Builds the `actial` program; each subcommand lives in ./commands. */
export function buildProgram(): Command {
  const program = new Command('actial')
    .description(
      'Actial spatial reasoning for ROS 2: pairing, viewpoint estimation, questions, bag evaluation',
    )
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    // Before the subcommands are added, so that they inherit it: usage errors reach main().
    .exitOverride();
  registerEvalCommand(program);
  registerConfigCommand(program);
  registerInfoCommand(program);
  registerLabelsCommand(program);
  registerPairsCommand(program);
  registerTinyModelCommand(program);
  registerSynthCommand(program);
  registerAskCommand(program);
  registerViewpointCommand(program);
  return program;
}

async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander exits 1 for usage errors (unknown option, bad choice, missing value); ours are 2.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`actial: ${message}\n`);
    process.exitCode = error instanceof CliError ? error.exitCode : 1;
  }
}

await main();
