import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { syntheticImage } from './reference.js';
import { resizeBicubicPillow, resizeBicubicPillowJs, simdResizeAvailable } from './resample.js';
import { RESAMPLE_WASM_BASE64 } from './resample-wasm.js';

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

  // Shrinking (antialiased, up to 2x+ taps), enlarging, one axis only, odd sizes, one pixel, and a
  // row length that is a multiple of 16 bytes and one that is not.
  it.each([
    [640, 480, 504, 364],
    [1280, 720, 588, 336],
    [1920, 1080, 588, 336],
    [333, 517, 336, 504],
    [20, 30, 56, 84],
    [64, 48, 64, 20],
    [64, 48, 28, 48],
    [90, 7, 3, 1],
    [5, 5, 1, 1],
    [1, 1, 28, 28],
    [16, 16, 32, 8],
    [7, 3, 11, 13],
  ])('gives the bytes of the JavaScript passes for %ix%i -> %ix%i', (width, height, outWidth, outHeight) => {
    const image = syntheticImage(width, height, width * 7 + height);
    const simd = resizeBicubicPillow(image.data, width, height, outWidth, outHeight);
    const js = resizeBicubicPillowJs(image.data, width, height, outWidth, outHeight);
    expect(simd.length).toBe(outWidth * outHeight * 3);
    expect(Buffer.from(simd).equals(Buffer.from(js))).toBe(true);
  });

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
      const js = resizeBicubicPillowJs(data, width, height, outWidth, outHeight);
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
