import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIRECTION_LABELS, mirrorLabel } from '../../spatial/direction.js';
import { viewpointLabels } from '../../spatial/labels.js';
import { PairGenerator } from '../../synth/pair.js';
import { SYNTH_DATA_VERSION } from '../../synth/version.js';
import { MOTION_KINDS, TRAINING_SET_VERSION, poolRgb, writeTrainingSet } from './dataset.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'actial-trained-dataset-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('poolRgb', () => {
  it('sums each 2x2 block per channel', () => {
    // Two rows of 4 pixels, (x, y) with r = 10y + x, g = 100, b = 255 - x, stacked twice into 4x4.
    const rgb = new Uint8Array(4 * 2 * 3);
    for (let y = 0; y < 2; y++)
      for (let x = 0; x < 4; x++) rgb.set([10 * y + x, 100, 255 - x], (y * 4 + x) * 3);
    const square = new Uint8Array(4 * 4 * 3);
    square.set(rgb);
    square.set(rgb, rgb.length);
    const pooled = poolRgb(square, 4);
    expect(Array.from(pooled.subarray(0, 6))).toEqual([
      0 + 1 + 10 + 11,
      400,
      255 + 254 + 255 + 254,
      2 + 3 + 12 + 13,
      400,
      253 + 252 + 253 + 252,
    ]);
  });
});

describe('writeTrainingSet', () => {
  it('writes pooled images and labels in both directions for the pairs of a seed', async () => {
    const outDir = join(root, 'set');
    const summary = await writeTrainingSet({ outDir, seed: 21, start: 5, count: 2, size: 56 });
    expect(summary.count).toBe(2);
    const images = await readFile(join(outDir, 'images.u16'));
    expect(images.byteLength).toBe(2 * 2 * 28 * 28 * 3 * 2);
    const labels = new Uint8Array(await readFile(join(outDir, 'labels.u8')));
    const geometry = new Float32Array((await readFile(join(outDir, 'geometry.f32'))).buffer.slice(0));
    const generator = new PairGenerator({ seed: 21, size: 56 });
    for (let i = 0; i < 2; i++) {
      const pair = generator.pair(5 + i);
      const pooled = new Uint16Array(images.buffer.slice(images.byteOffset), 0, images.byteLength / 2);
      const size = 28 * 28 * 3;
      expect(Array.from(pooled.subarray(2 * i * size, (2 * i + 1) * size))).toEqual(
        Array.from(poolRgb(pair.image1, 56)),
      );
      expect(Array.from(pooled.subarray((2 * i + 1) * size, (2 * i + 2) * size))).toEqual(
        Array.from(poolRgb(pair.image2, 56)),
      );
      const row = Array.from(labels.subarray(i * 6, i * 6 + 6));
      expect(row[0]).toBe(DIRECTION_LABELS.indexOf(pair.labels.egoTranslation));
      expect(row[1]).toBe(DIRECTION_LABELS.indexOf(pair.labels.yawRotation));
      // Swapping the images mirrors both answers (checked against the relative pose, not assumed).
      expect(row[2]).toBe(DIRECTION_LABELS.indexOf(mirrorLabel(pair.labels.egoTranslation)));
      expect(row[3]).toBe(DIRECTION_LABELS.indexOf(mirrorLabel(pair.labels.yawRotation)));
      expect(row[4]).toBe(MOTION_KINDS.indexOf(pair.motion.kind));
      expect(geometry[i * 4]).toBeCloseTo(pair.labels.yawDegrees, 3);
      const reverse = viewpointLabels(pair.worldFromCamera2, pair.worldFromCamera1);
      expect(geometry[i * 4 + 2]).toBeCloseTo(reverse.yawDegrees, 3);
      expect(geometry[i * 4 + 3]).toBeCloseTo(reverse.translation.x, 5);
    }
    const meta = JSON.parse(await readFile(join(outDir, 'meta.json'), 'utf8')) as Record<string, unknown>;
    expect(meta).toMatchObject({
      trainingSetVersion: TRAINING_SET_VERSION,
      synthDataVersion: SYNTH_DATA_VERSION,
      seed: 21,
      start: 5,
      count: 2,
      imageShape: [2, 28, 28, 3],
    });
    const prompts = JSON.parse(await readFile(join(outDir, 'prompts.json'), 'utf8')) as {
      questions: unknown[];
    };
    expect(prompts.questions).toHaveLength(36);
  });

  it('writes the same labels without rendering in labels-only mode', async () => {
    const full = join(root, 'set');
    const only = join(root, 'labels');
    await writeTrainingSet({ outDir: only, seed: 21, start: 5, count: 2, size: 56, labelsOnly: true });
    expect(await readFile(join(only, 'labels.u8'))).toEqual(await readFile(join(full, 'labels.u8')));
    await expect(stat(join(only, 'images.u16'))).rejects.toThrow();
  });

  it('refuses held-out seeds unless asked', async () => {
    await expect(writeTrainingSet({ outDir: join(root, 'held'), seed: 1_000_000, count: 1 })).rejects.toThrow(
      /held out/,
    );
  });
});
