/**
 * @jest-environment ./test/helpers/ort-jest-environment.mjs
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { tinyModelDir } from '../../../test/helpers/tiny-model.js';
import { ONNX_FILES, QWEN_TOKEN_IDS, TINY_MODEL_DIMENSIONS as D } from './config.js';
import { buildDecoder, type DecoderAttention } from './graphs.js';
import { readTinyWeights } from './read.js';
import type { ReferenceKvCache } from './reference.js';
import {
  referenceDecoder,
  referenceEmbedTokens,
  referenceMropePositions,
  referenceVisionEncoder,
} from './reference.js';
import type { TinyModelWeights } from './weights.js';

const TOLERANCE = 1e-4;
const { imStart, imEnd, visionStart, visionEnd, imagePad } = QWEN_TOKEN_IDS;

let weights: TinyModelWeights;
let vision: ort.InferenceSession;
let embed: ort.InferenceSession;
let decoder: ort.InferenceSession;
/** The same weights with MatMul/Where/Softmax attention; the folder holds the fused graph. */
let explicitDecoder: ort.InferenceSession;
const decoders = (): Record<DecoderAttention, ort.InferenceSession> => ({
  fused: decoder,
  explicit: explicitDecoder,
});

beforeAll(async () => {
  const dir = await tinyModelDir();
  weights = await readTinyWeights(dir);
  vision = await ort.InferenceSession.create(join(dir, ONNX_FILES.visionEncoder));
  // Fatal-only logging: one test feeds an out-of-range id on purpose.
  embed = await ort.InferenceSession.create(join(dir, ONNX_FILES.embedTokens), { logSeverityLevel: 4 });
  decoder = await ort.InferenceSession.create(join(dir, ONNX_FILES.decoder));
  explicitDecoder = await ort.InferenceSession.create(buildDecoder(weights, { attention: 'explicit' }));
});

afterAll(async () => {
  await Promise.all([vision?.release(), embed?.release(), decoder?.release(), explicitDecoder?.release()]);
});

/** Deterministic pseudo-pixels in the normalised range, [patches, 1176]. */
function pixels(patches: number, phase: number): Float32Array {
  return Float32Array.from(
    { length: patches * D.patchInputSize },
    (_, i) => 1.8 * Math.sin(0.37 * i + phase),
  );
}

async function runVision(pixelValues: Float32Array, grids: readonly number[][]): Promise<Float32Array> {
  const patches = pixelValues.length / D.patchInputSize;
  const out = await vision.run({
    pixel_values: new ort.Tensor('float32', pixelValues, [patches, D.patchInputSize]),
    image_grid_thw: new ort.Tensor('int64', BigInt64Array.from(grids.flat(), BigInt), [grids.length, 3]),
  });
  return out.image_features?.data as Float32Array;
}

interface DecoderCall {
  readonly embeds: Float32Array;
  readonly batch?: number;
  readonly attentionMask: readonly number[];
  /** [3 * batch * seq], rows temporal, height, width. */
  readonly positionIds: readonly number[];
  readonly past?: readonly ReferenceKvCache[];
  readonly numLogitsToKeep?: number;
  /** Which decoder graph runs; the model folder's (fused) by default. */
  readonly attention?: DecoderAttention;
}

interface DecoderResult {
  readonly logits: Float32Array;
  readonly logitsDims: readonly number[];
  readonly present: ReferenceKvCache[];
  readonly presentDims: readonly number[];
}

async function runDecoder(call: DecoderCall): Promise<DecoderResult> {
  const batch = call.batch ?? 1;
  const seq = call.embeds.length / (batch * D.hiddenSize);
  const pastLength = call.past?.[0] ? call.past[0].key.length / (batch * D.numKvHeads * D.headDim) : 0;
  const feeds: Record<string, ort.Tensor> = {
    inputs_embeds: new ort.Tensor('float32', call.embeds, [batch, seq, D.hiddenSize]),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from(call.attentionMask, BigInt), [
      batch,
      call.attentionMask.length / batch,
    ]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from(call.positionIds, BigInt), [3, batch, seq]),
    num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.from([BigInt(call.numLogitsToKeep ?? 0)]), []),
  };
  for (let l = 0; l < D.numLayers; l++) {
    const dims = [batch, D.numKvHeads, pastLength, D.headDim];
    feeds[`past_key_values.${l}.key`] = new ort.Tensor(
      'float32',
      call.past?.[l]?.key ?? new Float32Array(0),
      dims,
    );
    feeds[`past_key_values.${l}.value`] = new ort.Tensor(
      'float32',
      call.past?.[l]?.value ?? new Float32Array(0),
      dims,
    );
  }
  const out = await decoders()[call.attention ?? 'fused'].run(feeds);
  const present = Array.from({ length: D.numLayers }, (_, l) => ({
    key: out[`present.${l}.key`]?.data as Float32Array,
    value: out[`present.${l}.value`]?.data as Float32Array,
  }));
  return {
    logits: out.logits?.data as Float32Array,
    logitsDims: out.logits?.dims ?? [],
    present,
    presentDims: out['present.0.key']?.dims ?? [],
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

/** One user turn with one 4x6-patch image (grid [1, 4, 6] -> 6 merged tokens) and some text. */
function imagePrompt(): { ids: number[]; grids: [number, number, number][] } {
  const text = [872, 198, 9064, 374, 279, 10525, 30];
  const ids = [
    imStart,
    872,
    198,
    visionStart,
    ...Array<number>(6).fill(imagePad),
    visionEnd,
    ...text,
    imEnd,
    198,
    imStart,
    77091,
    198,
  ];
  return { ids, grids: [[1, 4, 6]] };
}

/** Embeddings of `ids` with image features scattered over the image-pad tokens, in order. */
function mergedEmbeds(ids: readonly number[], features: Float32Array): Float32Array {
  const embeds = referenceEmbedTokens(weights, ids);
  let next = 0;
  ids.forEach((id, i) => {
    if (id !== imagePad) return;
    embeds.set(features.subarray(next * D.hiddenSize, (next + 1) * D.hiddenSize), i * D.hiddenSize);
    next++;
  });
  expect(next * D.hiddenSize).toBe(features.length);
  return embeds;
}

async function imagePrefill(): Promise<{
  ids: number[];
  embeds: Float32Array;
  positionIds: number[];
  ropeDelta: number;
}> {
  const { ids, grids } = imagePrompt();
  const features = await runVision(pixels(24, 0), grids);
  const { rows, ropeDelta } = referenceMropePositions(ids, grids, QWEN_TOKEN_IDS);
  return { ids, embeds: mergedEmbeds(ids, features), positionIds: rows.flat(), ropeDelta };
}

describe('graph interfaces in onnxruntime-node', () => {
  const cases: { file: keyof typeof ONNX_FILES; inputs: string[]; outputs: string[] }[] = [
    { file: 'visionEncoder', inputs: ['pixel_values', 'image_grid_thw'], outputs: ['image_features'] },
    { file: 'embedTokens', inputs: ['input_ids'], outputs: ['inputs_embeds'] },
    {
      file: 'decoder',
      inputs: [
        'inputs_embeds',
        'attention_mask',
        'position_ids',
        'past_key_values.0.key',
        'past_key_values.0.value',
        'past_key_values.1.key',
        'past_key_values.1.value',
        'num_logits_to_keep',
      ],
      outputs: ['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value'],
    },
  ];
  it.each(cases)(
    '$file has exactly the transformers.js input and output names',
    ({ file, inputs, outputs }) => {
      const session = { visionEncoder: vision, embedTokens: embed, decoder }[file];
      expect(session.inputNames).toEqual(inputs);
      expect(session.outputNames).toEqual(outputs);
    },
  );

  it.each([
    { attention: 'fused', opset: 23, attentionNodes: D.numLayers, softmaxNodes: 0 },
    { attention: 'explicit', opset: 14, attentionNodes: 0, softmaxNodes: D.numLayers },
  ] as const)(
    '$attention decoder: opset $opset, $attentionNodes Attention and $softmaxNodes Softmax nodes',
    ({ attention, opset, attentionNodes, softmaxNodes }) => {
      const model = onnxProto.onnx.ModelProto.decode(buildDecoder(weights, { attention }));
      const count = (op: string): number => (model.graph?.node ?? []).filter((n) => n.opType === op).length;
      expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', opset]]);
      expect([count('Attention'), count('Softmax')]).toEqual([attentionNodes, softmaxNodes]);
    },
  );

  it('refuses an unknown attention form, naming it', () => {
    expect(() => buildDecoder(weights, { attention: 'flash' as DecoderAttention })).toThrow(
      `attention must be 'fused' or 'explicit', got "flash"`,
    );
  });

  it('declares the cache dims transformers.js resolves (batch_size -> batch, other symbols -> 0)', () => {
    const meta = decoder.inputMetadata.find((m) => m.name === 'past_key_values.1.value');
    expect(meta).toMatchObject({
      type: 'float32',
      shape: ['batch_size', D.numKvHeads, 'past_sequence_length', D.headDim],
    });
    const positions = decoder.inputMetadata.find((m) => m.name === 'position_ids');
    expect(positions).toMatchObject({ type: 'int64', shape: [3, 'batch_size', 'sequence_length'] });
  });

  it('vision encoder merges every 4 patches into one feature row', async () => {
    const out = await vision.run({
      pixel_values: new ort.Tensor('float32', pixels(40, 1), [40, D.patchInputSize]),
      image_grid_thw: new ort.Tensor('int64', BigInt64Array.from([1n, 4n, 6n, 1n, 4n, 4n]), [2, 3]),
    });
    expect(out.image_features?.dims).toEqual([10, D.hiddenSize]);
  });

  it('embed_tokens maps [batch, seq] ids to [batch, seq, hidden]', async () => {
    const out = await embed.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from([0n, 151643n, 151935n, 42n, 7n, 9n]), [2, 3]),
    });
    expect(out.inputs_embeds?.dims).toEqual([2, 3, D.hiddenSize]);
    expect(
      maxAbsDiff(
        out.inputs_embeds?.data as Float32Array,
        referenceEmbedTokens(weights, [0, 151643, 151935, 42, 7, 9]),
      ),
    ).toBe(0);
  });

  it('embed_tokens rejects an id outside the vocabulary', async () => {
    const ids = new ort.Tensor('int64', BigInt64Array.from([BigInt(D.vocabSize)]), [1, 1]);
    await expect(embed.run({ input_ids: ids })).rejects.toThrow(/out of bounds|indices/i);
  });

  it.each([
    { keep: 0, rows: 5 },
    { keep: 1, rows: 1 },
    { keep: 3, rows: 3 },
    { keep: 9, rows: 5 },
  ])('decoder returns logits for num_logits_to_keep=$keep as $rows rows', async ({ keep, rows }) => {
    const ids = [imStart, 872, 198, 9064, 374];
    const result = await runDecoder({
      embeds: referenceEmbedTokens(weights, ids),
      attentionMask: [1, 1, 1, 1, 1],
      positionIds: [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4],
      numLogitsToKeep: keep,
    });
    expect(result.logitsDims).toEqual([1, rows, D.vocabSize]);
    expect(result.presentDims).toEqual([1, D.numKvHeads, 5, D.headDim]);
  });
});

describe('graphs agree with the plain-loop reference', () => {
  it('vision encoder', async () => {
    const input = pixels(24, 0.5);
    expect(
      maxAbsDiff(await runVision(input, [[1, 4, 6]]), referenceVisionEncoder(weights, input)),
    ).toBeLessThan(TOLERANCE);
  });
});

describe.each<DecoderAttention>(['fused', 'explicit'])(
  '%s-attention decoder agrees with the reference',
  (attention) => {
    it('prefill with 3-row M-RoPE positions of an image, then one cached decode step', async () => {
      const { ids, embeds, positionIds, ropeDelta } = await imagePrefill();
      expect(new Set(positionIds.slice(0, ids.length)).size).toBeLessThan(ids.length); // rows really differ
      const mask = ids.map(() => 1);
      // Logits of the last 4 positions (the plain-loop lm_head is slow); K/V of every position.
      const prefill = await runDecoder({
        embeds,
        attentionMask: mask,
        positionIds,
        numLogitsToKeep: 4,
        attention,
      });
      const expected = referenceDecoder(weights, {
        inputsEmbeds: embeds,
        batch: 1,
        sequenceLength: ids.length,
        attentionMask: mask,
        positionIds,
        numLogitsToKeep: 4,
      });
      expect(maxAbsDiff(prefill.logits, expected.logits)).toBeLessThan(TOLERANCE);
      prefill.present.forEach((cache, l) => {
        expect(maxAbsDiff(cache.key, expected.present[l]?.key ?? [])).toBeLessThan(TOLERANCE);
        expect(maxAbsDiff(cache.value, expected.present[l]?.value ?? [])).toBeLessThan(TOLERANCE);
      });

      const position = ids.length + ropeDelta;
      const step = {
        embeds: referenceEmbedTokens(weights, [9454]),
        attentionMask: [...mask, 1],
        positionIds: [position, position, position],
        past: prefill.present,
        numLogitsToKeep: 1,
        attention,
      };
      const decoded = await runDecoder(step);
      const expectedStep = referenceDecoder(weights, {
        inputsEmbeds: step.embeds,
        batch: 1,
        sequenceLength: 1,
        attentionMask: step.attentionMask,
        positionIds: step.positionIds,
        past: expected.present,
        numLogitsToKeep: 1,
      });
      expect(decoded.logitsDims).toEqual([1, 1, D.vocabSize]);
      expect(maxAbsDiff(decoded.logits, expectedStep.logits)).toBeLessThan(TOLERANCE);
    });

    it('batch 2, left padding and grouped-query heads', async () => {
      const idsA = [0, 0, imStart, 872, 198, 9064];
      const idsB = [imStart, 872, 198, 9064, 374, 279];
      const mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
      const rowA = [1, 1, 0, 1, 2, 3];
      const rowB = [0, 1, 2, 3, 4, 5];
      const positionIds = [0, 1, 2].flatMap(() => [...rowA, ...rowB]);
      const embeds = referenceEmbedTokens(weights, [...idsA, ...idsB]);
      const actual = await runDecoder({
        embeds,
        batch: 2,
        attentionMask: mask,
        positionIds,
        numLogitsToKeep: 2,
        attention,
      });
      const expected = referenceDecoder(weights, {
        inputsEmbeds: embeds,
        batch: 2,
        sequenceLength: 6,
        attentionMask: mask,
        positionIds,
        numLogitsToKeep: 2,
      });
      expect(actual.logitsDims).toEqual([2, 2, D.vocabSize]);
      expect(maxAbsDiff(actual.logits, expected.logits)).toBeLessThan(TOLERANCE);
    });
  },
);

describe.each<DecoderAttention>(['fused', 'explicit'])(
  'KV cache through onnxruntime, %s attention',
  (attention) => {
    it('cached decode steps reproduce the logits of one full prefill, position by position', async () => {
      const { ids, embeds, positionIds } = await imagePrefill();
      const S = ids.length;
      const full = await runDecoder({
        embeds,
        attentionMask: ids.map(() => 1),
        positionIds,
        numLogitsToKeep: 0,
        attention,
      });
      const row = (r: number, from: number, to: number): number[] =>
        positionIds.slice(r * S + from, r * S + to);
      const split = 12;
      let state = await runDecoder({
        embeds: embeds.subarray(0, split * D.hiddenSize),
        attentionMask: Array<number>(split).fill(1),
        positionIds: [0, 1, 2].flatMap((r) => row(r, 0, split)),
        numLogitsToKeep: 1,
        attention,
      });
      for (let k = split; k < S; k++) {
        state = await runDecoder({
          embeds: embeds.subarray(k * D.hiddenSize, (k + 1) * D.hiddenSize),
          attentionMask: Array<number>(k + 1).fill(1),
          positionIds: [0, 1, 2].flatMap((r) => row(r, k, k + 1)),
          past: state.present,
          numLogitsToKeep: 1,
          attention,
        });
        const expected = full.logits.subarray(k * D.vocabSize, (k + 1) * D.vocabSize);
        expect(maxAbsDiff(state.logits, expected)).toBeLessThan(TOLERANCE);
      }
      expect(state.presentDims).toEqual([1, D.numKvHeads, S, D.headDim]);
    });
  },
);

describe('sensitivity: the bugs the model must expose', () => {
  // Observed effects are 0.5 to 7 logit units; numerical noise is below 1e-5.
  const MIN_EFFECT = 0.1;

  async function lastLogits(
    change: (c: { mask: number[]; positionIds: number[]; ids: number[] }) => void,
  ): Promise<Float32Array> {
    const { ids, embeds, positionIds } = await imagePrefill();
    const mask = ids.map(() => 1);
    change({ mask, positionIds, ids });
    return (await runDecoder({ embeds, attentionMask: mask, positionIds, numLogitsToKeep: 1 })).logits;
  }

  const imageTokens = (ids: readonly number[]): number[] =>
    ids.flatMap((id, i) => (id === imagePad ? [i] : []));
  const shiftRow = (row: number) => (c: { positionIds: number[]; ids: number[] }) => {
    for (const i of imageTokens(c.ids))
      c.positionIds[row * c.ids.length + i] = (c.positionIds[row * c.ids.length + i] ?? 0) + 1;
  };

  it.each([
    { bug: 'temporal row of image tokens off by one', change: shiftRow(0) },
    { bug: 'height row of image tokens off by one', change: shiftRow(1) },
    { bug: 'width row of image tokens off by one', change: shiftRow(2) },
    {
      bug: 'height and width rows swapped for image tokens',
      change: (c: { positionIds: number[]; ids: number[] }) => {
        const S = c.ids.length;
        for (const i of imageTokens(c.ids)) {
          const h = c.positionIds[S + i] ?? 0;
          c.positionIds[S + i] = c.positionIds[2 * S + i] ?? 0;
          c.positionIds[2 * S + i] = h;
        }
      },
    },
    {
      bug: '1-D positions instead of M-RoPE',
      change: (c: { positionIds: number[]; ids: number[] }) => {
        c.positionIds.splice(0, c.positionIds.length, ...[0, 1, 2].flatMap(() => c.ids.map((_, i) => i)));
      },
    },
    { bug: 'one attention_mask entry zeroed', change: (c: { mask: number[] }) => void (c.mask[5] = 0) },
  ])('$bug changes the next-token logits', async ({ change }) => {
    const base = await lastLogits(() => undefined);
    expect(maxAbsDiff(base, await lastLogits(change))).toBeGreaterThan(MIN_EFFECT);
  });

  it('a decode step at the wrong position (rope_delta ignored) changes the logits', async () => {
    const { ids, embeds, positionIds, ropeDelta } = await imagePrefill();
    expect(ropeDelta).not.toBe(0);
    const mask = ids.map(() => 1);
    const prefill = await runDecoder({ embeds, attentionMask: mask, positionIds, numLogitsToKeep: 1 });
    const step = async (position: number): Promise<Float32Array> =>
      (
        await runDecoder({
          embeds: referenceEmbedTokens(weights, [9454]),
          attentionMask: [...mask, 1],
          positionIds: [position, position, position],
          past: prefill.present,
          numLogitsToKeep: 1,
        })
      ).logits;
    expect(maxAbsDiff(await step(ids.length + ropeDelta), await step(ids.length))).toBeGreaterThan(
      MIN_EFFECT,
    );
  });

  it('permuting rows inside one 2x2 merge window changes that window feature only', async () => {
    const input = pixels(24, 2);
    const permuted = input.slice();
    const row = (r: number): Float32Array => input.subarray(r * D.patchInputSize, (r + 1) * D.patchInputSize);
    permuted.set(row(5), 4 * D.patchInputSize); // window 1 holds rows 4..7
    permuted.set(row(4), 5 * D.patchInputSize);
    const [base, swapped] = [await runVision(input, [[1, 4, 6]]), await runVision(permuted, [[1, 4, 6]])];
    const feature = (data: Float32Array, w: number): Float32Array =>
      data.subarray(w * D.hiddenSize, (w + 1) * D.hiddenSize);
    expect(maxAbsDiff(feature(base, 1), feature(swapped, 1))).toBeGreaterThan(MIN_EFFECT);
    for (const w of [0, 2, 3, 4, 5]) expect(maxAbsDiff(feature(base, w), feature(swapped, w))).toBe(0);
  });

  it('different prompts give clearly different next-token distributions', async () => {
    const next = async (ids: number[]): Promise<Float32Array> =>
      (
        await runDecoder({
          embeds: referenceEmbedTokens(weights, ids),
          attentionMask: ids.map(() => 1),
          positionIds: [0, 1, 2].flatMap(() => ids.map((_, i) => i)),
          numLogitsToKeep: 1,
        })
      ).logits;
    const argmax = (l: Float32Array): number =>
      l.reduce((best, v, i, a) => (v > (a[best] ?? -Infinity) ? i : best), 0);
    const [a, b] = [await next([imStart, 872, 198, 9064]), await next([imStart, 872, 198, 374])];
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1);
    expect(argmax(a)).not.toBe(argmax(b));
  });
});
