/**
 * Scores a viewpoint model folder on held-out synthetic pairs through the engine (see README.md).
 * Usage: npx tsx tools/train/evaluate.ts [--model DIR] [--seed 1000000] [--count 180]
 */
import { parseArgs } from 'node:util';
import { ACTIAL_SYSTEM_PROMPT } from '../../src/spatial/prompts.js';
import { bundledModelDir } from '../../src/model/bundled.js';
import { Engine } from '../../src/model/engine.js';
import {
  accuracy,
  accuracyByMotion,
  answerPairs,
  meanAccuracy,
  mirroredRate,
  renderPairs,
} from '../../src/model/trained/evaluate.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    seed: { type: 'string', default: '1000000' },
    count: { type: 'string', default: '180' },
  },
});
const seed = Number(values.seed);
if (seed < 1_000_000) process.stderr.write(`warning: seed ${seed} is a training seed, not held out\n`);
const started = performance.now();
const pairs = renderPairs(seed, Number(values.count));
const engine = await Engine.create({ modelDir: values.model ?? bundledModelDir() });
try {
  const forward = await answerPairs(engine, pairs);
  const report = {
    model: values.model ?? bundledModelDir(),
    seed,
    pairs: pairs.length,
    accuracy: accuracy(pairs, forward),
    byMotion: accuracyByMotion(pairs, forward),
    estimateAccuracy: accuracy(pairs, forward, 'estimate'),
    bothDirections: accuracy(pairs, await answerPairs(engine, pairs, { bothDirections: true }), 'estimate'),
    actialFormat: accuracy(
      pairs,
      await answerPairs(engine, pairs, { system: ACTIAL_SYSTEM_PROMPT, answerPrefix: '<answer>' }),
    ),
    swapFlips: mirroredRate(forward, await answerPairs(engine, pairs, { swap: true })),
    mirrorFlips: mirroredRate(forward, await answerPairs(engine, pairs, { change: 'mirror' })),
    bgr: accuracy(pairs, await answerPairs(engine, pairs, { change: 'bgr' })),
    seconds: 0,
  };
  report.seconds = Math.round((performance.now() - started) / 1000);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(
    `mean accuracy ${meanAccuracy(report.accuracy).toFixed(3)}, with BGR input ${meanAccuracy(report.bgr).toFixed(3)}\n`,
  );
} finally {
  await engine.dispose();
}
