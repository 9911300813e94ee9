/**
 * Pillow's bicubic resize for interleaved 8-bit RGB, integer for integer (Pillow's Resample.c): separable,
 * horizontal pass then vertical, Catmull-Rom kernel (a = -0.5) widened by the scale when shrinking
 * (antialiasing), pixel-centre aligned, 22-bit fixed-point weights with rounding after each pass.
 * This is what the Python Qwen2.5-VL image processor runs (PIL.Image.resize(size, BICUBIC)).
 */

import { RESAMPLE_WASM_BASE64 } from './resample-wasm.js';

// Hot loops use module-level aliases: inside a vm context (jest) every global lookup such as `Math` is slow.
const { imul } = Math;

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);
const SUPPORT = 2;

function bicubic(t: number): number {
  const x = t < 0 ? -t : t;
  if (x < 1) return (1.5 * x - 2.5) * x * x + 1;
  if (x < 2) return ((-0.5 * x + 2.5) * x - 4) * x + 2;
  return 0;
}

/** Per output pixel: first input index, tap count, and `taps` fixed-point weights at `index * taps`. */
interface Coefficients {
  readonly first: Int32Array;
  readonly count: Int32Array;
  readonly weights: Int32Array;
  readonly taps: number;
}

function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = scale > 1 ? scale : 1;
  const support = SUPPORT * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const k = new Float64Array(taps);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let x = 0; x < n; x++) {
      const w = bicubic((x + xmin - center + 0.5) / filterScale);
      k[x] = w;
      sum += w;
    }
    for (let x = 0; x < n; x++) {
      const w = sum !== 0 ? (k[x] as number) / sum : (k[x] as number);
      weights[xx * taps + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    first[xx] = xmin;
    count[xx] = n;
  }
  return { first, count, weights, taps };
}

function resizeHorizontal(
  src: Uint8Array,
  srcWidth: number,
  rowStart: number,
  rows: number,
  outWidth: number,
  c: Coefficients,
): Uint8Array {
  const out = new Uint8Array(outWidth * rows * 3);
  const { first, count, weights, taps } = c;
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const row = (rowStart + y) * srcWidth * 3;
    for (let x = 0; x < outWidth; x++) {
      // Pillow sums in int32; the weights are bounded so that no partial sum overflows.
      let r = HALF;
      let g = HALF;
      let b = HALF;
      let s = row + (first[x] as number) * 3;
      const k0 = x * taps;
      const k1 = k0 + (count[x] as number);
      for (let k = k0; k < k1; k++, s += 3) {
        const w = weights[k] as number;
        r = (r + imul(src[s] as number, w)) | 0;
        g = (g + imul(src[s + 1] as number, w)) | 0;
        b = (b + imul(src[s + 2] as number, w)) | 0;
      }
      r >>= PRECISION_BITS;
      g >>= PRECISION_BITS;
      b >>= PRECISION_BITS;
      out[o++] = r < 0 ? 0 : r > 255 ? 255 : r;
      out[o++] = g < 0 ? 0 : g > 255 ? 255 : g;
      out[o++] = b < 0 ? 0 : b > 255 ? 255 : b;
    }
  }
  return out;
}

/** Taps of the filters the vertical pass sums in one expression (all of them when shrinking at most 1.75x). */
const SHORT_FILTER = 8;

/**
 * One output row of the vertical pass for a filter of at most {@link SHORT_FILTER} taps: each byte is
 * one sum of 8 products (zero weights past the filter, on its last row), in registers instead of a
 * running sum in memory per tap. Pillow's int32 sums never overflow (|sum| <= 255 * sum|w| < 2^31), so
 * these float64 sums of integer products are exact and equal its.
 */
function shortFilterRow(
  src: Uint8Array,
  out: Uint8Array,
  o: number,
  rowBytes: number,
  row: number,
  n: number,
  weights: Int32Array,
  k0: number,
): void {
  const w = (k: number): number => (k < n ? (weights[k0 + k] as number) : 0);
  const r = (k: number): number => row + (k < n ? k : n - 1) * rowBytes;
  const [w0, w1, w2, w3, w4, w5, w6, w7] = [w(0), w(1), w(2), w(3), w(4), w(5), w(6), w(7)];
  const [r0, r1, r2, r3, r4, r5, r6, r7] = [r(0), r(1), r(2), r(3), r(4), r(5), r(6), r(7)];
  for (let i = 0; i < rowBytes; i++) {
    const v =
      (HALF +
        (src[r0 + i] as number) * w0 +
        (src[r1 + i] as number) * w1 +
        (src[r2 + i] as number) * w2 +
        (src[r3 + i] as number) * w3 +
        (src[r4 + i] as number) * w4 +
        (src[r5 + i] as number) * w5 +
        (src[r6 + i] as number) * w6 +
        (src[r7 + i] as number) * w7) >>
      PRECISION_BITS;
    out[o + i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}

function resizeVertical(
  src: Uint8Array,
  width: number,
  rowOffset: number,
  outHeight: number,
  c: Coefficients,
) {
  const rowBytes = width * 3;
  const out = new Uint8Array(rowBytes * outHeight);
  const sums = new Int32Array(rowBytes);
  const { first, count, weights, taps } = c;
  for (let y = 0; y < outHeight; y++) {
    const k0 = y * taps;
    const k1 = k0 + (count[y] as number);
    let row = ((first[y] as number) - rowOffset) * rowBytes;
    if (k1 - k0 <= SHORT_FILTER) {
      shortFilterRow(src, out, y * rowBytes, rowBytes, row, k1 - k0, weights, k0);
      continue;
    }
    // Every output has at least one tap; the first one initialises the sums (Int32Array stores wrap like int32).
    const w0 = weights[k0] as number;
    for (let i = 0; i < rowBytes; i++) sums[i] = HALF + imul(src[row + i] as number, w0);
    row += rowBytes;
    for (let k = k0 + 1; k < k1; k++, row += rowBytes) {
      const w = weights[k] as number;
      for (let i = 0; i < rowBytes; i++) sums[i] = (sums[i] as number) + imul(src[row + i] as number, w);
    }
    let o = y * rowBytes;
    for (let i = 0; i < rowBytes; i++) {
      const v = (sums[i] as number) >> PRECISION_BITS;
      out[o++] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

/** A resize of interleaved RGB: the input and output sizes, pixels. */
interface ResizeSize {
  readonly width: number;
  readonly height: number;
  readonly outWidth: number;
  readonly outHeight: number;
}

/**
 * What both implementations do: the coefficients of each pass that changes a side, and the input
 * rows the vertical pass reads (only those need a horizontal pass).
 */
interface ResizePlan {
  readonly horizontal: Coefficients | undefined;
  readonly vertical: Coefficients | undefined;
  readonly rowStart: number;
  readonly rows: number;
}

function planResize({ width, height, outWidth, outHeight }: ResizeSize): ResizePlan {
  const horizontal = outWidth !== width ? coefficients(width, outWidth) : undefined;
  const vertical = outHeight !== height ? coefficients(height, outHeight) : undefined;
  if (vertical === undefined) return { horizontal, vertical, rowStart: 0, rows: height };
  const rowStart = vertical.first[0] as number;
  const last = outHeight - 1;
  const rows = (vertical.first[last] as number) + (vertical.count[last] as number) - rowStart;
  return { horizontal, vertical, rowStart, rows };
}

/**
 * Resizes interleaved RGB (width*3 bytes per row) exactly as Pillow's `Image.resize((w, h), Image.BICUBIC)`:
 * with the WebAssembly SIMD passes of resample.wat (about 5x faster), or in JavaScript where WebAssembly
 * SIMD is not available or `options.simd` is false (the reference the SIMD passes are tested against).
 * Both give the same bytes.
 */
export function resizeBicubicPillow(
  src: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
  options?: { readonly simd?: boolean },
): Uint8Array {
  for (const [name, value] of Object.entries({ width, height, outWidth, outHeight })) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`resize ${name} ${value} is not a positive integer`);
    }
  }
  if (src.length < width * height * 3) {
    throw new RangeError(
      `resize input has ${src.length} bytes < width*height*3 = ${width * height * 3} for ${width}x${height}`,
    );
  }
  const size = { width, height, outWidth, outHeight };
  const kernels = options?.simd === false ? null : simdKernels();
  return kernels ? resizeWithKernels(kernels, src, size) : resizeWithJs(src, size);
}

function resizeWithJs(src: Uint8Array, size: ResizeSize): Uint8Array {
  const { horizontal, vertical, rowStart, rows } = planResize(size);
  const { width, outWidth, outHeight } = size;
  const resized = horizontal ? resizeHorizontal(src, width, rowStart, rows, outWidth, horizontal) : src;
  if (vertical === undefined) return resized;
  return resizeVertical(resized, outWidth, resized === src ? 0 : rowStart, outHeight, vertical);
}

/** The parts of the WebAssembly global used here (the project's TypeScript libraries do not declare it). */
interface WebAssemblyApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object) => { readonly exports: object };
}

/** The exports of resample.wat. */
interface SimdKernels {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  horizontal(
    src: number,
    srcRowBytes: number,
    rows: number,
    outWidth: number,
    firstBytes: number,
    counts: number,
    weights: number,
    taps: number,
    out: number,
  ): void;
  vertical(
    src: number,
    rowBytes: number,
    outHeight: number,
    firstRows: number,
    counts: number,
    weights: number,
    taps: number,
    out: number,
  ): void;
}

let loadedKernels: SimdKernels | null | undefined;

/** resample.wat instantiated once per thread, or null where WebAssembly SIMD is unavailable. */
function simdKernels(): SimdKernels | null {
  if (loadedKernels === undefined) {
    try {
      const wasm = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
      if (!wasm) throw new Error('no WebAssembly');
      const instance = new wasm.Instance(new wasm.Module(Buffer.from(RESAMPLE_WASM_BASE64, 'base64')));
      loadedKernels = instance.exports as SimdKernels;
    } catch {
      loadedKernels = null;
    }
  }
  return loadedKernels;
}

/** Whether resizes run on the WebAssembly SIMD passes (false: the JavaScript ones). */
export function simdResizeAvailable(): boolean {
  return simdKernels() !== null;
}

/** Slack after every buffer in WebAssembly memory: the passes read and write up to 15 bytes past the end. */
const SLACK = 16;

/** Bump allocator over the kernels' memory, which grows as needed and is reused by the next resize. */
class WasmArena {
  #end = 0;

  reserve(bytes: number): number {
    const offset = this.#end;
    this.#end = (offset + bytes + SLACK + 15) & ~15;
    return offset;
  }

  get bytes(): number {
    return this.#end;
  }
}

function resizeWithKernels(kernels: SimdKernels, src: Uint8Array, size: ResizeSize): Uint8Array {
  const { horizontal, vertical, rowStart, rows } = planResize(size);
  const { width, height, outWidth, outHeight } = size;
  if (!horizontal && !vertical) return src.slice(0, width * height * 3);
  const arena = new WasmArena();
  const input = arena.reserve(rows * width * 3);
  const middle = horizontal && vertical ? arena.reserve(rows * outWidth * 3) : input;
  const output = arena.reserve(outWidth * outHeight * 3);
  const hFirst = horizontal ? arena.reserve(outWidth * 4) : 0;
  const hCount = horizontal ? arena.reserve(outWidth * 4) : 0;
  const hWeights = horizontal ? arena.reserve(horizontal.weights.byteLength) : 0;
  const vFirst = vertical ? arena.reserve(outHeight * 4) : 0;
  const vCount = vertical ? arena.reserve(outHeight * 4) : 0;
  const vWeights = vertical ? arena.reserve(vertical.weights.byteLength) : 0;
  const { memory } = kernels;
  if (memory.buffer.byteLength < arena.bytes) {
    memory.grow(Math.ceil((arena.bytes - memory.buffer.byteLength) / 65536));
  }
  const bytes = new Uint8Array(memory.buffer);
  const ints = new Int32Array(memory.buffer);
  bytes.set(src.subarray(rowStart * width * 3, (rowStart + rows) * width * 3), input);
  if (horizontal) {
    for (let x = 0; x < outWidth; x++) ints[hFirst / 4 + x] = (horizontal.first[x] as number) * 3;
    ints.set(horizontal.count, hCount / 4);
    ints.set(horizontal.weights, hWeights / 4);
    const target = vertical ? middle : output;
    kernels.horizontal(input, width * 3, rows, outWidth, hFirst, hCount, hWeights, horizontal.taps, target);
  }
  if (vertical) {
    for (let y = 0; y < outHeight; y++) ints[vFirst / 4 + y] = (vertical.first[y] as number) - rowStart;
    ints.set(vertical.count, vCount / 4);
    ints.set(vertical.weights, vWeights / 4);
    kernels.vertical(middle, outWidth * 3, outHeight, vFirst, vCount, vWeights, vertical.taps, output);
  }
  return bytes.slice(output, output + outWidth * outHeight * 3);
}
