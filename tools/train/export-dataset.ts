/**
 * Renders a training set for the tiny viewpoint model (see tools/train/README.md).
 * Usage: npx tsx tools/train/export-dataset.ts --seed 7 --start 0 --count 6000 --out tools/train/data/seed7-a
 */
import { parseArgs } from 'node:util';
import { writeTrainingSet } from '../../src/model/trained/dataset.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    start: { type: 'string', default: '0' },
    count: { type: 'string' },
    out: { type: 'string' },
    size: { type: 'string', default: '224' },
    'held-out': { type: 'boolean', default: false },
    'labels-only': { type: 'boolean', default: false },
  },
});
if (!values.seed || !values.count || !values.out) {
  process.stderr.write('usage: export-dataset.ts --seed S [--start I] --count N --out DIR [--held-out]\n');
  process.exit(2);
}
let last = 0;
const summary = await writeTrainingSet({
  outDir: values.out,
  seed: Number(values.seed),
  start: Number(values.start),
  count: Number(values.count),
  size: Number(values.size),
  allowHeldOut: values['held-out'],
  labelsOnly: values['labels-only'],
  onProgress: (done, total) => {
    if (done === total || performance.now() - last > 10_000) {
      last = performance.now();
      process.stderr.write(`export: ${done}/${total}\n`);
    }
  },
});
process.stderr.write(
  `export: wrote ${summary.count} pairs (${(summary.bytes / 1e6).toFixed(1)} MB) to ${summary.outDir} in ${summary.seconds.toFixed(0)} s\n`,
);
