/**
 * Fuzzing of image input: random and mutated sensor_msgs/Image and CompressedImage messages
 * (wrong step, truncated data, random encodings and formats, corrupt JPEG/PNG, huge dimensions).
 * Property: every input decodes to an RGB image of the size it declares, or is refused with an
 * ImageDecodeError (decoders) or a NodeInputError (the node's checks) whose code is one of the
 * documented reasons and whose message names the offending value; nothing else is thrown.
 */
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import sharp from 'sharp';
import {
  decodeCompressedImage,
  decodeImage,
  ImageDecodeError,
  preprocess,
  supportedEncodings,
  type CompressedImageMessage,
  type ImageMessage,
} from '../../src/image/index.js';
import { encodingInfo } from '../../src/image/encodings.js';
import { CameraFrame } from '../../src/node/frames.js';
import { checkImageMessage, NodeInputError, type InputRejectReason } from '../../src/node/input.js';
import { fuzz, FUZZ_TIMEOUT_MS, IMAGE_CODES, mutateBytes, sometimes } from './fuzz.js';

/** Checks a thrown value is a typed refusal with a useful message. */
function expectImageError(error: unknown): ImageDecodeError {
  if (!(error instanceof ImageDecodeError)) {
    throw new Error(`expected an ImageDecodeError, got ${String(error)}`, { cause: error });
  }
  expect(IMAGE_CODES).toContain(error.code);
  expect(error.message.length).toBeGreaterThan(10);
  expect(error.message.length).toBeLessThan(600);
  return error;
}

function expectRgb(image: { width: number; height: number; data: Uint8Array }): void {
  expect(Number.isSafeInteger(image.width) && image.width > 0).toBe(true);
  expect(Number.isSafeInteger(image.height) && image.height > 0).toBe(true);
  expect(image.data.length).toBe(image.width * image.height * 3);
}

// ---------------------------------------------------------------------------------------------
// sensor_msgs/Image

const oddNumbers = fc.constantFrom(
  -1,
  0,
  0.5,
  1.5,
  Number.NaN,
  Infinity,
  -Infinity,
  2 ** 31,
  2 ** 32 - 1,
  2 ** 53,
  1e6,
  65_535,
);

const encodingArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...supportedEncodings) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'RGB8',
      ' bgr8 ',
      'Mono8',
      '16uc1',
      'UYVY',
      'yuv420',
      'jpeg',
      '',
      '8UC2',
      'rgb32',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 100, maxLength: 5000 }) },
);

interface RawCase {
  readonly message: ImageMessage;
  readonly options: {
    maxInputPixels?: number;
    allowDepthAsImage?: boolean;
    depthRange?: [number, number];
  };
}

/** A well-formed image of a random encoding, then (usually) one or more fields broken. */
const rawCase: fc.Arbitrary<RawCase> = fc
  .record({
    encoding: encodingArb,
    width: fc.integer({ min: 1, max: 12 }),
    height: fc.integer({ min: 1, max: 10 }),
    padding: fc.integer({ min: 0, max: 5 }),
    bigEndian: fc.constantFrom<number | boolean>(0, 1, true, false, 2),
    seed: fc.nat(255),
    // Field breakers: undefined = keep.
    width2: sometimes(oddNumbers, 8),
    height2: sometimes(oddNumbers, 8),
    step2: sometimes(fc.oneof(oddNumbers, fc.nat(200)), 6),
    dataLength: sometimes(fc.oneof(fc.constant(0), fc.nat(2000), fc.constant(-1)), 6),
    maxInputPixels: sometimes(fc.constantFrom(1, 16, 100, 40_000_000), 6),
    allowDepthAsImage: fc.boolean(),
    depthRange: sometimes(fc.tuple(fc.oneof(fc.double(), oddNumbers), fc.oneof(fc.double(), oddNumbers)), 4),
  })
  .map((c) => {
    const info = encodingInfo(c.encoding);
    const bpp = info?.bytesPerPixel ?? 3;
    const step = c.step2 ?? c.width * bpp + c.padding;
    const width = c.width2 ?? c.width;
    const height = c.height2 ?? c.height;
    const semiplanar = info?.layout.kind === 'semiplanar';
    const rows = Number.isSafeInteger(height) && height > 0 ? height * (semiplanar ? 3 : 1) : 1;
    const full = Number.isSafeInteger(step) && step > 0 ? Math.min(step * rows, 1 << 16) : 64;
    const length = c.dataLength === -1 ? Math.max(0, full - 1) : (c.dataLength ?? full);
    const data = new Uint8Array(length);
    for (let i = 0; i < length; i++) data[i] = (i * 31 + c.seed) & 255;
    return {
      message: { encoding: c.encoding, width, height, step, is_bigendian: c.bigEndian, data },
      options: {
        ...(c.maxInputPixels === undefined ? {} : { maxInputPixels: c.maxInputPixels }),
        allowDepthAsImage: c.allowDepthAsImage,
        ...(c.depthRange === undefined ? {} : { depthRange: c.depthRange }),
      },
    };
  });

describe('fuzz: sensor_msgs/Image decoding', () => {
  it(
    'decodes to the declared size or throws an ImageDecodeError naming the value',
    async () => {
      const outcomes = new Map<string, number>();
      await fuzz(
        'image.raw (decodeImage + preprocess)',
        fc.tuple(rawCase, fc.constantFrom(3136, 56 * 56 * 4), fc.constantFrom(3136, 0, -5, Number.NaN)),
        async ([{ message, options }, maxPixels, minPixels]) => {
          let outcome = 'decoded';
          try {
            const rgb = decodeImage(message, options);
            expectRgb(rgb);
            expect([rgb.width, rgb.height]).toEqual([message.width, message.height]);
            try {
              const model = await preprocess(rgb, { maxPixels, minPixels });
              expect(model.pixelValues.length).toBe(
                model.gridThw[0] * model.gridThw[1] * model.gridThw[2] * 1176,
              );
            } catch (error) {
              outcome = `preprocess:${expectImageError(error).code}`;
            }
          } catch (error) {
            outcome = expectImageError(error).code;
          }
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        },
        { runs: 5000 },
      );
      // The generator reaches both sides of the property, and most refusal reasons.
      expect(outcomes.get('decoded')).toBeGreaterThan(100);
      for (const code of [
        'short_data',
        'bad_step',
        'zero_size',
        'unknown_encoding',
        'too_large',
        'depth_refused',
      ])
        expect(outcomes.get(code) ?? 0).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT_MS,
  );
});

// ---------------------------------------------------------------------------------------------
// sensor_msgs/CompressedImage

/** A PNG whose IHDR declares `width` x `height` (valid CRCs), with a tiny IDAT: a decompression bomb header. */
function pngWithSize(width: number, height: number): Uint8Array {
  const crcTable = new Uint32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Uint8Array): number => {
    let c = 0xffffffff;
    for (const b of bytes) c = (crcTable[(c ^ b) & 0xff] as number) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, body: Uint8Array): Uint8Array => {
    const out = new Uint8Array(12 + body.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, body.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(body, 8);
    view.setUint32(8 + body.length, crc(out.subarray(4, 8 + body.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', new Uint8Array(deflateSync(Buffer.alloc(64)))),
    chunk('IEND', new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A baseline JPEG whose SOF0 says `width` x `height` (the scan data stays that of the small image). */
function jpegWithSize(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const out = jpeg.slice();
  for (let i = 2; i + 9 < out.length;) {
    if (out[i] !== 0xff) break;
    const marker = out[i + 1] as number;
    const length = ((out[i + 2] as number) << 8) | (out[i + 3] as number);
    if (marker >= 0xc0 && marker <= 0xc2) {
      out[i + 5] = height >> 8;
      out[i + 6] = height & 255;
      out[i + 7] = width >> 8;
      out[i + 8] = width & 255;
      return out;
    }
    i += 2 + length;
  }
  throw new Error('no SOF marker in the test JPEG');
}

/** compressed_depth_image_transport payload: 12-byte header, then a 16-bit grey PNG. */
async function compressedDepth(): Promise<Uint8Array> {
  const samples = new Uint16Array(8 * 6).map((_, i) => 500 + i * 10);
  const png = await sharp(Buffer.from(samples.buffer), { raw: { width: 8, height: 6, channels: 1 } })
    .toColourspace('grey16')
    .png()
    .toBuffer();
  const out = new Uint8Array(12 + png.length);
  new DataView(out.buffer).setFloat32(4, 1000, true);
  out.set(png, 12);
  return out;
}

async function compressedSamples(): Promise<Uint8Array[]> {
  const rgb = Buffer.alloc(16 * 12 * 3).map((_, i) => (i * 7) & 255);
  const raw = { raw: { width: 16, height: 12, channels: 3 as const } };
  const jpeg = new Uint8Array(await sharp(rgb, raw).jpeg({ quality: 80 }).toBuffer());
  const progressive = new Uint8Array(await sharp(rgb, raw).jpeg({ progressive: true }).toBuffer());
  const png = new Uint8Array(await sharp(rgb, raw).png().toBuffer());
  const rgba = new Uint8Array(
    await sharp(Buffer.alloc(5 * 3 * 4, 200), { raw: { width: 5, height: 3, channels: 4 } })
      .png()
      .toBuffer(),
  );
  const grey = new Uint8Array(await sharp(rgb, raw).greyscale().png().toBuffer());
  const rotated = new Uint8Array(await sharp(rgb, raw).jpeg().withMetadata({ orientation: 6 }).toBuffer());
  const tall = new Uint8Array(
    await sharp(Buffer.alloc(1 * 300 * 3, 9), { raw: { width: 1, height: 300, channels: 3 } })
      .png()
      .toBuffer(),
  );
  return [
    jpeg,
    progressive,
    png,
    rgba,
    grey,
    rotated,
    tall,
    pngWithSize(100_000, 100_000),
    pngWithSize(0, 5),
    pngWithSize(2 ** 31 - 1, 1),
    jpegWithSize(jpeg, 65_535, 65_535),
    jpegWithSize(jpeg, 0, 12),
    await compressedDepth(),
  ];
}

const formatArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.constantFrom(
      '',
      'jpeg',
      'png',
      'rgb8; jpeg compressed bgr8',
      'bgr8; png compressed bgr8',
      'mono8; jpeg compressed mono8',
      '16UC1; compressedDepth png',
      '32FC1; compressedDepth',
      '16UC1; jpeg compressed mono8',
      'compressedDepth rvl',
      'tiff',
      '; ',
      'JPEG',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 100, maxLength: 5000 }) },
);

describe('fuzz: sensor_msgs/CompressedImage decoding', () => {
  let samples: Uint8Array[];
  beforeAll(async () => {
    samples = await compressedSamples();
  });

  it(
    'decodes or rejects with an ImageDecodeError; corrupt and huge images never crash or hang',
    async () => {
      const outcomes = new Map<string, number>();
      const data = fc.nat().chain((i) => {
        const sample = samples[i % samples.length] as Uint8Array;
        return fc.oneof(
          { weight: 3, arbitrary: fc.constant(sample) },
          { weight: 6, arbitrary: mutateBytes(sample) },
          { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
          {
            weight: 1,
            arbitrary: fc
              .tuple(
                fc.constantFrom([0xff, 0xd8, 0xff], [0x89, 0x50, 0x4e, 0x47]),
                fc.uint8Array({ maxLength: 64 }),
              )
              .map(([magic, rest]) => new Uint8Array([...magic, ...rest])),
          },
        );
      });
      await fuzz(
        'image.compressed (decodeCompressedImage)',
        fc.record({
          format: formatArb,
          data,
          allowDepthAsImage: fc.boolean(),
          maxInputPixels: fc.constantFrom(undefined, 100, 40_000_000),
        }),
        async ({ format, data, allowDepthAsImage, maxInputPixels }) => {
          const message: CompressedImageMessage = { format, data };
          let outcome = 'decoded';
          try {
            expectRgb(
              await decodeCompressedImage(message, {
                allowDepthAsImage,
                ...(maxInputPixels === undefined ? {} : { maxInputPixels }),
              }),
            );
          } catch (error) {
            outcome = expectImageError(error).code;
          }
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        },
        { runs: 1500 },
      );
      expect(outcomes.get('decoded')).toBeGreaterThan(50);
      for (const code of ['corrupt', 'too_large', 'unknown_encoding', 'depth_refused'])
        expect(outcomes.get(code) ?? 0).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT_MS,
  );
});

// ---------------------------------------------------------------------------------------------
// The node's arrival checks, then lazy decoding (what SpatialNodeCore does with each image)

const REASONS: readonly InputRejectReason[] = [
  'bad_message',
  'bad_stamp',
  'duplicate_stamp',
  'unknown_topic',
  'decode_failed',
  'closed',
  ...IMAGE_CODES,
];

/** Any value a field might hold in a malformed message. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, null, '', 'rgb8', 0, -1, 1e12, Number.NaN, true, [], {}, [1, 2, 3]),
  fc.anything({ maxDepth: 2, maxKeys: 3 }),
  fc.uint8Array({ maxLength: 16 }),
  fc.bigInt(),
);

/** Usually `valid`, sometimes junk. */
const mostly = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 8, arbitrary: valid }, { weight: 1, arbitrary: junk });

function messageArb(samples: readonly Uint8Array[]) {
  return fc
    .record({
      transport: fc.constantFrom('raw' as const, 'compressed' as const),
      raw: rawCase,
      compressed: fc.record({
        format: formatArb,
        data: fc.oneof(fc.constantFrom(...samples), fc.uint8Array({ maxLength: 48 })),
      }),
      sec: mostly(fc.nat(2 ** 31)),
      nanosec: mostly(fc.oneof(fc.nat(999_999_999), fc.constantFrom(1e9, -1, 0.5))),
      frameId: mostly(fc.constant('cam_optical')),
      // Fields replaced by junk, or deleted.
      broken: fc.array(
        fc.tuple(
          fc.constantFrom('header', 'width', 'height', 'encoding', 'step', 'data', 'is_bigendian', 'format'),
          fc.option(junk, { nil: undefined }),
        ),
        { maxLength: 2 },
      ),
      breaks: fc.boolean(),
      whole: sometimes(junk, 20),
    })
    .map((c) => {
      if (c.whole !== undefined) return { transport: c.transport, message: c.whole };
      const body: Record<string, unknown> =
        c.transport === 'raw' ? { ...c.raw.message } : { ...c.compressed };
      const message: Record<string, unknown> = {
        header: { stamp: { sec: c.sec, nanosec: c.nanosec }, frame_id: c.frameId },
        ...body,
      };
      for (const [key, value] of c.breaks ? c.broken : []) {
        if (value === undefined) delete message[key];
        else message[key] = value;
      }
      return { transport: c.transport, message };
    });
}

describe('fuzz: the node input checks and lazy decoding', () => {
  let samples: Uint8Array[];
  beforeAll(async () => {
    samples = await compressedSamples();
  });

  it(
    'accepts a message (and its frame then decodes or fails with a NodeInputError) or refuses it with a NodeInputError',
    async () => {
      const outcomes = new Map<string, number>();
      let sequence = 0;
      await fuzz(
        'node.image-check (checkImageMessage + CameraFrame.prepare)',
        messageArb(samples),
        async ({ transport, message }) => {
          let outcome: string;
          let checked;
          try {
            checked = checkImageMessage(
              message,
              transport,
              { maxInputPixels: 40_000_000, allowDepthAsImage: false },
              'camera c (/c)',
            );
          } catch (error) {
            if (!(error instanceof NodeInputError)) throw error;
            expect(REASONS).toContain(error.code);
            expect(error.message).toMatch(/^camera c \(\/c\): /);
            expect(error.message.length).toBeLessThan(600);
            outcomes.set(error.code, (outcomes.get(error.code) ?? 0) + 1);
            return;
          }
          expect(typeof checked.stamp).toBe('bigint');
          const frame = new CameraFrame({
            camera: 'c',
            stamp: checked.stamp,
            frameId: checked.frameId,
            receivedAt: 0n,
            source: checked.source,
            uniqueSuffix: String(++sequence),
          });
          try {
            await frame.prepare({ maxPixels: 3136, minPixels: 3136, maxInputPixels: 40_000_000 });
            outcome = 'prepared';
          } catch (error) {
            if (!(error instanceof NodeInputError)) throw error;
            // Decoders throw only ImageDecodeError: decode_failed would mean one threw something else.
            expect(error.code).not.toBe('decode_failed');
            expect(frame.failure).toBe(error);
            outcome = `prepare:${error.code}`;
          }
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        },
        { runs: 3000 },
      );
      expect(outcomes.get('prepared')).toBeGreaterThan(100);
      for (const code of ['bad_message', 'bad_stamp', 'short_data', 'unknown_encoding'])
        expect(outcomes.get(code) ?? 0).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT_MS,
  );
});
