import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pillowBicubicResize, syntheticImage } from './reference.js';
import { resizeBicubicPillow, simdResizeAvailable } from './resample.js';
import { RESAMPLE_WASM_BASE64 } from './resample-wasm.js';

/**
 * Resizes checked against Pillow's algorithm and between the SIMD and JavaScript passes: shrinking
 * (antialiased, up to 2x+ taps), enlarging, one axis only, odd sizes, one pixel, and rows whose
 * length is and is not a multiple of 16 bytes.
 */
const SIZES: [number, number, number, number][] = [
  [64, 48, 64, 48],
  [64, 48, 28, 20],
  [64, 48, 64, 20],
  [64, 48, 28, 48],
  [333, 517, 336, 504],
  [20, 30, 56, 84],
  [100, 60, 112, 56],
  [640, 480, 504, 364],
  [1920, 1080, 588, 336],
  [90, 7, 3, 1],
  [5, 5, 1, 1],
  [1, 1, 28, 28],
  [16, 16, 32, 8],
  [7, 3, 11, 13],
];

/**
 * Pillow's own accuracy vectors (Tests/test_image_resample.py, TestImagingCoreResampleAccuracy): a square
 * with two bright (0xe1) and two dark quadrants, resized with BICUBIC; `quarter` is the expected top-left
 * quarter in hex, the rest follows by symmetry (mirrored corners equal, adjacent ones inverted).
 */
function pillowCase(size: number, colour: number): Uint8Array {
  const data = new Uint8Array(size * size * 3);
  const half = size / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const bright = (x < half && y < half) || (x >= half && y >= half);
      data.fill(bright ? colour : 255 - colour, (y * size + x) * 3, (y * size + x) * 3 + 3);
    }
  }
  return data;
}

function pillowSample(quarter: string, size: number): number[] {
  const values = quarter.split(/\s+/).map((hex) => parseInt(hex, 16));
  const half = size / 2;
  const out = new Array<number>(size * size).fill(-1);
  for (let y = 0; y < half; y++) {
    for (let x = 0; x < half; x++) {
      const v = values[y * half + x] as number;
      out[y * size + x] = v;
      out[(size - y - 1) * size + (size - x - 1)] = v;
      out[(size - y - 1) * size + x] = 255 - v;
      out[y * size + (size - x - 1)] = 255 - v;
    }
  }
  return out;
}

describe('resizeBicubicPillow', () => {
  it.each([
    ['reduce 12 -> 6', 12, 6, 'e1 e3 d4 e3 e5 d6 d4 d6 c9'],
    ['enlarge 4 -> 8', 4, 8, 'e1 e5 ee b9 e5 e9 f3 bc ee f3 fd c1 b9 bc c1 a2'],
  ])("matches Pillow's test vector: %s", (_name, from, to, quarter) => {
    const out = resizeBicubicPillow(pillowCase(from, 0xe1), from, from, to, to);
    const expected = pillowSample(quarter, to);
    for (let c = 0; c < 3; c++)
      expect(Array.from({ length: to * to }, (_, i) => out[i * 3 + c])).toEqual(expected);
  });

  it.each(SIZES)(
    'equals the plain transcription of Resample.c for %ix%i -> %ix%i',
    (width, height, outWidth, outHeight) => {
      const image = syntheticImage(width, height, width * 31 + height);
      const fast = resizeBicubicPillow(image.data, width, height, outWidth, outHeight);
      const plain = pillowBicubicResize(image, outWidth, outHeight);
      expect(fast.length).toBe(outWidth * outHeight * 3);
      expect(Buffer.from(fast).equals(Buffer.from(plain.data))).toBe(true);
    },
  );

  it.each([
    [new Uint8Array(10), 4, 4, 2, 2, 'resize input has 10 bytes < width*height*3 = 48 for 4x4'],
    [new Uint8Array(48), 4, 4, 0, 2, 'resize outWidth 0 is not a positive integer'],
    [new Uint8Array(48), 4, 4.5, 2, 2, 'resize height 4.5 is not a positive integer'],
  ])('refuses bad sizes, naming them: %#', (data, width, height, outWidth, outHeight, message) => {
    for (const simd of [true, false]) {
      expect(() => resizeBicubicPillow(data, width, height, outWidth, outHeight, { simd })).toThrow(message);
    }
  });

  it('keeps a flat colour flat', () => {
    const data = new Uint8Array(50 * 40 * 3);
    for (let i = 0; i < data.length; i += 3) data.set([250, 3, 128], i);
    const out = resizeBicubicPillow(data, 50, 40, 84, 28);
    for (let i = 0; i < out.length; i += 3) expect(Array.from(out.subarray(i, i + 3))).toEqual([250, 3, 128]);
  });
});

interface WasmBuild {
  compileWat(path: string): Promise<Uint8Array>;
}

describe('resample.wat (the WebAssembly SIMD resize)', () => {
  it('is what resample-wasm.ts holds (run `npm run build:wasm` after editing it)', async () => {
    const script = pathToFileURL(join(process.cwd(), 'scripts', 'build-wasm.mjs')).href;
    const build = (await import(script)) as WasmBuild;
    const compiled = await build.compileWat(join(process.cwd(), 'src', 'image', 'resample.wat'));
    expect(Buffer.from(compiled).toString('base64')).toBe(RESAMPLE_WASM_BASE64);
  });

  it('runs here (Node 20 has WebAssembly SIMD)', () => {
    expect(simdResizeAvailable()).toBe(true);
  });

  it.each(SIZES)(
    'gives the bytes of the JavaScript passes for %ix%i -> %ix%i',
    (width, height, outWidth, outHeight) => {
      const image = syntheticImage(width, height, width * 7 + height);
      const simd = resizeBicubicPillow(image.data, width, height, outWidth, outHeight);
      const js = resizeBicubicPillow(image.data, width, height, outWidth, outHeight, { simd: false });
      expect(simd.length).toBe(outWidth * outHeight * 3);
      expect(Buffer.from(simd).equals(Buffer.from(js))).toBe(true);
    },
  );

  it('gives the JavaScript bytes for random images and sizes, reusing its memory as sizes change', () => {
    let seed = 12345;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return 1 + (seed % n);
    };
    for (let i = 0; i < 40; i++) {
      const [width, height, outWidth, outHeight] = [next(300), next(300), next(300), next(300)];
      const data = new Uint8Array(width * height * 3);
      for (let j = 0; j < data.length; j++) data[j] = next(256) - 1;
      const simd = resizeBicubicPillow(data, width, height, outWidth, outHeight);
      const js = resizeBicubicPillow(data, width, height, outWidth, outHeight, { simd: false });
      expect([i, width, height, outWidth, outHeight, Buffer.from(simd).equals(Buffer.from(js))]).toEqual([
        i,
        width,
        height,
        outWidth,
        outHeight,
        true,
      ]);
    }
  });

  it('leaves the input alone and returns a buffer of its own', () => {
    const image = syntheticImage(40, 30, 5);
    const before = image.data.slice();
    const out = resizeBicubicPillow(image.data, 40, 30, 28, 28);
    expect(Buffer.from(image.data).equals(Buffer.from(before))).toBe(true);
    const again = resizeBicubicPillow(image.data, 40, 30, 56, 28);
    expect(out.length).toBe(28 * 28 * 3);
    expect(again.length).toBe(56 * 28 * 3);
    expect(out.buffer).not.toBe(again.buffer);
  });
});
