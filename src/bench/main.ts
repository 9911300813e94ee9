#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { meetsTarget, type Figure } from './figure.js';
import { suites } from './suites.js';

const program = new Command('bench')
  .description('Measure the figures listed in BENCHMARKS.md, side by side with their peers')
  .option('--json', 'print a JSON array of figures on stdout')
  .option('--quick', 'fewer iterations (CI smoke run, under a minute)')
  .option('--only <prefix>', 'run only suites whose name starts with this')
  .option(
    '--prepare-threads <n>',
    "image.prepare_threads of the e2e replay (default: the node's default)",
    (value) => {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`not an integer >= 0: ${value}`);
      return n;
    },
  )
  .parse();
const opts = program.opts<{ json?: boolean; quick?: boolean; only?: string; prepareThreads?: number }>();

const figures: Figure[] = [];
for (const suite of suites) {
  if (opts.only && !suite.name.startsWith(opts.only)) continue;
  process.stderr.write(`bench: ${suite.name}...\n`);
  figures.push(
    ...(await suite.run({
      quick: Boolean(opts.quick),
      ...(opts.prepareThreads === undefined ? {} : { prepareThreads: opts.prepareThreads }),
    })),
  );
}
if (opts.json) {
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
} else {
  for (const f of figures) {
    const target = f.target === null ? '' : ` (target ${f.better === 'higher' ? '>=' : '<='} ${f.target})`;
    const mark = meetsTarget(f) ? '' : '  MISSED';
    process.stdout.write(`${f.name}: ${Number(f.value.toPrecision(4))} ${f.unit}${target}${mark}\n`);
  }
}
