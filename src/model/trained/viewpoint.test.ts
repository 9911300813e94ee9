/**
 * @jest-environment ./test/helpers/ort-jest-environment.mjs
 */
import type { ModelImage } from '../../image/types.js';
import { ACTIAL_SYSTEM_PROMPT } from '../../spatial/prompts.js';
import { HELD_OUT_SEED_START } from '../../synth/version.js';
import { bundledModelDir } from '../bundled.js';
import { Engine } from '../engine.js';
import {
  accuracy,
  accuracyByMotion,
  answerPairs,
  meanAccuracy,
  mirroredRate,
  renderPairs,
  type LabelledPair,
  type PairAnswers,
} from './evaluate.js';

/**
 * The bundled model on held-out synthetic pairs, through the engine and the spatial layer's
 * estimateViewpoint (3 option orders averaged, source->target only so that the swap test is not
 * answered by construction). Accuracy, swap flips and mirror flips are held at the 90%
 * target; on 540 other held-out pairs (main README, bundled-model section) the swap flips are
 * 0.907 / 0.913 / 0.939 and the mirror flips 0.920 / 0.922 / 0.930.
 */
const SEED = HELD_OUT_SEED_START + 17;
const PAIRS = 72;

/**
 * Measured on these 72 pairs with `npx tsx tools/train/evaluate.ts --seed 1000017 --count 72`:
 * accuracy 0.917 / 0.917 / 0.944; Actial format mean 0.940; swap flips 0.903 / 0.931; mirror flips
 * 0.903 / 0.944 (camera translation / rotation); chance is 1/3.
 */
const TARGET = 0.9;
const MIN_ACCURACY = { egoTranslation: TARGET, objectTranslation: TARGET, yawRotation: TARGET };
const MIN_ACTIAL_MEAN = TARGET;
const MIN_SWAP_FLIPS = { egoTranslation: TARGET, yawRotation: TARGET };
const MIN_MIRROR_FLIPS = { egoTranslation: TARGET, yawRotation: TARGET };
/**
 * The 48 of these pairs that turn, slide, pan and slide, tilt or stay reach 0.958 / 0.958 / 1.000;
 * the 24 orbits (20-100 degrees around the object, two options right or wrong) 0.833 / 0.833 /
 * 0.833, where the model three versions back was at chance (0.46 / 0.54 / 0.50). The tools/train
 * README's "Where it fails" says why orbits are the hard part.
 */
const MIN_SHORT_BASELINE = { egoTranslation: 0.9, objectTranslation: 0.9, yawRotation: 0.95 };
const MIN_ORBIT = { egoTranslation: 0.8, objectTranslation: 0.8, yawRotation: 0.8 };
/** BGR taken for RGB costs this model little (measured: mean accuracy 0.935 with BGR input against 0.926): it reads shapes more than hues. */
const BGR_COST_BAND = [-0.1, 0.1] as const;

let engine: Engine;
let pairs: LabelledPair[];
let forward: PairAnswers[];

beforeAll(async () => {
  engine = await Engine.create({ modelDir: bundledModelDir() });
  pairs = renderPairs(SEED, PAIRS);
  forward = await answerPairs(engine, pairs);
});

afterAll(async () => {
  await engine?.dispose();
});

it('answers each of the three questions at the 90% target on held-out pairs', () => {
  const got = accuracy(pairs, forward);
  expect(got.egoTranslation).toBeGreaterThanOrEqual(MIN_ACCURACY.egoTranslation);
  expect(got.objectTranslation).toBeGreaterThanOrEqual(MIN_ACCURACY.objectTranslation);
  expect(got.yawRotation).toBeGreaterThanOrEqual(MIN_ACCURACY.yawRotation);
});

it('answers the short-baseline motions and the orbits, and reports each motion kind', () => {
  const shortBaseline = pairs.flatMap((pair, i) => (pair.motion === 'orbit' ? [] : [i]));
  expect(shortBaseline.length).toBeGreaterThanOrEqual(40);
  const got = accuracy(
    shortBaseline.map((i) => pairs[i] as LabelledPair),
    shortBaseline.map((i) => forward[i] as PairAnswers),
  );
  expect(got.egoTranslation).toBeGreaterThanOrEqual(MIN_SHORT_BASELINE.egoTranslation);
  expect(got.objectTranslation).toBeGreaterThanOrEqual(MIN_SHORT_BASELINE.objectTranslation);
  expect(got.yawRotation).toBeGreaterThanOrEqual(MIN_SHORT_BASELINE.yawRotation);
  const byMotion = accuracyByMotion(pairs, forward);
  process.stdout.write(`bundled model by motion: ${JSON.stringify(byMotion)}\n`);
  const orbit = byMotion.orbit;
  expect(orbit?.egoTranslation).toBeGreaterThanOrEqual(MIN_ORBIT.egoTranslation);
  expect(orbit?.objectTranslation).toBeGreaterThanOrEqual(MIN_ORBIT.objectTranslation);
  expect(orbit?.yawRotation).toBeGreaterThanOrEqual(MIN_ORBIT.yawRotation);
  const total = Object.values(byMotion).reduce((sum, kind) => sum + kind.pairs, 0);
  expect(total).toBe(PAIRS);
  expect(byMotion.orbit?.pairs).toBe(PAIRS - shortBaseline.length);
});

it('answers in the Actial format too (its system prompt, scored after <answer>)', async () => {
  const actial = await answerPairs(engine, pairs, { system: ACTIAL_SYSTEM_PROMPT, answerPrefix: '<answer>' });
  const got = accuracy(pairs, actial);
  expect(meanAccuracy(got)).toBeGreaterThanOrEqual(MIN_ACTIAL_MEAN);
});

it('mirrors its camera-perspective answers when the two images are swapped', async () => {
  const swapped = await answerPairs(engine, pairs, { swap: true });
  const rate = mirroredRate(forward, swapped);
  expect(rate.egoTranslation).toBeGreaterThanOrEqual(MIN_SWAP_FLIPS.egoTranslation);
  expect(rate.yawRotation).toBeGreaterThanOrEqual(MIN_SWAP_FLIPS.yawRotation);
});

it('mirrors left and right when both images are mirrored', async () => {
  const mirrored = await answerPairs(engine, pairs, { change: 'mirror' });
  const rate = mirroredRate(forward, mirrored);
  expect(rate.egoTranslation).toBeGreaterThanOrEqual(MIN_MIRROR_FLIPS.egoTranslation);
  expect(rate.yawRotation).toBeGreaterThanOrEqual(MIN_MIRROR_FLIPS.yawRotation);
});

it('shows what BGR bytes fed as RGB cost it', async () => {
  const bgr = await answerPairs(engine, pairs, { change: 'bgr' });
  const cost = meanAccuracy(accuracy(pairs, forward)) - meanAccuracy(accuracy(pairs, bgr));
  process.stdout.write(`bundled model: BGR fed as RGB changes the mean accuracy by ${(-cost).toFixed(3)}\n`);
  expect(cost).toBeGreaterThanOrEqual(BGR_COST_BAND[0]);
  expect(cost).toBeLessThanOrEqual(BGR_COST_BAND[1]);
});

it('needs the patches of each 2x2 merge window in the right order', async () => {
  // Reverse the 4 rows of every merge window (a wrong merge order in preprocessing).
  const scrambled = await answerPairs(engine, pairs, { transformModelImage: reverseMergeWindows });
  expect(meanAccuracy(accuracy(pairs, scrambled))).toBeLessThan(meanAccuracy(accuracy(pairs, forward)));
});

function reverseMergeWindows(image: ModelImage): ModelImage {
  const row = 1176;
  const out = new Float32Array(image.pixelValues.length);
  for (let p = 0; p < image.pixelValues.length / row; p++) {
    const target = p - (p % 4) + (3 - (p % 4));
    out.set(image.pixelValues.subarray(p * row, (p + 1) * row), target * row);
  }
  return { ...image, pixelValues: out };
}
