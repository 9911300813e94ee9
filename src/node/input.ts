/**
 * Cheap checks of incoming messages, done on arrival so that bad input is counted at once. Pixels
 * are decoded later, only for the frames inference uses (see CameraFrame).
 */
import {
  isDepthEncoding,
  parseCompressedFormat,
  supportedEncodings,
  ImageDecodeError,
  quoted,
  type CompressedImageMessage,
  type ImageErrorCode,
  type ImageMessage,
  type ImageSource,
} from '../image/index.js';

export type { ImageSource };

/** Why an input message was not used. */
export type InputRejectReason =
  /** Not an object of the expected type, or a field missing or of the wrong type. */
  | 'bad_message'
  /** A header stamp that is not a valid non-negative time. */
  | 'bad_stamp'
  /** A second image of the same camera with the stamp of one already held. */
  | 'duplicate_stamp'
  /** A topic the node does not subscribe to. */
  | 'unknown_topic'
  /** Decoding failed with something other than an ImageDecodeError. */
  | 'decode_failed'
  /** The node core is closed. */
  | 'closed'
  /** Rejected by the image checks or the decoder (see ImageErrorCode). */
  | ImageErrorCode;

/** A message refused by the input checks; `code` is counted in the diagnostics. */
export class NodeInputError extends Error {
  override readonly name = 'NodeInputError';
  constructor(
    readonly code: InputRejectReason,
    message: string,
  ) {
    super(message);
  }
}

/** How images are checked (the `image.*` parameters). */
export interface ImageCheckOptions {
  readonly maxInputPixels: number;
  readonly allowDepthAsImage: boolean;
}

/** A checked image message. */
export interface CheckedImage {
  /** Header stamp, nanoseconds. */
  readonly stamp: bigint;
  readonly frameId: string;
  readonly source: ImageSource;
}

/** A transform of a TFMessage, reduced to what the node needs. */
export interface CheckedTransform {
  readonly parent: string;
  readonly child: string;
  readonly stamp: bigint;
}

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null;
}

/**
 * A primitive as text (cut to 60 characters), or what an object is. Never throws, whatever a
 * client sends (`String()` of an object without prototype would).
 */
export function valueText(value: unknown): string {
  if ((typeof value === 'object' && value !== null) || typeof value === 'function')
    return describeValue(value);
  const text = String(value);
  return text.length > 60 ? `${text.slice(0, 60)}... (${text.length} characters)` : text;
}

/**
 * A value for an error message: its type and (cut) value. Never throws, whatever the value
 * (bigint, symbol, function, an object without prototype).
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  if (typeof value === 'string') return `string ${quoted(value)}`;
  if (typeof value === 'function') return 'a function';
  return `${typeof value} ${String(value)}`;
}

function field<T>(
  object: Fields,
  key: string,
  what: string,
  check: (v: unknown) => v is T,
  expected: string,
): T {
  const value = object[key];
  if (!check(value)) {
    throw new NodeInputError(
      'bad_message',
      `${what}: field '${key}' must be ${expected}, got ${describeValue(value)}`,
    );
  }
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';

/** Converts `builtin_interfaces/Time` (`nanosec`, or `nsec` as some bag readers give it) to nanoseconds. */
export function stampToNs(stamp: unknown, what: string): bigint {
  if (!isObject(stamp)) {
    throw new NodeInputError(
      'bad_stamp',
      `${what}: header.stamp must be {sec, nanosec}, got ${describeValue(stamp)}`,
    );
  }
  const sec = stamp.sec;
  const nanosec = stamp.nanosec ?? stamp.nsec;
  if (
    typeof sec !== 'number' ||
    typeof nanosec !== 'number' ||
    !Number.isSafeInteger(sec) ||
    !Number.isSafeInteger(nanosec) ||
    sec < 0 ||
    nanosec < 0 ||
    nanosec >= 1e9
  ) {
    throw new NodeInputError(
      'bad_stamp',
      `${what}: header.stamp {sec: ${valueText(sec)}, nanosec: ${valueText(nanosec)}} is not a valid time (sec >= 0, 0 <= nanosec < 1e9)`,
    );
  }
  return BigInt(sec) * 1_000_000_000n + BigInt(nanosec);
}

function readHeader(message: Fields, what: string): { stamp: bigint; frameId: string } {
  const header = message.header;
  if (!isObject(header)) {
    throw new NodeInputError('bad_message', `${what}: no header (got ${describeValue(header)})`);
  }
  const frameId = header.frame_id ?? '';
  if (typeof frameId !== 'string') {
    throw new NodeInputError(
      'bad_message',
      `${what}: header.frame_id must be a string, got ${describeValue(frameId)}`,
    );
  }
  return { stamp: stampToNs(header.stamp, what), frameId };
}

/** `uint8[]` as a Uint8Array: typed arrays and Buffers are viewed, plain number arrays copied. */
function bytesOf(message: Fields, what: string): Uint8Array {
  const data = message.data;
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data) && data.every((v) => typeof v === 'number')) return Uint8Array.from(data);
  throw new NodeInputError(
    'bad_message',
    `${what}: field 'data' must be a byte array, got ${describeValue(data)}`,
  );
}

const knownEncodings = new Set(supportedEncodings.map((e) => e.toLowerCase()));

function checkRawImage(message: Fields, options: ImageCheckOptions, what: string): ImageMessage {
  const width = field(message, 'width', what, isNumber, 'a number');
  const height = field(message, 'height', what, isNumber, 'a number');
  const encoding = field(message, 'encoding', what, isString, 'a string');
  const step = field(message, 'step', what, isNumber, 'a number');
  const bigEndian = message.is_bigendian ?? 0;
  if (typeof bigEndian !== 'number' && typeof bigEndian !== 'boolean') {
    throw new NodeInputError(
      'bad_message',
      `${what}: field 'is_bigendian' must be a number or boolean, got ${describeValue(bigEndian)}`,
    );
  }
  const data = bytesOf(message, what);
  if (!knownEncodings.has(encoding.trim().toLowerCase())) {
    throw new NodeInputError(
      'unknown_encoding',
      `${what}: unknown encoding ${quoted(encoding)} (supported: ${supportedEncodings.join(', ')})`,
    );
  }
  if (isDepthEncoding(encoding) && !options.allowDepthAsImage) {
    throw new NodeInputError(
      'depth_refused',
      `${what}: encoding ${encoding} is depth; set image.allow_depth_as_image to use it`,
    );
  }
  for (const [name, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new NodeInputError('zero_size', `${what}: ${name} ${value} is not a positive integer`);
    }
  }
  if (width * height > options.maxInputPixels) {
    throw new NodeInputError(
      'too_large',
      `${what}: ${width}x${height} = ${width * height} pixels exceeds image.max_input_pixels ${options.maxInputPixels}`,
    );
  }
  if (!Number.isSafeInteger(step) || step < width) {
    throw new NodeInputError('bad_step', `${what}: step ${step} is less than the width ${width}`);
  }
  if (data.length < step * height) {
    throw new NodeInputError(
      'short_data',
      `${what}: data has ${data.length} bytes, fewer than step*height = ${step}*${height} = ${step * height}`,
    );
  }
  return { width, height, encoding, step, is_bigendian: bigEndian, data };
}

function checkCompressedImage(
  message: Fields,
  options: ImageCheckOptions,
  what: string,
): CompressedImageMessage {
  const format = message.format ?? '';
  if (typeof format !== 'string') {
    throw new NodeInputError(
      'bad_message',
      `${what}: field 'format' must be a string, got ${describeValue(format)}`,
    );
  }
  const data = bytesOf(message, what);
  let parsed;
  try {
    parsed = parseCompressedFormat(format);
  } catch (error) {
    if (error instanceof ImageDecodeError) throw new NodeInputError(error.code, `${what}: ${error.message}`);
    throw error;
  }
  if (parsed.depth && !options.allowDepthAsImage) {
    throw new NodeInputError(
      'depth_refused',
      `${what}: format ${quoted(format)} is depth; set image.allow_depth_as_image to use it`,
    );
  }
  if (data.length === 0) throw new NodeInputError('short_data', `${what}: data is empty`);
  if (!parsed.depth) {
    const jpeg = data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff;
    const png = data[0] === 0x89 && data[1] === 0x50 && data[2] === 0x4e && data[3] === 0x47;
    if (!jpeg && !png) {
      const start = Array.from(data.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new NodeInputError('corrupt', `${what}: data is neither JPEG nor PNG (starts with ${start})`);
    }
  }
  return { format, data };
}

/**
 * Checks a sensor_msgs/Image (`raw`) or sensor_msgs/CompressedImage (`compressed`) without decoding
 * its pixels: header and stamp, field types, encoding or format, sizes against the data length.
 * @throws NodeInputError naming the field and value.
 */
export function checkImageMessage(
  message: unknown,
  transport: 'raw' | 'compressed',
  options: ImageCheckOptions,
  what: string,
): CheckedImage {
  const type = transport === 'raw' ? 'sensor_msgs/Image' : 'sensor_msgs/CompressedImage';
  if (!isObject(message)) {
    throw new NodeInputError('bad_message', `${what}: expected a ${type}, got ${describeValue(message)}`);
  }
  if (transport === 'compressed' && message.encoding !== undefined && message.format === undefined) {
    throw new NodeInputError(
      'bad_message',
      `${what}: expected a ${type}, got a sensor_msgs/Image (transport is compressed)`,
    );
  }
  if (transport === 'raw' && message.format !== undefined && message.encoding === undefined) {
    throw new NodeInputError(
      'bad_message',
      `${what}: expected a ${type}, got a sensor_msgs/CompressedImage (transport is raw)`,
    );
  }
  const { stamp, frameId } = readHeader(message, what);
  const source: ImageSource =
    transport === 'raw'
      ? { kind: 'raw', message: checkRawImage(message, options, what) }
      : { kind: 'compressed', message: checkCompressedImage(message, options, what) };
  return { stamp, frameId, source };
}

/** Checks a sensor_msgs/CameraInfo: header, stamp and size fields. */
export function checkCameraInfo(
  message: unknown,
  what: string,
): { stamp: bigint; frameId: string; width: number; height: number } {
  if (!isObject(message)) {
    throw new NodeInputError(
      'bad_message',
      `${what}: expected a sensor_msgs/CameraInfo, got ${describeValue(message)}`,
    );
  }
  const { stamp, frameId } = readHeader(message, what);
  const width = field(message, 'width', what, isNumber, 'a number');
  const height = field(message, 'height', what, isNumber, 'a number');
  return { stamp, frameId, width, height };
}

/** Checks a tf2_msgs/TFMessage and returns its frame ids and stamps. */
export function checkTfMessage(message: unknown, what: string): CheckedTransform[] {
  if (!isObject(message) || !Array.isArray(message.transforms)) {
    throw new NodeInputError(
      'bad_message',
      `${what}: expected a tf2_msgs/TFMessage with a transforms array, got ${describeValue(isObject(message) ? message.transforms : message)}`,
    );
  }
  return message.transforms.map((transform: unknown, i) => {
    const at = `${what}: transforms[${i}]`;
    if (!isObject(transform)) {
      throw new NodeInputError(
        'bad_message',
        `${at} must be a TransformStamped, got ${describeValue(transform)}`,
      );
    }
    const { stamp, frameId } = readHeader(transform, at);
    const child = field(transform, 'child_frame_id', at, isString, 'a string');
    return { parent: frameId, child, stamp };
  });
}
