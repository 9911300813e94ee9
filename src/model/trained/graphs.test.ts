/**
 * @jest-environment ./test/helpers/ort-jest-environment.mjs
 */
import * as ort from 'onnxruntime-node';
import { TINY_MODEL_DIMENSIONS, type TinyModelDimensions } from '../tiny/config.js';
import { buildDecoder, buildEmbedTokens, buildVisionEncoder } from '../tiny/graphs.js';
import { referenceDecoder } from '../tiny/reference.js';
import {
  OTHER_TOKEN_LOGIT,
  generateTinyWeights,
  randomWeightSource,
  assembleTinyWeights,
  type TinyModelWeights,
  type Weight,
} from '../tiny/weights.js';

/** The graph options the trained viewpoint model uses, on random weights. */
const DIMS: TinyModelDimensions = {
  ...TINY_MODEL_DIMENSIONS,
  hiddenSize: 32,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 16,
  intermediateSize: 48,
  mropeSection: [1, 2, 5],
  visionHiddenSize: 16,
  visionIntermediateSize: 24,
  patchPool: 2,
  visionPositions: true,
};
const VOCABULARY = [13, 25, 32, 33, 34, 279, 151643, 151644, 151645, 151652, 151653, 151655];

const session = (bytes: Uint8Array): Promise<ort.InferenceSession> => ort.InferenceSession.create(bytes);

function pixels(patches: number, phase: number): Float32Array {
  return Float32Array.from({ length: patches * 1176 }, (_, i) => 1.8 * Math.sin(0.37 * i + phase));
}

async function encode(
  vision: ort.InferenceSession,
  values: Float32Array,
  grids: readonly (readonly [number, number, number])[],
): Promise<Float32Array> {
  const out = await vision.run({
    pixel_values: new ort.Tensor('float32', values, [values.length / 1176, 1176]),
    image_grid_thw: new ort.Tensor('int64', BigInt64Array.from(grids.flat(), BigInt), [grids.length, 3]),
  });
  return out.image_features?.data as Float32Array;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

const weight = (name: string, dims: number[], data: Float32Array): Weight => ({ name, dims, data });

describe('vision encoder with 2x2 pooling and merged-token positions', () => {
  const weights = generateTinyWeights(5, DIMS);

  it('pools exactly like a whole-row tower whose weights average the 2 frames and 2x2 pixels', async () => {
    // W1176[((c * 2 + t) * 14 + y) * 14 + x] = W147[(c * 7 + y / 2) * 7 + x / 2] / 8.
    const pooled = weights.vision.patchEmbed;
    const out = pooled.dims[1] as number;
    const whole = new Float32Array(1176 * out);
    for (let c = 0; c < 3; c++)
      for (let t = 0; t < 2; t++)
        for (let y = 0; y < 14; y++)
          for (let x = 0; x < 14; x++) {
            const row = ((c * 2 + t) * 14 + y) * 14 + x;
            const from = (c * 7 + (y >> 1)) * 7 + (x >> 1);
            for (let o = 0; o < out; o++) whole[row * out + o] = (pooled.data[from * out + o] as number) / 8;
          }
    const unpooled: TinyModelWeights = {
      ...weights,
      dimensions: { ...DIMS, patchPool: 1 },
      vision: { ...weights.vision, patchEmbed: weight(pooled.name, [1176, out], whole) },
    };
    const values = pixels(64, 0.3);
    const a = await encode(await session(buildVisionEncoder(weights)), values, [[1, 8, 8]]);
    const b = await encode(await session(buildVisionEncoder(unpooled)), values, [[1, 8, 8]]);
    expect(a).toHaveLength(16 * DIMS.hiddenSize);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
  });

  it('gives each image of a batch the features it gets alone, whatever its grid', async () => {
    const vision = await session(buildVisionEncoder(weights));
    const first = pixels(64, 0);
    const second = pixels(96, 1);
    const both = new Float32Array(first.length + second.length);
    both.set(first);
    both.set(second, first.length);
    const together = await encode(vision, both, [
      [1, 8, 8],
      [1, 8, 12],
    ]);
    const alone = [
      ...(await encode(vision, first, [[1, 8, 8]])),
      ...(await encode(vision, second, [[1, 8, 12]])),
    ];
    expect(maxAbsDiff(together, alone)).toBeLessThan(1e-6);
  });

  it('places merged tokens at their centres: x along the width, y down the height, in [-1, 1]', async () => {
    // Everything zero but the positions: window = [x, y, 0, ...], features = silu(window) via identities.
    const zero = (w: Weight): Weight => weight(w.name, [...w.dims], new Float32Array(w.data.length));
    const identity = (w: Weight): Weight => {
      const [rows = 0, cols = 0] = w.dims;
      const data = new Float32Array(rows * cols);
      for (let i = 0; i < Math.min(rows, cols); i++) data[i * cols + i] = 1;
      return weight(w.name, [rows, cols], data);
    };
    const v = weights.vision;
    const probe: TinyModelWeights = {
      ...weights,
      vision: {
        ...v,
        patchEmbed: zero(v.patchEmbed),
        patchEmbedBias: zero(v.patchEmbedBias),
        mlpFc1: zero(v.mlpFc1),
        mlpFc1Bias: zero(v.mlpFc1Bias),
        mlpFc2: zero(v.mlpFc2),
        mlpFc2Bias: zero(v.mlpFc2Bias),
        mergerFc1: identity(v.mergerFc1),
        mergerFc1Bias: zero(v.mergerFc1Bias),
        mergerFc2: identity(v.mergerFc2),
        mergerFc2Bias: zero(v.mergerFc2Bias),
        posEmbed: identity(v.posEmbed as Weight),
      },
    };
    const features = await encode(await session(buildVisionEncoder(probe)), pixels(4 * 24 + 48, 0), [
      [1, 4, 24],
      [1, 12, 4],
    ]);
    const silu = (z: number): number => z / (1 + Math.exp(-z));
    const expected: number[][] = [];
    for (const [h, w] of [
      [2, 12],
      [6, 2],
    ] as const)
      for (let row = 0; row < h; row++)
        for (let col = 0; col < w; col++) expected.push([(2 * col + 1) / w - 1, (2 * row + 1) / h - 1]);
    expect(features).toHaveLength(expected.length * DIMS.hiddenSize);
    expected.forEach(([x = 0, y = 0], m) => {
      expect(features[m * DIMS.hiddenSize]).toBeCloseTo(silu(x), 5);
      expect(features[m * DIMS.hiddenSize + 1]).toBeCloseTo(silu(y), 5);
    });
  });
});

describe('compact vocabulary', () => {
  const weights = assembleTinyWeights(randomWeightSource(9), DIMS, VOCABULARY);
  const k = VOCABULARY.length;

  it('stores K + 1 embedding rows and K logit columns', () => {
    expect(weights.embedTokens.dims).toEqual([k + 1, DIMS.hiddenSize]);
    expect(weights.lmHead.dims).toEqual([DIMS.hiddenSize, k]);
    expect(() => assembleTinyWeights(randomWeightSource(9), DIMS, [5, 3])).toThrow(/sorted distinct/);
    expect(() => assembleTinyWeights(randomWeightSource(9), DIMS, [5, DIMS.vocabSize])).toThrow(
      /sorted distinct/,
    );
  });

  it('embeds listed ids by their row and every other id by the last row', async () => {
    const embed = await session(buildEmbedTokens(weights));
    const ids = [279, 151655, 0, 151935, 13, 77091];
    const out = await embed.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, 6]),
    });
    const data = out.inputs_embeds?.data as Float32Array;
    const h = DIMS.hiddenSize;
    ids.forEach((id, i) => {
      const row = VOCABULARY.includes(id) ? VOCABULARY.indexOf(id) : k;
      expect(Array.from(data.subarray(i * h, (i + 1) * h))).toEqual(
        Array.from(weights.embedTokens.data.subarray(row * h, (row + 1) * h)),
      );
    });
  });

  it('returns vocabulary-sized logits: the compact ones at their ids, OTHER_TOKEN_LOGIT elsewhere', async () => {
    const decoder = await session(buildDecoder(weights));
    const h = DIMS.hiddenSize;
    const seq = 5;
    const embeds = Float32Array.from({ length: seq * h }, (_, i) => Math.cos(0.7 * i));
    const positions = [0, 1, 2, 3, 4, 0, 1, 2, 2, 4, 0, 1, 2, 3, 4];
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor('float32', embeds, [1, seq, h]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(seq).fill(1n), [1, seq]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from(positions, BigInt), [3, 1, seq]),
      num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.from([1n]), []),
    };
    for (let l = 0; l < DIMS.numLayers; l++)
      for (const kv of ['key', 'value'])
        feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [
          1,
          DIMS.numKvHeads,
          0,
          DIMS.headDim,
        ]);
    const logits = (await decoder.run(feeds)).logits?.data as Float32Array;
    expect(logits).toHaveLength(DIMS.vocabSize);

    // The same network with a full-vocabulary lm_head (compact columns at their ids, zeros elsewhere).
    const full = new Float32Array(h * DIMS.vocabSize);
    for (let i = 0; i < h; i++)
      VOCABULARY.forEach(
        (id, c) => (full[i * DIMS.vocabSize + id] = weights.lmHead.data[i * k + c] as number),
      );
    const reference = referenceDecoder(
      { ...weights, lmHead: weight('lm_head.weight', [h, DIMS.vocabSize], full), vocabularyIds: undefined },
      {
        inputsEmbeds: embeds,
        batch: 1,
        sequenceLength: seq,
        attentionMask: [1, 1, 1, 1, 1],
        positionIds: positions,
        numLogitsToKeep: 1,
      },
    );
    let compactDiff = 0;
    let others = 0;
    for (let id = 0; id < DIMS.vocabSize; id++) {
      if (VOCABULARY.includes(id))
        compactDiff = Math.max(
          compactDiff,
          Math.abs((logits[id] as number) - (reference.logits[id] as number)),
        );
      else if (logits[id] === OTHER_TOKEN_LOGIT) others++;
    }
    expect(compactDiff).toBeLessThan(1e-4);
    expect(others).toBe(DIMS.vocabSize - k);
  });
});
