import { mostLikelyLabel, averageProbs } from '../../spatial/direction.js';
import {
  defaultOptionOrders,
  labelProbsFromLetters,
  viewpointQuestion,
  type ViewpointQuestionKind,
} from '../../spatial/prompts.js';
import { HELD_OUT_SEED_START } from '../../synth/version.js';
import { bundledModelDir } from '../bundled.js';
import { Engine } from '../engine.js';
import { expandImagePlaceholders, mropePositions } from '../image-tokens.js';
import { softmax } from '../sampling.js';
import { renderPairs, toModelImage, truth, type LabelledPair } from './evaluate.js';

/**
 * The bundled model fuses the two views by their M-RoPE positions (tools/train/README.md), so
 * position ids that do not mean what Qwen2.5-VL's mean must cost it accuracy. Here the engine's
 * runner gets the same ids and image features twice: with M-RoPE positions (image tokens at their
 * (t, h, w) grid positions) and with plain sequential positions on all three rows, which is what a
 * text-only Qwen2 position scheme would give.
 */

const SEED = HELD_OUT_SEED_START + 17;
const PAIRS = 36;
const LAYOUT = { imageTokenId: 151655, spatialMergeSize: 2 };
const KINDS: readonly ViewpointQuestionKind[] = ['egoTranslation', 'yawRotation'];
/**
 * Measured on these pairs (ego translation and yaw questions): 0.944 with M-RoPE positions, 0.403
 * (near chance) with sequential ones, a cost of 0.541. The bounds sit about 10 points inside.
 */
const MIN_MROPE_ACCURACY = 0.84;
const MIN_COST = 0.44;

let engine: Engine;
let pairs: LabelledPair[];

beforeAll(async () => {
  engine = await Engine.create({ modelDir: bundledModelDir(), log: () => {} });
  pairs = renderPairs(SEED, PAIRS);
});

afterAll(async () => {
  await engine.dispose();
});

function sequentialPositions(length: number): BigInt64Array {
  const out = new BigInt64Array(3 * length);
  for (let row = 0; row < 3; row++) {
    for (let i = 0; i < length; i++) out[row * length + i] = BigInt(i);
  }
  return out;
}

async function accuracy(positions: 'mrope' | 'sequential'): Promise<number> {
  const letters = ['A', 'B', 'C'].map((letter) => {
    const ids = engine.tokenizer.encode(letter);
    expect(ids).toHaveLength(1);
    return ids[0] as number;
  });
  let correct = 0;
  for (const pair of pairs) {
    const modelImages = await Promise.all(pair.images.map((image) => toModelImage(image)));
    const grids = modelImages.map((m) => m.gridThw);
    const features = await Promise.all(modelImages.map((m) => engine.runner.encodeImage(m)));
    for (const kind of KINDS) {
      const perOrder = [];
      for (const order of defaultOptionOrders(3)) {
        const prompt = engine.renderPrompt({
          images: modelImages.map((image) => ({ image })),
          question: viewpointQuestion(kind, order),
        });
        const ids = expandImagePlaceholders(engine.tokenizer.encode(prompt), grids, LAYOUT);
        const { logits } = await engine.runner.forward({
          ids,
          positionIds:
            positions === 'mrope'
              ? mropePositions(ids, grids, LAYOUT).positionIds
              : sequentialPositions(ids.length),
          images: features,
          start: 0,
          end: ids.length,
          cache: engine.runner.emptyCache(),
          logitsToKeep: 1,
        });
        perOrder.push(labelProbsFromLetters(order, softmax(letters.map((id) => logits[id] as number))));
      }
      if (mostLikelyLabel(averageProbs(perOrder)) === truth(pair)[kind]) correct++;
    }
  }
  return correct / (pairs.length * KINDS.length);
}

it('answers from M-RoPE positions, and loses accuracy with sequential positions', async () => {
  const mrope = await accuracy('mrope');
  const sequential = await accuracy('sequential');
  process.stdout.write(
    `bundled model: accuracy ${mrope.toFixed(3)} with M-RoPE positions, ${sequential.toFixed(3)} sequential\n`,
  );
  expect(mrope).toBeGreaterThanOrEqual(MIN_MROPE_ACCURACY);
  expect(mrope - sequential).toBeGreaterThanOrEqual(MIN_COST);
});
