/**
 * Golden references: outputs of the PyTorch model (transformers) recorded by
 * tools/export/golden.py next to the ONNX folder it exported, and the comparison of our engine's
 * outputs on the same inputs with them (tokenization, M-RoPE positions, image features, prefill
 * and greedy-decode logits). Format `actial-golden/1`, see tools/export/README.md.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine, EngineImage } from './engine.js';
import { float16ToFloat32 } from './float16.js';
import type { ModelDtype } from './folder.js';
import { expandImagePlaceholders, mropePositions, type ImageGrid } from './image-tokens.js';
import type { FloatData } from './runner.js';

/** Name of the reference file inside a golden model folder. */
export const GOLDEN_FILE = 'reference.json';

/** Pixel values are stored as bytes: value = byte / PIXEL_SCALE + PIXEL_OFFSET (exact in float32). */
export const PIXEL_SCALE = 64;
export const PIXEL_OFFSET = -2;

/** One image of the reference prompt. */
export interface GoldenImage {
  readonly grid_thw: [number, number, number];
  /** Base64 of one byte per pixel value (rows of 1176, processor order); see PIXEL_SCALE. */
  readonly pixel_values_u8: string;
}

/** Logits of one generation step (step 0: the prompt's last position; step k: after k greedy tokens). */
export interface GoldenStep {
  /** Vocabulary ids whose logits were recorded (the top ones and a spread of others). */
  readonly token_ids: number[];
  readonly logits: number[];
  /** log-sum-exp over the whole vocabulary row. */
  readonly logsumexp: number;
  /** The greedy token of this step and how far its logit is above the runner-up's. */
  readonly argmax: number;
  readonly margin: number;
}

export interface GoldenReference {
  readonly format: 'actial-golden/1';
  /** Which graphs of the folder to load. */
  readonly dtype: ModelDtype;
  /** A value x matches its reference r when |x - r| <= atol + rtol * |r|. */
  readonly tolerance: { readonly atol: number; readonly rtol: number };
  /** The rendered prompt, one `<|image_pad|>` per image. */
  readonly prompt: string;
  readonly images: GoldenImage[];
  /** Token ids of the prompt, image placeholders expanded (from the Python tokenizer). */
  readonly input_ids: number[];
  /** M-RoPE positions [3][S] and rope delta from transformers' get_rope_index. */
  readonly position_ids: number[][];
  readonly rope_delta: number;
  /** Merged image features per image: [tokens, hidden] float32, base64 little-endian. */
  readonly image_features: { readonly tokens: number; readonly hidden: number; readonly f32: string }[];
  readonly steps: GoldenStep[];
  /** Greedy tokens (one per step; generation stops at a stop token). */
  readonly generated: number[];
  /** Who wrote it (versions, model), for the record. */
  readonly producer?: Record<string, unknown>;
}

/** The outcome of {@link compareWithGolden}: passed when `failures` is empty. */
export interface GoldenComparison {
  readonly passed: boolean;
  readonly failures: string[];
  readonly notes: string[];
  /** Largest |ours - reference| among the checked logits, log-sum-exps and image features. */
  readonly maxLogitDiff: number;
  readonly maxFeatureDiff: number;
  readonly stepsCompared: number;
}

/** Reads `reference.json` of a golden folder. */
export async function readGoldenReference(dir: string): Promise<GoldenReference> {
  const value = JSON.parse(await readFile(join(dir, GOLDEN_FILE), 'utf8')) as GoldenReference;
  if (value.format !== 'actial-golden/1') {
    throw new Error(`${join(dir, GOLDEN_FILE)}: format ${String(value.format)}, expected actial-golden/1`);
  }
  return value;
}

/** Float32 values of a golden image. */
export function goldenPixelValues(image: GoldenImage): Float32Array {
  const bytes = Buffer.from(image.pixel_values_u8, 'base64');
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = (bytes[i] as number) / PIXEL_SCALE + PIXEL_OFFSET;
  return out;
}

/** The reference images as the engine takes them. */
export function goldenImages(reference: GoldenReference): EngineImage[] {
  return reference.images.map((image) => {
    const [, h, w] = image.grid_thw;
    return {
      image: {
        pixelValues: goldenPixelValues(image),
        gridThw: image.grid_thw,
        resizedWidth: w * 14,
        resizedHeight: h * 14,
      },
    };
  });
}

function toFloat32(data: FloatData): Float32Array {
  return data instanceof Float32Array ? data : float16ToFloat32(data);
}

function decodeF32(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Base64 of float32 values, little-endian (the reference format). */
export function encodeF32(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

function logSumExp(row: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if ((row[i] as number) > max) max = row[i] as number;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp((row[i] as number) - max);
  return max + Math.log(sum);
}

function firstDifference(a: readonly number[], b: readonly number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/**
 * Runs `engine` on the reference's prompt and images and compares: the expanded token ids and
 * M-RoPE positions (exactly), each image's features, and the logits of every generation step at
 * the recorded ids plus the row's log-sum-exp (within the reference's tolerance). Greedy tokens
 * must agree while the reference's top-2 margin exceeds the tolerance; after a near-tie the
 * remaining steps cannot be compared and are reported in `notes`.
 */
export async function compareWithGolden(
  engine: Engine,
  reference: GoldenReference,
): Promise<GoldenComparison> {
  const failures: string[] = [];
  const notes: string[] = [];
  const { atol, rtol } = reference.tolerance;
  const within = (x: number, r: number): boolean => Math.abs(x - r) <= atol + rtol * Math.abs(r);
  const layout = {
    imageTokenId: engine.folder.tokenIds.imageTokenId,
    spatialMergeSize: engine.folder.dims.spatialMergeSize,
  };
  const grids = reference.images.map((image) => image.grid_thw as ImageGrid);

  const ids = expandImagePlaceholders(engine.tokenizer.encode(reference.prompt), grids, layout);
  const at = firstDifference(ids, reference.input_ids);
  if (at >= 0) {
    failures.push(
      `token ids differ at index ${at}: ours ${ids[at] ?? 'none'} (of ${ids.length}), reference ${reference.input_ids[at] ?? 'none'} (of ${reference.input_ids.length})`,
    );
  }
  const { positionIds, ropeDelta } = mropePositions(reference.input_ids, grids, layout);
  const length = reference.input_ids.length;
  for (let row = 0; row < 3; row++) {
    const ours = Array.from(positionIds.subarray(row * length, (row + 1) * length), Number);
    const index = firstDifference(ours, reference.position_ids[row] ?? []);
    if (index >= 0) failures.push(`M-RoPE row ${row} differs at index ${index}`);
  }
  if (ropeDelta !== reference.rope_delta) {
    failures.push(`rope delta ${ropeDelta}, reference ${reference.rope_delta}`);
  }

  const images = goldenImages(reference);
  let maxFeatureDiff = 0;
  for (const [i, { image }] of images.entries()) {
    const expected = reference.image_features[i];
    if (!expected) {
      failures.push(`no reference features for image ${i}`);
      continue;
    }
    const features = await engine.runner.encodeImage(image);
    const values = toFloat32(features.data);
    const ref = decodeF32(expected.f32);
    if (features.tokens !== expected.tokens || features.hidden !== expected.hidden) {
      failures.push(
        `image ${i}: features [${features.tokens}, ${features.hidden}], reference [${expected.tokens}, ${expected.hidden}]`,
      );
      continue;
    }
    let bad = 0;
    for (let k = 0; k < ref.length; k++) {
      const d = Math.abs((values[k] as number) - (ref[k] as number));
      if (d > maxFeatureDiff) maxFeatureDiff = d;
      if (!within(values[k] as number, ref[k] as number)) bad++;
    }
    if (bad > 0) failures.push(`image ${i}: ${bad} of ${ref.length} feature values outside tolerance`);
  }

  const result = await engine.generate({
    images,
    prompt: reference.prompt,
    maxNewTokens: reference.steps.length,
    outputLogits: true,
  });
  const logits = result.logits ?? [];
  let maxLogitDiff = 0;
  let stepsCompared = 0;
  for (const [k, step] of reference.steps.entries()) {
    const row = logits[k];
    if (!row) {
      failures.push(`step ${k}: the engine stopped after ${logits.length} steps`);
      break;
    }
    let bad = 0;
    step.token_ids.forEach((id, j) => {
      const x = row[id] as number;
      const r = step.logits[j] as number;
      maxLogitDiff = Math.max(maxLogitDiff, Math.abs(x - r));
      if (!within(x, r)) bad++;
    });
    if (bad > 0) failures.push(`step ${k}: ${bad} of ${step.token_ids.length} logits outside tolerance`);
    const lse = logSumExp(row);
    maxLogitDiff = Math.max(maxLogitDiff, Math.abs(lse - step.logsumexp));
    if (!within(lse, step.logsumexp))
      failures.push(`step ${k}: log-sum-exp ${lse}, reference ${step.logsumexp}`);
    stepsCompared++;
    const ours = result.tokenIds[k];
    if (step.margin <= 2 * (atol + rtol * Math.abs(step.logits[0] ?? 0))) {
      notes.push(
        `step ${k}: reference top-2 margin ${step.margin} is within tolerance; later steps not compared`,
      );
      break;
    }
    if (ours !== undefined && ours !== step.argmax) {
      failures.push(`step ${k}: greedy token ${ours}, reference ${step.argmax}`);
      break;
    }
    if (ours === undefined && k < reference.steps.length - 1) {
      failures.push(`step ${k}: the engine stopped (finish ${result.finishReason}), the reference went on`);
      break;
    }
  }
  return { passed: failures.length === 0, failures, notes, maxLogitDiff, maxFeatureDiff, stepsCompared };
}

/** Ids whose logits a reference records for a row: the top `top`, then `spread` evenly spaced others. */
export function recordedIds(row: Float32Array, top = 32, spread = 32): number[] {
  const order = Array.from(row.keys()).sort((a, b) => (row[b] as number) - (row[a] as number));
  const ids = new Set(order.slice(0, top));
  for (let i = 0; i < spread; i++) ids.add(Math.floor(((i + 0.5) * row.length) / spread));
  return [...ids];
}

/**
 * A reference in the golden format computed by our own engine (for testing the comparison, and
 * as a regression record of an engine version). Pixel values must be byte-representable (see
 * PIXEL_SCALE); the step count is `steps`.
 */
export async function engineReference(
  engine: Engine,
  request: { readonly prompt: string; readonly images: readonly GoldenImage[]; readonly steps: number },
): Promise<GoldenReference> {
  const layout = {
    imageTokenId: engine.folder.tokenIds.imageTokenId,
    spatialMergeSize: engine.folder.dims.spatialMergeSize,
  };
  const base = { images: request.images } as Pick<GoldenReference, 'images'>;
  const images = goldenImages(base as GoldenReference);
  const grids = request.images.map((image) => image.grid_thw as ImageGrid);
  const ids = expandImagePlaceholders(engine.tokenizer.encode(request.prompt), grids, layout);
  const { positionIds, ropeDelta } = mropePositions(ids, grids, layout);
  const image_features = [];
  for (const { image } of images) {
    const f = await engine.runner.encodeImage(image);
    image_features.push({ tokens: f.tokens, hidden: f.hidden, f32: encodeF32(toFloat32(f.data)) });
  }
  const result = await engine.generate({
    images,
    prompt: request.prompt,
    maxNewTokens: request.steps,
    outputLogits: true,
  });
  const steps = (result.logits ?? []).map((row) => {
    const token_ids = recordedIds(row);
    const sorted = token_ids.map((id) => row[id] as number).sort((a, b) => b - a);
    return {
      token_ids,
      logits: token_ids.map((id) => row[id] as number),
      logsumexp: logSumExp(row),
      argmax: token_ids[0] as number,
      margin: (sorted[0] as number) - (sorted[1] as number),
    };
  });
  const length = ids.length;
  return {
    format: 'actial-golden/1',
    dtype: engine.folder.dtypes.decoder,
    tolerance: { atol: 1e-3, rtol: 1e-3 },
    prompt: request.prompt,
    images: [...request.images],
    input_ids: ids,
    position_ids: [0, 1, 2].map((r) =>
      Array.from(positionIds.subarray(r * length, (r + 1) * length), Number),
    ),
    rope_delta: ropeDelta,
    image_features,
    steps,
    generated: result.tokenIds,
    producer: { engine: 'actial-ros src/model/golden.ts engineReference' },
  };
}
