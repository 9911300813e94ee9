/**
 * @jest-environment ./test/helpers/ort-jest-environment.mjs
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { HELD_OUT_SEED_START, SYNTH_DATA_VERSION } from '../../synth/version.js';
import { bundledModelDir } from '../bundled.js';
import { loadModelFolder } from '../folder.js';
import { mropePositions } from '../image-tokens.js';
import { ONNX_FILES, QWEN_TOKEN_IDS } from '../tiny/config.js';
import { OTHER_TOKEN_LOGIT } from '../tiny/weights.js';
import { buildPromptSet, TRAINED_GRID } from './prompts.js';
import { REFERENCE_FILE, TRAINED_MODEL_VERSION, TRAINING_FILE } from './write.js';

/** What `train.py export` computed in PyTorch for a fixed input (see reference_outputs there). */
interface Reference {
  readonly input: { readonly grid: number[]; readonly system: number; readonly question: number };
  /** Image 1's first 4 and image 2's last 4 feature rows, flattened. */
  readonly imageFeatures: [number[], number[]];
  readonly lastLogits: { readonly tokenIds: number[]; readonly values: number[] };
  readonly otherLogit: number;
  readonly choiceProbabilities: number[];
}

const dir = bundledModelDir();
let reference: Reference;
let training: Record<string, unknown> & { training: Record<string, unknown> };

beforeAll(async () => {
  reference = JSON.parse(await readFile(join(dir, REFERENCE_FILE), 'utf8')) as Reference;
  training = JSON.parse(await readFile(join(dir, TRAINING_FILE), 'utf8')) as typeof training;
});

/** The reference input: 1.8 sin(0.37 i + phase) over a [256, 1176] pixel_values. */
function referencePixels(phase: number): Float32Array {
  return Float32Array.from({ length: 256 * 1176 }, (_, i) => 1.8 * Math.sin(0.37 * i + phase));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

describe('the bundled viewpoint model folder', () => {
  it('loads as a Qwen2.5-VL model folder and says what trained it', async () => {
    const folder = await loadModelFolder(dir);
    expect(folder.dims.vocabSize).toBe(151936);
    expect(folder.tokenIds.imageTokenId).toBe(QWEN_TOKEN_IDS.imagePad);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config.actial_tiny_model).toMatchObject({
      kind: 'trained-viewpoint',
      version: TRAINED_MODEL_VERSION,
    });
    expect(training.format).toBe('actial-tiny-weights');
    const data = training.training.data as { seed: number; synthDataVersion: number }[];
    expect(data.length).toBeGreaterThan(0);
    for (const set of data) {
      expect(set.seed).toBeLessThan(HELD_OUT_SEED_START);
      expect(set.synthDataVersion).toBe(SYNTH_DATA_VERSION);
    }
    expect(training.training.command).toMatch(/stages\.py vision .* && .*stages\.py text /);
  });

  it('keeps its graphs small', async () => {
    let bytes = 0;
    for (const file of Object.values(ONNX_FILES)) bytes += (await stat(join(dir, file))).size;
    expect(bytes).toBeLessThan(3e6);
  });

  it('computes what PyTorch computed at export, within 1e-4', async () => {
    const open = (file: string): Promise<ort.InferenceSession> =>
      ort.InferenceSession.create(join(dir, file));
    const vision = await open(ONNX_FILES.visionEncoder);
    const embed = await open(ONNX_FILES.embedTokens);
    const decoder = await open(ONNX_FILES.decoder);
    try {
      expect(reference.input.grid).toEqual([...TRAINED_GRID]);
      const grid = new ort.Tensor('int64', BigInt64Array.from(TRAINED_GRID, BigInt), [1, 3]);
      const features = [];
      for (const phase of [0, 1]) {
        const out = await vision.run({
          pixel_values: new ort.Tensor('float32', referencePixels(phase), [256, 1176]),
          image_grid_thw: grid,
        });
        features.push(out.image_features?.data as Float32Array);
      }
      const [first, second] = features as [Float32Array, Float32Array];
      const hidden = first.length / 64;
      expect(maxAbsDiff(first.subarray(0, 4 * hidden), reference.imageFeatures[0])).toBeLessThan(1e-4);
      expect(maxAbsDiff(second.subarray(60 * hidden), reference.imageFeatures[1])).toBeLessThan(1e-4);

      const prompts = buildPromptSet();
      const system = prompts.systems[reference.input.system];
      const question = prompts.questions[reference.input.question];
      if (!system || !question) throw new Error('reference prompt not in the prompt set');
      const pads = Array<number>(64).fill(QWEN_TOKEN_IDS.imagePad);
      const ids = [...system.prefix, ...pads, ...system.between, ...pads, ...question.block];
      const embedded = await embed.run({
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
      });
      const embeds = new Float32Array(embedded.inputs_embeds?.data as Float32Array);
      let image = 0;
      ids.forEach((id, i) => {
        if (id !== QWEN_TOKEN_IDS.imagePad) return;
        const source = image < 64 ? first : second;
        const row = image % 64;
        embeds.set(source.subarray(row * hidden, (row + 1) * hidden), i * hidden);
        image++;
      });
      const layout = { imageTokenId: QWEN_TOKEN_IDS.imagePad, spatialMergeSize: 2 };
      const { positionIds } = mropePositions(ids, [TRAINED_GRID, TRAINED_GRID], layout);
      const config = (await loadModelFolder(dir)).dims;
      const feeds: Record<string, ort.Tensor> = {
        inputs_embeds: new ort.Tensor('float32', embeds, [1, ids.length, hidden]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
        position_ids: new ort.Tensor('int64', positionIds, [3, 1, ids.length]),
        num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.from([1n]), []),
      };
      for (let l = 0; l < config.numLayers; l++)
        for (const kv of ['key', 'value'])
          feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [
            1,
            config.numKvHeads,
            0,
            config.headDim,
          ]);
      const logits = (await decoder.run(feeds)).logits?.data as Float32Array;
      const got = reference.lastLogits.tokenIds.map((id) => logits[id] as number);
      expect(maxAbsDiff(got, reference.lastLogits.values)).toBeLessThan(1e-4);
      expect(reference.otherLogit).toBe(OTHER_TOKEN_LOGIT);
      const outside = [0, 100, 77091, 151935].filter((id) => !reference.lastLogits.tokenIds.includes(id));
      for (const id of outside) expect(logits[id]).toBe(OTHER_TOKEN_LOGIT);
      const choice = question.choiceTokens.map((id) => logits[id] as number);
      const top = Math.max(...choice);
      const exp = choice.map((v) => Math.exp(v - top));
      const total = exp.reduce((a, b) => a + b, 0);
      expect(
        maxAbsDiff(
          exp.map((e) => e / total),
          reference.choiceProbabilities,
        ),
      ).toBeLessThan(1e-4);
    } finally {
      await Promise.all([vision.release(), embed.release(), decoder.release()]);
    }
  });
});
