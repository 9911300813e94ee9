import { depthToGrey } from './depth.js';
import { encodingInfo, supportedEncodings, type BayerPattern, type EncodingInfo } from './encodings.js';
import { ImageDecodeError, quoted } from './errors.js';
import { checkDepthRange, checkDimensions, type DecodeOptions } from './options.js';
import type { ImageMessage, RgbImage } from './types.js';

/**
 * Converts a sensor_msgs/Image to 8-bit RGB. Honours `step` (row padding) and `is_bigendian`.
 * 16-bit colour and mono keep the high byte (v >> 8). Bayer is demosaiced bilinearly; YUV uses BT.601
 * limited range with OpenCV's integer coefficients (what cv_bridge gives). Depth (16UC1, 32FC1) is refused
 * unless `options.allowDepthAsImage`.
 * @throws ImageDecodeError naming the offending field and values.
 */
export function decodeImage(msg: ImageMessage, options?: DecodeOptions): RgbImage {
  const info = encodingInfo(msg.encoding);
  if (info === undefined) {
    throw new ImageDecodeError(
      'unknown_encoding',
      `unknown image encoding ${quoted(msg.encoding)} (supported: ${supportedEncodings.join(', ')})`,
    );
  }
  const { width, height, step, data } = msg;
  const layout = info.layout;
  if (layout.kind === 'depth' && options?.allowDepthAsImage !== true) {
    throw new ImageDecodeError(
      'depth_refused',
      `image encoding ${info.name} is depth, not light; set allowDepthAsImage to feed it to the model as grey`,
    );
  }
  checkDimensions(width, height, options);
  checkDepthRange(options?.depthRange);
  checkEvenSize(info, width, height);
  if (!Number.isSafeInteger(step) || step < width * info.bytesPerPixel) {
    throw new ImageDecodeError(
      'bad_step',
      `image step ${step} < width*${info.bytesPerPixel} = ${width * info.bytesPerPixel} for ${info.name}`,
    );
  }
  const needed = requiredBytes(info, step, height);
  if (data.length < needed) {
    throw new ImageDecodeError(
      'short_data',
      `image data has ${data.length} bytes < ${needed} needed for ${info.name} (step ${step}, height ${height})`,
    );
  }
  const bigEndian = msg.is_bigendian === true || msg.is_bigendian === 1;
  // The high byte of a 16-bit sample comes first in big-endian data.
  const high = info.sampleBytes === 2 && !bigEndian ? 1 : 0;
  switch (layout.kind) {
    case 'interleaved': {
      const [r, g, b] = layout.rgb;
      return interleavedToRgb(data, width, height, step, info.bytesPerPixel, r + high, g + high, b + high);
    }
    case 'bayer':
      return demosaicBilinear(data, width, height, step, high, info.sampleBytes, layout.pattern);
    case 'yuv422':
      return yuv422ToRgb(data, width, height, step, layout.y0, layout.u, layout.y1, layout.v);
    case 'semiplanar':
      return semiplanarToRgb(data, width, height, step, layout.vFirst, layout.subsampled);
    case 'depth':
      return depthToGrey(
        readDepth(data, width, height, step, layout.float, bigEndian),
        width,
        height,
        options?.depthRange,
      );
  }
}

function checkEvenSize(info: EncodingInfo, width: number, height: number): void {
  const { layout } = info;
  if (layout.kind === 'bayer' && (width < 2 || height < 2)) {
    throw new ImageDecodeError(
      'odd_size',
      `image ${width}x${height} is too small to demosaic ${info.name} (needs 2x2)`,
    );
  }
  const evenWidth = layout.kind === 'yuv422' || (layout.kind === 'semiplanar' && layout.subsampled);
  const evenHeight = layout.kind === 'semiplanar' && layout.subsampled;
  if (evenWidth && width % 2 !== 0) {
    throw new ImageDecodeError('odd_size', `image width ${width} must be even for ${info.name}`);
  }
  if (evenHeight && height % 2 !== 0) {
    throw new ImageDecodeError('odd_size', `image height ${height} must be even for ${info.name}`);
  }
}

/** Bytes `data` must hold: `step` per row, plus the chroma plane of semi-planar formats (same row stride per luma byte). */
function requiredBytes(info: EncodingInfo, step: number, height: number): number {
  const { layout } = info;
  if (layout.kind !== 'semiplanar') return step * height;
  return layout.subsampled ? step * height + step * (height / 2) : step * height * 3;
}

function interleavedToRgb(
  src: Uint8Array,
  width: number,
  height: number,
  step: number,
  bytesPerPixel: number,
  r: number,
  g: number,
  b: number,
): RgbImage {
  const rowBytes = width * 3;
  const out = new Uint8Array(rowBytes * height);
  if (bytesPerPixel === 3 && r === 0 && g === 1 && b === 2) {
    if (step === rowBytes) out.set(src.subarray(0, rowBytes * height));
    else for (let y = 0; y < height; y++) out.set(src.subarray(y * step, y * step + rowBytes), y * rowBytes);
    return { width, height, data: out };
  }
  let o = 0;
  for (let y = 0; y < height; y++) {
    const rowEnd = y * step + width * bytesPerPixel;
    for (let i = y * step; i < rowEnd; i += bytesPerPixel) {
      out[o++] = src[i + r] as number;
      out[o++] = src[i + g] as number;
      out[o++] = src[i + b] as number;
    }
  }
  return { width, height, data: out };
}

// Which colours a Bayer site has: its own sample is R, B, or G between R's (horizontally) or between B's.
const RED = 0;
const BLUE = 1;
const GREEN_RED_ROW = 2;
const GREEN_BLUE_ROW = 3;

/** Site kinds of the 2x2 tile, index (y & 1) * 2 + (x & 1). */
function bayerSites(pattern: BayerPattern): Int8Array {
  const sites = new Int8Array(4);
  for (let i = 0; i < 4; i++) {
    const colour = pattern[i];
    const rowMate = pattern[i ^ 1];
    sites[i] =
      colour === 'r' ? RED : colour === 'b' ? BLUE : rowMate === 'r' ? GREEN_RED_ROW : GREEN_BLUE_ROW;
  }
  return sites;
}

/**
 * Bilinear demosaic: missing colours are the mean of the nearest samples of that colour (2 or 4).
 * Borders mirror (-1 -> 1), which keeps the colour filter phase. Samples are read at
 * `offset + y*step + x*sampleBytes`, so 16-bit data is demosaiced on its high byte without a copy.
 */
function demosaicBilinear(
  src: Uint8Array,
  width: number,
  height: number,
  step: number,
  offset: number,
  sampleBytes: number,
  pattern: BayerPattern,
): RgbImage {
  const sites = bayerSites(pattern);
  const out = new Uint8Array(width * height * 3);
  const lastX = width - 1;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const mid = offset + y * step;
    const up = offset + (y > 0 ? y - 1 : 1) * step;
    const down = offset + (y < height - 1 ? y + 1 : height - 2) * step;
    const rowSites = (y & 1) * 2;
    for (let x = 0; x < width; x++) {
      const c = x * sampleBytes;
      const l = (x > 0 ? x - 1 : 1) * sampleBytes;
      const rt = (x < lastX ? x + 1 : lastX - 1) * sampleBytes;
      const self = src[mid + c] as number;
      const horizontal = (src[mid + l] as number) + (src[mid + rt] as number);
      const vertical = (src[up + c] as number) + (src[down + c] as number);
      let red: number;
      let green: number;
      let blue: number;
      switch (sites[rowSites + (x & 1)]) {
        case RED:
          red = self;
          green = (horizontal + vertical + 2) >> 2;
          blue = (diagonalSum(src, up, down, l, rt) + 2) >> 2;
          break;
        case BLUE:
          red = (diagonalSum(src, up, down, l, rt) + 2) >> 2;
          green = (horizontal + vertical + 2) >> 2;
          blue = self;
          break;
        case GREEN_RED_ROW:
          red = (horizontal + 1) >> 1;
          green = self;
          blue = (vertical + 1) >> 1;
          break;
        default:
          red = (vertical + 1) >> 1;
          green = self;
          blue = (horizontal + 1) >> 1;
      }
      out[o++] = red;
      out[o++] = green;
      out[o++] = blue;
    }
  }
  return { width, height, data: out };
}

function diagonalSum(src: Uint8Array, up: number, down: number, l: number, r: number): number {
  return (
    (src[up + l] as number) + (src[up + r] as number) + (src[down + l] as number) + (src[down + r] as number)
  );
}

// BT.601 limited range, fixed point with 20 fractional bits: OpenCV's ITUR_BT_601_* constants.
const SHIFT = 20;
const HALF = 1 << (SHIFT - 1);
const CY = 1220542;
const CUB = 2116026;
const CUG = -409993;
const CVG = -852492;
const CVR = 1673527;

function lumaTerm(y: number): number {
  return y > 16 ? (y - 16) * CY : 0;
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function yuv422ToRgb(
  src: Uint8Array,
  width: number,
  height: number,
  step: number,
  y0: number,
  u: number,
  y1: number,
  v: number,
): RgbImage {
  const out = new Uint8Array(width * height * 3);
  let o = 0;
  for (let y = 0; y < height; y++) {
    const rowEnd = y * step + width * 2;
    for (let i = y * step; i < rowEnd; i += 4) {
      const uu = (src[i + u] as number) - 128;
      const vv = (src[i + v] as number) - 128;
      const ruv = HALF + CVR * vv;
      const guv = HALF + CVG * vv + CUG * uu;
      const buv = HALF + CUB * uu;
      const ya = lumaTerm(src[i + y0] as number);
      out[o++] = clampByte((ya + ruv) >> SHIFT);
      out[o++] = clampByte((ya + guv) >> SHIFT);
      out[o++] = clampByte((ya + buv) >> SHIFT);
      const yb = lumaTerm(src[i + y1] as number);
      out[o++] = clampByte((yb + ruv) >> SHIFT);
      out[o++] = clampByte((yb + guv) >> SHIFT);
      out[o++] = clampByte((yb + buv) >> SHIFT);
    }
  }
  return { width, height, data: out };
}

/** NV12/NV21 (chroma 2x2 subsampled) and NV24 (full chroma): luma rows of `step` bytes, then interleaved chroma. */
function semiplanarToRgb(
  src: Uint8Array,
  width: number,
  height: number,
  step: number,
  vFirst: boolean,
  subsampled: boolean,
): RgbImage {
  const out = new Uint8Array(width * height * 3);
  const chromaStart = step * height;
  const chromaStep = subsampled ? step : step * 2;
  const uOffset = vFirst ? 1 : 0;
  const vOffset = vFirst ? 0 : 1;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const luma = y * step;
    const chroma = chromaStart + (subsampled ? y >> 1 : y) * chromaStep;
    for (let x = 0; x < width; x++) {
      const c = chroma + (subsampled ? x & ~1 : x * 2);
      const uu = (src[c + uOffset] as number) - 128;
      const vv = (src[c + vOffset] as number) - 128;
      const yy = lumaTerm(src[luma + x] as number);
      out[o++] = clampByte((yy + HALF + CVR * vv) >> SHIFT);
      out[o++] = clampByte((yy + HALF + CVG * vv + CUG * uu) >> SHIFT);
      out[o++] = clampByte((yy + HALF + CUB * uu) >> SHIFT);
    }
  }
  return { width, height, data: out };
}

function readDepth(
  src: Uint8Array,
  width: number,
  height: number,
  step: number,
  float: boolean,
  bigEndian: boolean,
): Float32Array {
  const depth = new Float32Array(width * height);
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const littleEndian = !bigEndian;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const row = y * step;
    if (float) for (let x = 0; x < width; x++) depth[o++] = view.getFloat32(row + x * 4, littleEndian);
    else for (let x = 0; x < width; x++) depth[o++] = view.getUint16(row + x * 2, littleEndian);
  }
  return depth;
}
