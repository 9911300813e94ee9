import sharp, { type Metadata } from 'sharp';
import { depthToGrey } from './depth.js';
import { isDepthEncoding } from './encodings.js';
import { ImageDecodeError, quoted } from './errors.js';
import { checkDepthRange, checkDimensions, type DecodeOptions } from './options.js';
import type { CompressedImageMessage, RgbImage } from './types.js';

/** What a sensor_msgs/CompressedImage `format` string says about its bytes. */
export interface CompressedFormat {
  /** The encoding before compression ("bgr8" in "bgr8; jpeg compressed bgr8"), or undefined when not given. */
  readonly originalEncoding: string | undefined;
  readonly codec: 'jpeg' | 'png';
  /** compressed_depth_image_transport payload (a small header, then a 16-bit PNG), or a depth original encoding. */
  readonly depth: boolean;
}

/**
 * Parses an image_transport format string: "<original encoding>; <jpeg|png> compressed <encoding>",
 * "<original encoding>; compressedDepth [png]", or just "jpeg"/"png". Empty means jpeg.
 * @throws ImageDecodeError 'unknown_encoding' for other codecs (e.g. compressedDepth rvl, tiff).
 */
export function parseCompressedFormat(format: string): CompressedFormat {
  const separator = format.indexOf(';');
  const original = separator >= 0 ? format.slice(0, separator).trim() : undefined;
  const rest = (separator >= 0 ? format.slice(separator + 1) : format).trim().toLowerCase();
  const words = rest.split(/\s+/).filter((word) => word.length > 0);
  const originalEncoding = original === undefined || original === '' ? undefined : original;
  const originalIsDepth = originalEncoding !== undefined && isDepthEncoding(originalEncoding);
  if (words.includes('compresseddepth')) {
    const codec = words.find((word) => word !== 'compresseddepth') ?? 'png';
    if (codec !== 'png') {
      throw new ImageDecodeError(
        'unknown_encoding',
        `CompressedImage format ${quoted(format)}: compressedDepth codec ${quoted(codec)} is not supported (only png)`,
      );
    }
    return { originalEncoding, codec: 'png', depth: true };
  }
  const first = words[0] ?? 'jpeg';
  const codec = first === 'jpeg' || first === 'jpg' ? 'jpeg' : first === 'png' ? 'png' : undefined;
  if (codec === undefined) {
    throw new ImageDecodeError(
      'unknown_encoding',
      `CompressedImage format ${quoted(format)}: codec ${quoted(first)} is not supported (jpeg, png)`,
    );
  }
  return { originalEncoding, codec, depth: originalIsDepth };
}

type Codec = 'jpeg' | 'png';

function sniffCodec(bytes: Uint8Array): Codec | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  return undefined;
}

function describeStart(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function checkedCodec(bytes: Uint8Array, what: string): Codec {
  if (bytes.length === 0) throw new ImageDecodeError('short_data', `${what} is empty`);
  const codec = sniffCodec(bytes);
  if (codec === undefined) {
    throw new ImageDecodeError(
      'unknown_encoding',
      `${what} is neither PNG nor JPEG (starts with ${describeStart(bytes)})`,
    );
  }
  return codec;
}

async function readSize(
  bytes: Uint8Array,
  codec: Codec,
  what: string,
): Promise<{ width: number; height: number }> {
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ImageDecodeError('corrupt', `${what}: corrupt ${codec} header (${errorText(error)})`, {
      cause: error,
    });
  }
  return { width: metadata.width ?? 0, height: metadata.height ?? 0 };
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).trim().split('\n')[0] ?? '';
}

async function decodeRgb(bytes: Uint8Array, codec: Codec, what: string, options: DecodeOptions | undefined) {
  const { width, height } = await readSize(bytes, codec, what);
  checkDimensions(width, height, options);
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error', limitInputPixels: false, autoOrient: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    };
  } catch (error) {
    throw new ImageDecodeError('corrupt', `${what}: corrupt ${codec} data (${errorText(error)})`, {
      cause: error,
    });
  }
}

/**
 * Decodes PNG or JPEG file contents (detected from the bytes) to 8-bit RGB with sharp. Alpha is dropped
 * (not composited), grey becomes R=G=B, 16-bit becomes 8-bit, EXIF orientation is applied.
 * @throws ImageDecodeError 'short_data', 'unknown_encoding', 'corrupt', 'too_large'.
 */
export async function decodeImageBytes(bytes: Uint8Array, options?: DecodeOptions): Promise<RgbImage> {
  return decodeRgb(bytes, checkedCodec(bytes, 'image data'), 'image data', options);
}

/**
 * Decodes a sensor_msgs/CompressedImage. The format string decides whether the bytes hold depth (refused
 * unless `options.allowDepthAsImage`); the codec is then read from the bytes themselves, so a mislabelled
 * but valid PNG/JPEG still decodes.
 * @throws ImageDecodeError 'unknown_encoding', 'depth_refused', 'short_data', 'corrupt', 'too_large'.
 */
export async function decodeCompressedImage(
  msg: CompressedImageMessage,
  options?: DecodeOptions,
): Promise<RgbImage> {
  const format = parseCompressedFormat(msg.format);
  const what = `CompressedImage (format ${quoted(msg.format)})`;
  if (format.depth) {
    if (options?.allowDepthAsImage !== true) {
      throw new ImageDecodeError(
        'depth_refused',
        `${what} holds depth, not light; set allowDepthAsImage to feed it to the model as grey`,
      );
    }
    checkDepthRange(options.depthRange);
    // A depth image sent through the plain jpeg transport is already 8-bit grey.
    if (format.codec === 'jpeg') return decodeRgb(msg.data, checkedCodec(msg.data, what), what, options);
    return decodeCompressedDepth(msg.data, format, what, options);
  }
  return decodeRgb(msg.data, checkedCodec(msg.data, what), what, options);
}

const pngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Offset of the PNG inside a compressedDepth payload (after its 8- or 12-byte header), or -1. */
function findPng(bytes: Uint8Array): number {
  for (let start = 0; start <= 16 && start + pngSignature.length <= bytes.length; start++) {
    if (pngSignature.every((b, i) => bytes[start + i] === b)) return start;
  }
  return -1;
}

/**
 * compressed_depth_image_transport: header {int32 format; float32 depthQuantA, depthQuantB}, then a 16-bit
 * grey PNG holding millimetres (16UC1) or quantised inverse depth A / (v - B) metres (32FC1, v = 0: none).
 */
async function decodeCompressedDepth(
  bytes: Uint8Array,
  format: CompressedFormat,
  what: string,
  options: DecodeOptions,
): Promise<RgbImage> {
  if (bytes.length === 0) throw new ImageDecodeError('short_data', `${what} is empty`);
  const start = findPng(bytes);
  const png = bytes.subarray(Math.max(start, 0));
  if (start < 0) {
    throw new ImageDecodeError(
      'corrupt',
      `${what}: no PNG found in depth payload (starts with ${describeStart(bytes)})`,
    );
  }
  const { width, height } = await readSize(png, 'png', what);
  checkDimensions(width, height, options);
  let samples: Uint16Array;
  try {
    const { data, info } = await sharp(png, { failOn: 'error', limitInputPixels: false })
      .toColourspace('grey16')
      .raw({ depth: 'ushort' })
      .toBuffer({ resolveWithObject: true });
    if (info.width !== width || info.height !== height)
      throw new Error(`decoded ${info.width}x${info.height}`);
    samples = new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
  } catch (error) {
    throw new ImageDecodeError('corrupt', `${what}: corrupt png data (${errorText(error)})`, {
      cause: error,
    });
  }
  const depth = new Float32Array(samples.length);
  const inverse = format.originalEncoding?.trim().toUpperCase() === '32FC1' && start >= 8;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const quantA = inverse ? view.getFloat32(start - 8, true) : 0;
  const quantB = inverse ? view.getFloat32(start - 4, true) : 0;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i] as number;
    depth[i] = inverse ? (v === 0 ? 0 : quantA / (v - quantB)) : v;
  }
  return depthToGrey(depth, width, height, options.depthRange);
}
