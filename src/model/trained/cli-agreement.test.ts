/**
 * @jest-environment ./test/helpers/ort-jest-environment.mjs
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli } from '../../../test/helpers/cli.js';
import type { EvalReport } from '../../eval/report.js';
import { SAMPLE_BAG } from '../../eval/sample.js';
import { ACTIAL_SYSTEM_PROMPT, VIEWPOINT_QUESTION_KINDS } from '../../spatial/prompts.js';
import { HELD_OUT_SEED_START } from '../../synth/version.js';
import { bundledModelDir } from '../bundled.js';
import { Engine } from '../engine.js';
import { accuracy, answerPairs, renderPairs } from './evaluate.js';

/**
 * The accuracy the viewpoint tests measure through the engine is the accuracy users get from the
 * commands: `actial viewpoint` gives the same answers pair by pair, and `actial eval` on a held-out
 * synthetic bag reports the same accuracy as the direct check on the same pairs.
 */

let dir: string;
let engine: Engine;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'actial-trained-cli-'));
  engine = await Engine.create({ modelDir: bundledModelDir() });
});

afterAll(async () => {
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

interface CliEstimate {
  readonly egoTranslation: string;
  readonly objectTranslation: string;
  readonly yawRotation: string;
}

it('actial viewpoint (bundled model, defaults) answers held-out pairs exactly as the direct check does', async () => {
  const pairs = renderPairs(HELD_OUT_SEED_START + 23, 4);
  // Its defaults: plain format, 3 option orders, both directions (the node's default too).
  const direct = await answerPairs(engine, pairs, { bothDirections: true });
  for (const [i, pair] of pairs.entries()) {
    const files = await Promise.all(
      pair.images.map(async (image, k) => {
        const file = join(dir, `${i}_${k + 1}.png`);
        await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
          .png()
          .toFile(file);
        return file;
      }),
    );
    const result = await runCli(['viewpoint', '--image', ...files, '--json']);
    expect(result.stderr).not.toMatch(/^actial: /m);
    expect(result.code).toBe(0);
    const estimate = JSON.parse(result.stdout) as CliEstimate;
    expect({
      egoTranslation: estimate.egoTranslation,
      objectTranslation: estimate.objectTranslation,
      yawRotation: estimate.yawRotation,
    }).toEqual(direct[i]?.estimate);
  }
});

it('actial eval on the held-out sample bag reports the accuracy of the direct check on its pairs', async () => {
  const result = await runCli(['eval', '--out', join(dir, 'eval'), '--no-progress']);
  expect(result.stderr).not.toMatch(/^actial: /m);
  expect(result.code).toBe(0);
  const report = JSON.parse(await readFile(join(dir, 'eval', 'report.json'), 'utf8')) as EvalReport;
  expect(report.model.source).toBe('bundled');
  expect(report.pairs).toHaveLength(SAMPLE_BAG.count);

  // config/sample.yaml: Actial format, both directions, 3 option orders, images as they are.
  const pairs = renderPairs(SAMPLE_BAG.seed, SAMPLE_BAG.count, 0, SAMPLE_BAG.size);
  const direct = await answerPairs(engine, pairs, {
    system: ACTIAL_SYSTEM_PROMPT,
    answerPrefix: '<answer>',
    bothDirections: true,
    maxPixels: SAMPLE_BAG.size * SAMPLE_BAG.size,
  });
  const expected = accuracy(pairs, direct, 'estimate');
  for (const kind of VIEWPOINT_QUESTION_KINDS) {
    expect(report.accuracy[kind].accuracy).toBeCloseTo(expected[kind], 9);
  }
});
