import sharp from 'sharp';
import { ImageDecodeError } from './errors.js';
import { resizeBicubicPillow } from './resample.js';
import { smartResize } from './smart-resize.js';
import type { ModelImage, RgbImage } from './types.js';

/** How {@link preprocess} resamples to the smart_resize size (all bicubic, Catmull-Rom a = -0.5). */
export type ResizeMethod =
  /**
   * Pillow's `Image.resize(size, BICUBIC)` reimplemented integer for integer (antialiased, pixel-centre
   * aligned): the same bytes as the Python Qwen2.5-VL processor the model was trained with.
   */
  | 'pillow'
  /**
   * libvips (sharp `resize`, kernel cubic) when both sides shrink: about 5x faster, and within a few levels
   * of Pillow there (measured at most 4/255: libvips pre-shrinks by an integer box past 4x); Pillow otherwise
   * (libvips' enlarging is phase-shifted against Pillow's by up to ~47/255).
   */
  | 'fast'
  /**
   * Exactly what @huggingface/transformers 4.x does in Node for resample 3: sharp `affine` with the bicubic
   * interpolator. Not antialiased, so shrinking aliases (up to ~60/255 from Pillow); for comparisons with it.
   */
  | 'transformersjs';

/** Options of {@link preprocess}. */
export interface PreprocessOptions {
  /** Most pixels of the resized image (Qwen2.5-VL default 12845056; 448*448 keeps 256 tokens per image). */
  readonly maxPixels: number;
  /** Fewest pixels of the resized image (Qwen2.5-VL default 3136). */
  readonly minPixels: number;
  /** Default 'pillow'. */
  readonly resize?: ResizeMethod;
  /**
   * Put `pixelValues` in a SharedArrayBuffer, for a model in another thread: EngineClient then
   * passes it on without copying (default false).
   */
  readonly sharedMemory?: boolean;
}

const PATCH = 14;
const TEMPORAL_PATCH = 2;
const MERGE = 2;
const CHANNELS = 3;
/** Floats per row of pixel_values: 3 channels x 2 frames x 14 x 14. */
export const PATCH_ROW_LENGTH = CHANNELS * TEMPORAL_PATCH * PATCH * PATCH;

/** OpenAI CLIP mean and std, as Qwen2.5-VL's preprocessor_config.json. */
export const imageMean = [0.48145466, 0.4578275, 0.40821073] as const;
export const imageStd = [0.26862954, 0.26130258, 0.27577711] as const;

/**
 * value -> normalised float per channel, computed in the order transformers.js does it (float32 x/255, then
 * (x - mean) / std rounded to float32), so normalisation matches it bit for bit.
 */
const normalised: readonly Float32Array[] = imageMean.map((mean, c) => {
  const std = imageStd[c] as number;
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = Math.fround((Math.fround(v * (1 / 255)) - mean) / std);
  return table;
});

/**
 * Turns an RGB image into Qwen2.5-VL vision encoder input: smart_resize (factor 28) to within
 * [minPixels, maxPixels], bicubic resize (Pillow's by default, see {@link ResizeMethod}), x/255, CLIP
 * mean/std, the frame repeated twice in time, and patches in the encoder's order (DESIGN.md section 3):
 * row p = ((hb*Wb + wb)*2 + mh)*2 + mw, element ((c*2 + t)*14 + y)*14 + x.
 * @throws ImageDecodeError for bad sizes ('zero_size', 'short_data', 'bad_aspect') or options ('bad_option').
 */
export async function preprocess(image: RgbImage, options: PreprocessOptions): Promise<ModelImage> {
  const { width, height, data } = image;
  for (const [field, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new ImageDecodeError('zero_size', `RGB image ${field} ${value} is not a positive integer`);
    }
  }
  const bytes = width * height * CHANNELS;
  if (data.length < bytes) {
    throw new ImageDecodeError(
      'short_data',
      `RGB image data has ${data.length} bytes < width*height*3 = ${bytes} for ${width}x${height}`,
    );
  }
  const method = options.resize ?? 'pillow';
  if (!resizeMethods.includes(method)) {
    throw new ImageDecodeError(
      'bad_option',
      `resize ${JSON.stringify(method)} is not one of ${resizeMethods.map((m) => `'${m}'`).join(', ')}`,
    );
  }
  const size = smartResize(height, width, { minPixels: options.minPixels, maxPixels: options.maxPixels });
  const pixels =
    size.width === width && size.height === height
      ? data
      : await resizeRgb(data.subarray(0, bytes), width, height, size.width, size.height, method);
  return {
    pixelValues: patchify(pixels, size.width, size.height, options.sharedMemory ?? false),
    gridThw: [1, size.height / PATCH, size.width / PATCH],
    resizedWidth: size.width,
    resizedHeight: size.height,
  };
}

const resizeMethods: readonly ResizeMethod[] = ['pillow', 'fast', 'transformersjs'];

async function resizeRgb(
  data: Uint8Array,
  width: number,
  height: number,
  toWidth: number,
  toHeight: number,
  method: ResizeMethod,
): Promise<Uint8Array> {
  const shrinking = toWidth <= width && toHeight <= height;
  if (method === 'pillow' || (method === 'fast' && !shrinking)) {
    return resizeBicubicPillow(data, width, height, toWidth, toHeight);
  }
  const input = sharp(data, { raw: { width, height, channels: CHANNELS } });
  const resized =
    method === 'fast'
      ? input.resize(toWidth, toHeight, { fit: 'fill', kernel: 'cubic' })
      : input.affine([toWidth / width, 0, 0, toHeight / height], { interpolator: 'bicubic' });
  const { data: out, info } = await resized.raw().toBuffer({ resolveWithObject: true });
  if (info.width !== toWidth || info.height !== toHeight || info.channels !== CHANNELS) {
    throw new Error(
      `sharp resized to ${info.width}x${info.height}x${info.channels}, not ${toWidth}x${toHeight}x3`,
    );
  }
  return out;
}

/** One pass from interleaved RGB bytes to pixel_values, both frames of each temporal patch written at once. */
function patchify(pixels: Uint8Array, width: number, height: number, shared: boolean): Float32Array {
  const gridW = width / PATCH;
  const blocksW = gridW / MERGE;
  const length = (height / PATCH) * gridW * PATCH_ROW_LENGTH;
  const out = shared ? new Float32Array(new SharedArrayBuffer(4 * length)) : new Float32Array(length);
  const [red, green, blue] = normalised as [Float32Array, Float32Array, Float32Array];
  const plane = PATCH * PATCH;
  let src = 0;
  for (let row = 0; row < height; row++) {
    const patchRow = (row / PATCH) | 0;
    const y = row - patchRow * PATCH;
    const rowBlock = (patchRow >> 1) * blocksW;
    const rowInBlock = patchRow & 1;
    for (let patchCol = 0; patchCol < gridW; patchCol++) {
      const p = ((rowBlock + (patchCol >> 1)) * 2 + rowInBlock) * 2 + (patchCol & 1);
      let dst = p * PATCH_ROW_LENGTH + y * PATCH;
      const end = dst + PATCH;
      for (; dst < end; dst++, src += 3) {
        const r = red[pixels[src] as number] as number;
        const g = green[pixels[src + 1] as number] as number;
        const b = blue[pixels[src + 2] as number] as number;
        out[dst] = r;
        out[dst + plane] = r;
        out[dst + 2 * plane] = g;
        out[dst + 3 * plane] = g;
        out[dst + 4 * plane] = b;
        out[dst + 5 * plane] = b;
      }
    }
  }
  return out;
}
