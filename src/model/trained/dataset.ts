import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DIRECTION_LABELS, type DirectionLabel } from '../../spatial/direction.js';
import { viewpointLabels } from '../../spatial/labels.js';
import { PairGenerator } from '../../synth/pair.js';
import { SYNTH_DATA_VERSION, seedSplit } from '../../synth/version.js';
import { FLOW_FIELDS, tokenFlow } from './flow.js';
import { buildPromptSet } from './prompts.js';

/**
 * Training sets for the tiny viewpoint model: rendered synthetic pairs, 2x2 average-pooled (the
 * model's vision encoder pools the same way before anything else), and their labels in both
 * directions. Layout of a set folder:
 * - `images.u16`: count x 2 x (size/2) x (size/2) x 3, uint16 little-endian, each value the SUM of
 *   a 2x2 block of rgb8 pixels (so pooling is exact: mean = value / 4);
 * - `labels.u8`: count x 6: forward ego translation, forward yaw, reverse (images swapped) ego
 *   translation, reverse yaw, motion kind, motion direction; labels 0 left, 1 none, 2 right;
 * - `geometry.f32`: count x 4, float32: forward yaw (degrees, + = right) and sideways translation
 *   (metres, + = right), then the same for the reverse direction;
 * - `flow.f32`: count x 2 x tokens x 3, float32: {@link tokenFlow} of the second image's tokens into
 *   the first image, then of the first image's tokens into the second;
 * - `meta.json`: what produced it; `prompts.json`: the tokenized prompt variants.
 */

/** Bumped when the files written for the same options change. */
export const TRAINING_SET_VERSION = 1;

export const POOL = 2;

/** Motion kinds in the order `labels.u8` numbers them. */
export const MOTION_KINDS = ['orbit', 'yaw', 'slide', 'pan-slide', 'still', 'tilt'] as const;

export interface TrainingSetOptions {
  readonly outDir: string;
  readonly seed: number;
  /** Pairs [start, start + count) of the seed. */
  readonly start?: number;
  readonly count: number;
  /** Image side, default 224. */
  readonly size?: number;
  /** Refuse held-out seeds (>= 1e6) unless this is set (for evaluation sets). */
  readonly allowHeldOut?: boolean;
  /** Write labels and geometry only (no rendering, no images.u16). */
  readonly labelsOnly?: boolean;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface TrainingSetSummary {
  readonly outDir: string;
  readonly count: number;
  readonly bytes: number;
  readonly seconds: number;
}

const labelIndex = (label: DirectionLabel): number => DIRECTION_LABELS.indexOf(label);

/** Sums of 2x2 blocks of an rgb8 image: [size/2, size/2, 3] uint16. */
export function poolRgb(rgb: Uint8Array, size: number): Uint16Array {
  const half = size / POOL;
  const out = new Uint16Array(half * half * 3);
  for (let y = 0; y < half; y++) {
    for (let x = 0; x < half; x++) {
      for (let c = 0; c < 3; c++) {
        const at = (row: number, col: number): number => rgb[(row * size + col) * 3 + c] ?? 0;
        out[(y * half + x) * 3 + c] =
          at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1);
      }
    }
  }
  return out;
}

/** Renders pairs of `seed` and writes a training set folder (see the module comment). */
export async function writeTrainingSet(options: TrainingSetOptions): Promise<TrainingSetSummary> {
  const started = performance.now();
  const size = options.size ?? 224;
  const start = options.start ?? 0;
  if (seedSplit(options.seed) === 'held-out' && !options.allowHeldOut) {
    throw new RangeError(`seed ${options.seed} is held out (>= 1000000): never train on it`);
  }
  await mkdir(options.outDir, { recursive: true });
  const generator = new PairGenerator({ seed: options.seed, size });
  const images = options.labelsOnly ? null : await open(join(options.outDir, 'images.u16'), 'w');
  const labels = new Uint8Array(options.count * 6);
  const geometry = new Float32Array(options.count * 4);
  const tokens = (size / 28) * (size / 28);
  const flow = new Float32Array(options.count * 2 * tokens * FLOW_FIELDS);
  let bytes = 0;
  try {
    for (let i = 0; i < options.count; i++) {
      const rendered = images ? generator.pair(start + i) : null;
      const pair = rendered ?? generator.geometry(start + i);
      if (images && rendered) {
        for (const image of [rendered.image1, rendered.image2]) {
          const pooled = poolRgb(image, size);
          const view = new Uint8Array(pooled.buffer, pooled.byteOffset, pooled.byteLength);
          await images.write(view);
          bytes += view.byteLength;
        }
      }
      const reverse = viewpointLabels(pair.worldFromCamera2, pair.worldFromCamera1);
      geometry.set(
        [pair.labels.yawDegrees, pair.labels.translation.x, reverse.yawDegrees, reverse.translation.x],
        i * 4,
      );
      const { scene, worldFromCamera1: first, worldFromCamera2: second } = pair;
      flow.set(tokenFlow(scene, generator.camera, second, first), i * 2 * tokens * FLOW_FIELDS);
      flow.set(tokenFlow(scene, generator.camera, first, second), (i * 2 + 1) * tokens * FLOW_FIELDS);
      labels.set(
        [
          labelIndex(pair.labels.egoTranslation),
          labelIndex(pair.labels.yawRotation),
          labelIndex(reverse.egoTranslation),
          labelIndex(reverse.yawRotation),
          MOTION_KINDS.indexOf(pair.motion.kind),
          labelIndex(pair.motion.direction),
        ],
        i * 6,
      );
      options.onProgress?.(i + 1, options.count);
    }
  } finally {
    await images?.close();
  }
  await writeFile(join(options.outDir, 'labels.u8'), labels);
  await writeFile(join(options.outDir, 'geometry.f32'), new Uint8Array(geometry.buffer));
  await writeFile(join(options.outDir, 'flow.f32'), new Uint8Array(flow.buffer));
  const meta = {
    trainingSetVersion: TRAINING_SET_VERSION,
    synthDataVersion: SYNTH_DATA_VERSION,
    seed: options.seed,
    start,
    count: options.count,
    size,
    pool: POOL,
    imageShape: [2, size / POOL, size / POOL, 3],
    labelColumns: ['egoForward', 'yawForward', 'egoReverse', 'yawReverse', 'motionKind', 'motionDirection'],
    geometryColumns: ['yawDegreesForward', 'translationXForward', 'yawDegreesReverse', 'translationXReverse'],
    flowShape: [2, tokens, FLOW_FIELDS],
    images: !options.labelsOnly,
    labels: DIRECTION_LABELS,
    motionKinds: MOTION_KINDS,
  };
  await writeFile(join(options.outDir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  await writeFile(join(options.outDir, 'prompts.json'), `${JSON.stringify(buildPromptSet())}\n`);
  return {
    outDir: options.outDir,
    count: options.count,
    bytes: bytes + labels.byteLength + geometry.byteLength + flow.byteLength,
    seconds: (performance.now() - started) / 1000,
  };
}
