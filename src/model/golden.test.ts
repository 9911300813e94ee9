import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tinyModelDir } from '../../test/helpers/tiny-model.js';
import { Engine } from './engine.js';
import {
  GOLDEN_FILE,
  compareWithGolden,
  engineReference,
  goldenPixelValues,
  readGoldenReference,
  type GoldenImage,
  type GoldenStep,
  type GoldenReference,
} from './golden.js';
import { variantFolder } from './test-folders.js';
import { loadTransformersReference } from './transformers-reference.js';

/**
 * The golden folder is written by tools/export/golden.py on a machine with torch + transformers
 * (an exported tiny random Qwen2.5-VL and PyTorch's outputs on a fixed two-image prompt). Until
 * one exists the comparison against PyTorch is skipped with a warning; the comparison code itself
 * is tested below against references computed by our engine.
 */
const GOLDEN_DIR = process.env.ACTIAL_GOLDEN_DIR ?? join(process.cwd(), 'models', 'golden-qwen2_5_vl-tiny');
const haveGolden = existsSync(join(GOLDEN_DIR, GOLDEN_FILE));
if (!haveGolden) {
  console.warn(
    `SKIPPED: golden test against PyTorch/transformers: ${join(GOLDEN_DIR, GOLDEN_FILE)} does not exist. ` +
      'Write it with `python3 tools/export/golden.py` on a machine with torch and transformers (tools/export/README.md).',
  );
}

(haveGolden ? describe : describe.skip)(`engine vs the PyTorch golden reference (${GOLDEN_DIR})`, () => {
  it('reproduces the token ids, positions, image features and logits of transformers', async () => {
    const reference = await readGoldenReference(GOLDEN_DIR);
    const engine = await Engine.create({ modelDir: GOLDEN_DIR, dtype: reference.dtype, log: () => {} });
    try {
      const comparison = await compareWithGolden(engine, reference);
      console.log(
        `golden: max logit diff ${comparison.maxLogitDiff}, max feature diff ${comparison.maxFeatureDiff}, ` +
          `${comparison.stepsCompared} steps${comparison.notes.length ? `; ${comparison.notes.join('; ')}` : ''}`,
      );
      expect(comparison.failures).toEqual([]);
      expect(comparison.stepsCompared).toBeGreaterThan(0);
    } finally {
      await engine.dispose();
    }
  });

  it('runs in @huggingface/transformers (JS) too, with the logits and tokens of PyTorch', async () => {
    const reference = await readGoldenReference(GOLDEN_DIR);
    const images = reference.images.map(goldenPixelValues);
    const pixelValues = new Float32Array(images.reduce((n, part) => n + part.length, 0));
    let offset = 0;
    for (const part of images) {
      pixelValues.set(part, offset);
      offset += part.length;
    }
    const transformersJs = await loadTransformersReference(GOLDEN_DIR);
    try {
      const generation = await transformersJs.generate(
        {
          inputIds: reference.input_ids,
          pixelValues,
          grids: reference.images.map((image) => image.grid_thw),
        },
        reference.steps.length,
      );
      const { atol, rtol } = reference.tolerance;
      const off = (row: Float32Array | undefined, step: GoldenStep): number[] =>
        step.token_ids.filter((id, k) => {
          const expected = step.logits[k] as number;
          return !(Math.abs((row?.[id] ?? NaN) - expected) <= atol + rtol * Math.abs(expected));
        });
      expect(reference.steps.map((step, s) => off(generation.logits[s], step))).toEqual(
        reference.steps.map(() => []),
      );
      expect(generation.tokenIds).toEqual(reference.generated);
    } finally {
      await transformersJs.dispose();
    }
  });
});

/** Deterministic pixel bytes for a grid (mulberry32). */
function goldenImage(grid: [number, number, number], seed: number): GoldenImage {
  const bytes = new Uint8Array(grid[0] * grid[1] * grid[2] * 1176);
  let s = seed >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    bytes[i] = ((t ^ (t >>> 14)) >>> 0) & 255;
  }
  return { grid_thw: grid, pixel_values_u8: Buffer.from(bytes).toString('base64') };
}

describe('compareWithGolden (tiny model, reference computed by our engine)', () => {
  let dir: string;
  let engine: Engine;
  let reference: GoldenReference;
  const prompt =
    '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n' +
    '<|vision_start|><|image_pad|><|vision_end|><|vision_start|><|image_pad|><|vision_end|>' +
    'Did the camera move left or right?<|im_end|>\n<|im_start|>assistant\n';

  beforeAll(async () => {
    dir = await tinyModelDir();
    engine = await Engine.create({ modelDir: dir, log: () => {} });
    reference = await engineReference(engine, {
      prompt,
      images: [goldenImage([1, 12, 16], 1), goldenImage([1, 8, 12], 2)],
      steps: 4,
    });
  });

  afterAll(async () => {
    await engine.dispose();
  });

  it('stores pixel values exactly as byte / 64 - 2', () => {
    const values = goldenPixelValues({
      grid_thw: [1, 2, 2],
      pixel_values_u8: Buffer.from([0, 64, 255]).toString('base64'),
    });
    expect(Array.from(values)).toEqual([-2, -1, 255 / 64 - 2]);
  });

  it('passes against a reference of the same engine, read back from reference.json', async () => {
    expect(reference.input_ids.filter((id) => id === 151655)).toHaveLength((12 * 16 + 8 * 12) / 4);
    expect(reference.steps.length).toBeGreaterThan(0);
    const folder = await variantFolder(dir, { [GOLDEN_FILE]: JSON.stringify(reference) });
    try {
      const read = await readGoldenReference(folder.dir);
      const comparison = await compareWithGolden(engine, read);
      expect(comparison.failures).toEqual([]);
      expect(comparison.passed).toBe(true);
      expect(comparison.maxLogitDiff).toBeLessThan(1e-5);
      expect(comparison.maxFeatureDiff).toBeLessThan(1e-6);
      expect(comparison.stepsCompared).toBeGreaterThan(0);
    } finally {
      await folder.remove();
    }
  });

  it('fails when a recorded logit is off by more than the tolerance', async () => {
    const steps = reference.steps.map((step, k) =>
      k === reference.steps.length - 1 || k === 0
        ? { ...step, logits: step.logits.map((v, j) => (j === 5 ? v + 2 * (1e-3 + 1e-3 * Math.abs(v)) : v)) }
        : step,
    );
    const comparison = await compareWithGolden(engine, { ...reference, steps });
    expect(comparison.passed).toBe(false);
    expect(comparison.failures.join('\n')).toMatch(/step 0: 1 of \d+ logits outside tolerance/);
  });

  it('accepts differences within the tolerance', async () => {
    const steps = reference.steps.map((step) => ({
      ...step,
      logits: step.logits.map((v) => v + 0.5 * (1e-3 + 1e-3 * Math.abs(v))),
    }));
    const comparison = await compareWithGolden(engine, { ...reference, steps });
    expect(comparison.failures).toEqual([]);
  });

  it('fails when the token ids, positions or image features differ', async () => {
    const ids = [...reference.input_ids];
    ids[3] = 9;
    expect((await compareWithGolden(engine, { ...reference, input_ids: ids })).failures.join('\n')).toMatch(
      /token ids differ at index 3/,
    );
    const rows = reference.position_ids.map((row) => [...row]);
    (rows[2] as number[])[20] = 999;
    const positions = await compareWithGolden(engine, { ...reference, position_ids: rows, rope_delta: 7 });
    expect(positions.failures.join('\n')).toMatch(/M-RoPE row 2 differs at index 20/);
    expect(positions.failures.join('\n')).toMatch(/rope delta/);
    const [first, ...rest] = reference.image_features;
    if (!first) throw new Error('no features');
    const values = new Float32Array(Buffer.from(first.f32, 'base64').buffer.slice(0));
    values[7] = (values[7] as number) + 0.05;
    const moved = { ...first, f32: Buffer.from(values.buffer).toString('base64') };
    const features = await compareWithGolden(engine, { ...reference, image_features: [moved, ...rest] });
    expect(features.failures).toEqual([
      'image 0: 1 of ' + values.length + ' feature values outside tolerance',
    ]);
  });

  it('fails when the reference generates a different greedy token', async () => {
    const k = reference.steps.findIndex((step) => step.margin > 0.01);
    expect(k).toBeGreaterThanOrEqual(0);
    const steps = reference.steps.map((step, i) => (i === k ? { ...step, argmax: step.argmax + 1 } : step));
    const comparison = await compareWithGolden(engine, { ...reference, steps });
    expect(comparison.failures.join('\n')).toMatch(new RegExp(`step ${k}: greedy token`));
  });
});
