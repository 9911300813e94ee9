import sharp from 'sharp';
import { decodeCompressedImage } from './compressed.js';
import { ImageDecodeError } from './errors.js';
import { imageMean, imageStd, PATCH_ROW_LENGTH, preprocess, type PreprocessOptions } from './preprocess.js';
import {
  createReferenceProcessorInWorker,
  pillowBicubicResize,
  syntheticImage,
  type ReferenceProcessor,
} from './reference.js';
import { smartResize } from './smart-resize.js';
import type { RgbImage } from './types.js';

const qwenDefaults = { minPixels: 3136, maxPixels: 12845056 };
const small = { minPixels: 3136, maxPixels: 448 * 448 };

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d > max) max = d;
    else if (-d > max) max = -d;
  }
  return max;
}

function meanAbsDifference(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    sum += d < 0 ? -d : d;
  }
  return sum / a.length;
}

describe('preprocess: layout', () => {
  it('writes pixel_values in the row and element order of DESIGN.md section 3', async () => {
    // 56x84 is a multiple of 28 within the limits: no resize, so every value is known.
    const image = syntheticImage(56, 84, 5);
    const out = await preprocess(image, qwenDefaults);
    expect(out.gridThw).toEqual([1, 6, 4]);
    expect([out.resizedWidth, out.resizedHeight]).toEqual([56, 84]);
    expect(out.pixelValues.length).toBe(24 * PATCH_ROW_LENGTH);
    const blocksH = 6 / 2;
    const blocksW = 4 / 2;
    for (let hb = 0; hb < blocksH; hb++) {
      for (let wb = 0; wb < blocksW; wb++) {
        for (let mh = 0; mh < 2; mh++) {
          for (let mw = 0; mw < 2; mw++) {
            const p = ((hb * blocksW + wb) * 2 + mh) * 2 + mw;
            for (let c = 0; c < 3; c++) {
              for (let tp = 0; tp < 2; tp++) {
                for (let y = 0; y < 14; y++) {
                  for (let x = 0; x < 14; x++) {
                    const e = ((c * 2 + tp) * 14 + y) * 14 + x;
                    const row = (2 * hb + mh) * 14 + y;
                    const col = (2 * wb + mw) * 14 + x;
                    const byte = image.data[(row * 56 + col) * 3 + c] as number;
                    const expected = (byte / 255 - (imageMean[c] as number)) / (imageStd[c] as number);
                    const got = out.pixelValues[p * PATCH_ROW_LENGTH + e] as number;
                    if (Math.abs(got - expected) > 1e-6) {
                      throw new Error(`p ${p} e ${e}: ${got} != ${expected}`);
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  });

  it('resizes to the smart_resize size', async () => {
    const out = await preprocess(syntheticImage(1280, 720), small);
    expect([out.resizedWidth, out.resizedHeight]).toEqual([588, 336]);
    expect(out.gridThw).toEqual([1, 24, 42]);
    expect(out.pixelValues.length).toBe(24 * 42 * PATCH_ROW_LENGTH);
  });

  it("'pillow' (the default) is Pillow's bicubic resize followed by normalisation, exactly", async () => {
    const image = syntheticImage(333, 517, 9);
    const { width, height } = smartResize(517, 333, small);
    const viaPillow = await preprocess(pillowBicubicResize(image, width, height), small);
    const out = await preprocess(image, small);
    expect(maxAbsDifference(out.pixelValues, viaPillow.pixelValues)).toBe(0);
  });

  it.each([
    ['640x480', 640, 480, small],
    ['1920x1080', 1920, 1080, small],
    ['3840x2160 (libvips pre-shrinks by 2)', 3840, 2160, small],
  ])("'fast' stays within 5/255 of Pillow when shrinking %s", async (_name, width, height, limits) => {
    const image = syntheticImage(width, height, 3);
    const pillow = await preprocess(image, limits);
    const fast = await preprocess(image, { ...limits, resize: 'fast' });
    // One level of 255 is 1/255/std, at most 0.0150 in normalised units (green has the smallest std).
    expect(maxAbsDifference(pillow.pixelValues, fast.pixelValues)).toBeLessThanOrEqual(
      (5 / 255 / imageStd[1]) * 1.001,
    );
  });

  it('puts the same pixel values in shared memory when asked', async () => {
    const image = syntheticImage(130, 90, 4);
    const plain = await preprocess(image, small);
    const shared = await preprocess(image, { ...small, sharedMemory: true });
    expect(plain.pixelValues.buffer).toBeInstanceOf(ArrayBuffer);
    expect(shared.pixelValues.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Float32Array.from(shared.pixelValues)).toEqual(plain.pixelValues);
    expect(shared.gridThw).toEqual(plain.gridThw);
  });

  it("'fast' falls back to Pillow when a side grows", async () => {
    const image = syntheticImage(333, 517, 4);
    const pillow = await preprocess(image, small);
    const fast = await preprocess(image, { ...small, resize: 'fast' });
    expect(maxAbsDifference(pillow.pixelValues, fast.pixelValues)).toBe(0);
  });
});

describe('preprocess: against @huggingface/transformers Qwen2VLImageProcessor', () => {
  const processors = new Map<string, ReferenceProcessor>();

  async function reference(limits: { minPixels: number; maxPixels: number }): Promise<ReferenceProcessor> {
    const key = `${limits.minPixels}/${limits.maxPixels}`;
    let processor = processors.get(key);
    if (processor === undefined) {
      processor = await createReferenceProcessorInWorker(limits);
      processors.set(key, processor);
    }
    return processor;
  }

  afterAll(async () => {
    for (const processor of processors.values()) await processor.dispose();
  });

  const sizes: [string, number, number, typeof small, [number, number, number]][] = [
    ['448x448', 448, 448, qwenDefaults, [1, 32, 32]],
    ['640x480 -> 644x476', 640, 480, qwenDefaults, [1, 34, 46]],
    ['640x480 under 448*448', 640, 480, small, [1, 26, 36]],
    ['1280x720', 1280, 720, qwenDefaults, [1, 52, 92]],
    ['1280x720 under 448*448', 1280, 720, small, [1, 24, 42]],
    ['odd 333x517', 333, 517, small, [1, 36, 24]],
    ['odd 999x101', 999, 101, qwenDefaults, [1, 8, 72]],
    ['tiny 20x30, scaled up', 20, 30, qwenDefaults, [1, 6, 4]],
    ['tiny 10x10, scaled up', 10, 10, qwenDefaults, [1, 4, 4]],
  ];

  it.each(sizes)('%s: same grid, sizes and tensor shape', async (_name, width, height, limits, grid) => {
    const image = syntheticImage(width, height, 2);
    const ours = await preprocess(image, limits);
    const theirs = await (await reference(limits)).processRgb(image);
    expect(ours.gridThw).toEqual(grid);
    expect(theirs.gridThw).toEqual(grid);
    expect(ours.pixelValues.length).toBe(theirs.pixelValues.length);
  });

  it('640x480 gives 391 image tokens', async () => {
    const ours = await preprocess(syntheticImage(640, 480), qwenDefaults);
    expect((ours.gridThw[1] * ours.gridThw[2]) / 4).toBe(391);
  });

  it.each([
    ['448x448', 448, 448],
    ['644x476', 644, 476],
    ['56x1400', 56, 1400],
  ])(
    '%s (no resize needed): identical values, isolating normalise + patchify',
    async (_name, width, height) => {
      const image = syntheticImage(width, height, 8);
      const ours = await preprocess(image, qwenDefaults);
      const theirs = await (await reference(qwenDefaults)).processRgb(image);
      expect(maxAbsDifference(ours.pixelValues, theirs.pixelValues)).toBeLessThanOrEqual(1e-5);
    },
  );

  it.each(sizes)(
    "%s with resize 'transformersjs': identical values",
    async (_name, width, height, limits) => {
      const image = syntheticImage(width, height, 6);
      const ours = await preprocess(image, { ...limits, resize: 'transformersjs' });
      const theirs = await (await reference(limits)).processRgb(image);
      expect(maxAbsDifference(ours.pixelValues, theirs.pixelValues)).toBeLessThanOrEqual(1e-5);
    },
  );

  it('decodes a JPEG to the same pixels as transformers.js (RawImage.fromBlob) does', async () => {
    const image = syntheticImage(640, 480, 12);
    const jpeg = new Uint8Array(
      await sharp(image.data, { raw: { width: 640, height: 480, channels: 3 } })
        .jpeg({ quality: 85 })
        .toBuffer(),
    );
    const decoded = await decodeCompressedImage({ format: 'bgr8; jpeg compressed bgr8', data: jpeg });
    const ours = await preprocess(decoded, { ...small, resize: 'transformersjs' });
    const theirs = await (await reference(small)).processEncoded(jpeg);
    expect(theirs.gridThw).toEqual(ours.gridThw);
    expect(maxAbsDifference(ours.pixelValues, theirs.pixelValues)).toBeLessThanOrEqual(1e-5);
  });

  /**
   * With the default Pillow resize the two differ where transformers.js' non-antialiased affine resize
   * aliases: on these photo-like images at most ~0.9 (about 60/255) per value when shrinking 1920x1080 to
   * 588x336, mean under 0.08; with no resize they are identical (above).
   */
  it.each([
    ['640x480', 640, 480, small, 0.5, 0.03],
    ['1280x720', 1280, 720, small, 0.8, 0.06],
    ['1920x1080', 1920, 1080, small, 1.0, 0.08],
    ['640x480 -> 644x476', 640, 480, qwenDefaults, 0.5, 0.03],
  ] as [string, number, number, PreprocessOptions, number, number][])(
    '%s with the default resize: within the documented bound',
    async (_name, width, height, limits, maxBound, meanBound) => {
      const image = syntheticImage(width, height, 7);
      const ours = await preprocess(image, limits);
      const theirs = await (await reference(limits)).processRgb(image);
      expect(maxAbsDifference(ours.pixelValues, theirs.pixelValues)).toBeLessThanOrEqual(maxBound);
      expect(meanAbsDifference(ours.pixelValues, theirs.pixelValues)).toBeLessThanOrEqual(meanBound);
    },
  );
});

describe('preprocess: bad input', () => {
  const image = syntheticImage(8, 8);
  const cases: [string, RgbImage, PreprocessOptions, string, RegExp][] = [
    ['zero width', { ...image, width: 0 }, qwenDefaults, 'zero_size', /width 0/],
    [
      'short data',
      { ...image, data: image.data.subarray(0, 100) },
      qwenDefaults,
      'short_data',
      /100 bytes < width\*height\*3 = 192 for 8x8/,
    ],
    [
      'extreme aspect',
      { width: 402, height: 2, data: new Uint8Array(402 * 2 * 3) },
      qwenDefaults,
      'bad_aspect',
      /402x2: aspect ratio 201.0/,
    ],
    ['maxPixels below minPixels', image, { minPixels: 5000, maxPixels: 100 }, 'bad_option', /maxPixels 100/],
    [
      'unknown resize',
      image,
      { ...qwenDefaults, resize: 'lanczos' as 'pillow' },
      'bad_option',
      /resize "lanczos" is not one of 'pillow', 'fast', 'transformersjs'/,
    ],
  ];

  it.each(cases)('%s', async (_name, input, options, code, message) => {
    const error = await preprocess(input, options).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ImageDecodeError);
    expect((error as ImageDecodeError).code).toBe(code);
    expect((error as ImageDecodeError).message).toMatch(message);
  });
});
