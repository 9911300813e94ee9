import sharp from 'sharp';
import { WorkerClosedError } from '../model/worker/index.js';
import { ImageDecodeError } from './errors.js';
import { prepareImage, type ImageSource, type PrepareOptions } from './prepare.js';
import { ImagePreparePool } from './prepare-pool.js';
import { syntheticImage } from './reference.js';
import type { ImageMessage, ModelImage } from './types.js';

const budget: PrepareOptions = { maxPixels: 448 * 448, minPixels: 3136 };

/** A w x h rgb8 or bgr8 message whose rows are padded to `step` bytes. */
function rawMessage(width: number, height: number, encoding: 'rgb8' | 'bgr8', padding = 0): ImageMessage {
  const rgb = syntheticImage(width, height, width + height).data;
  const step = width * 3 + padding;
  const data = new Uint8Array(step * height).fill(7);
  for (let y = 0; y < height; y++) data.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * step);
  return { width, height, encoding, is_bigendian: 0, step, data };
}

async function jpeg(width: number, height: number): Promise<Uint8Array> {
  const rgb = syntheticImage(width, height, 3).data;
  return new Uint8Array(
    await sharp(rgb, { raw: { width, height, channels: 3 } })
      .jpeg()
      .toBuffer(),
  );
}

function expectSameImage(actual: ModelImage, expected: ModelImage): void {
  expect(actual.gridThw).toEqual(expected.gridThw);
  expect([actual.resizedWidth, actual.resizedHeight]).toEqual([
    expected.resizedWidth,
    expected.resizedHeight,
  ]);
  expect(actual.pixelValues.length).toBe(expected.pixelValues.length);
  expect(Buffer.from(actual.pixelValues.buffer).equals(Buffer.from(expected.pixelValues.buffer))).toBe(true);
}

describe('ImagePreparePool', () => {
  let pool: ImagePreparePool;

  beforeAll(async () => {
    pool = await ImagePreparePool.create({ threads: 2, warmUp: false });
  }, 60_000);

  afterAll(async () => {
    await pool.close();
  });

  it.each<[string, () => Promise<ImageSource>, PrepareOptions]>([
    ['rgb8 640x480', async () => ({ kind: 'raw', message: rawMessage(640, 480, 'rgb8') }), budget],
    [
      'bgr8 with padded rows, in shared memory',
      async () => ({ kind: 'raw', message: rawMessage(333, 250, 'bgr8', 5) }),
      { ...budget, sharedMemory: true },
    ],
    [
      'rgb8 enlarged (min_pixels)',
      async () => ({ kind: 'raw', message: rawMessage(40, 30, 'rgb8') }),
      budget,
    ],
    [
      'JPEG 320x240',
      async () => ({
        kind: 'compressed',
        message: { format: 'rgb8; jpeg compressed bgr8', data: await jpeg(320, 240) },
      }),
      budget,
    ],
    [
      'rgb8 resized by libvips',
      async () => ({ kind: 'raw', message: rawMessage(640, 480, 'rgb8') }),
      { ...budget, resize: 'fast' },
    ],
  ])('gives byte for byte what prepareImage gives on this thread: %s', async (_name, source, options) => {
    const input = await source();
    const [pooled, local] = await Promise.all([pool.prepare(input, options), prepareImage(input, options)]);
    expectSameImage(pooled, local);
    // Not `instanceof`: the buffer comes from another realm than jest's test context.
    const kind = Object.prototype.toString.call(pooled.pixelValues.buffer);
    expect(kind).toBe(options.sharedMemory === true ? '[object SharedArrayBuffer]' : '[object ArrayBuffer]');
  });

  it('copies only the bytes of a message that views a larger buffer, and leaves them to the caller', async () => {
    const message = rawMessage(64, 48, 'rgb8');
    const arena = new Uint8Array(message.data.length + 2_000_000).fill(200);
    arena.set(message.data, 1_000_000);
    const view = arena.subarray(1_000_000, 1_000_000 + message.data.length);
    const image = await pool.prepare({ kind: 'raw', message: { ...message, data: view } }, budget);
    expectSameImage(image, await prepareImage({ kind: 'raw', message }, budget));
    expect(arena.byteLength).toBe(message.data.length + 2_000_000);
    expect(view[0]).toBe(message.data[0]);
  });

  it('runs concurrent requests on all its threads and counts them', async () => {
    const before = pool.stats();
    const source: ImageSource = { kind: 'raw', message: rawMessage(320, 240, 'rgb8') };
    await Promise.all(Array.from({ length: 6 }, () => pool.prepare(source, budget)));
    const after = pool.stats();
    expect(after.threads).toBe(2);
    expect(after.completed - before.completed).toBe(6);
    expect([after.queued, after.inFlight, after.restarts]).toEqual([0, 0, 0]);
  });

  const garbage = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8]);
  it.each<[string, ImageSource, PrepareOptions]>([
    [
      'short_data',
      { kind: 'raw', message: { ...rawMessage(8, 8, 'rgb8'), data: new Uint8Array(10) } },
      budget,
    ],
    ['bad_step', { kind: 'raw', message: { ...rawMessage(8, 8, 'rgb8'), step: 20 } }, budget],
    ['unknown_encoding', { kind: 'raw', message: { ...rawMessage(8, 8, 'rgb8'), encoding: 'rgb9' } }, budget],
    ['too_large', { kind: 'raw', message: rawMessage(64, 48, 'rgb8') }, { ...budget, maxInputPixels: 100 }],
    [
      'depth_refused',
      {
        kind: 'raw',
        message: {
          width: 4,
          height: 4,
          encoding: '16UC1',
          is_bigendian: 0,
          step: 8,
          data: new Uint8Array(32),
        },
      },
      budget,
    ],
    ['corrupt', { kind: 'compressed', message: { format: 'jpeg', data: garbage } }, budget],
    ['bad_option', { kind: 'raw', message: rawMessage(8, 8, 'rgb8') }, { maxPixels: 100, minPixels: 3136 }],
  ])('rejects a bad image with the ImageDecodeError of this thread: %s', async (code, source, options) => {
    const local = await prepareImage(source, options).then(
      () => null,
      (error: unknown) => error,
    );
    expect(local).toBeInstanceOf(ImageDecodeError);
    expect((local as ImageDecodeError).code).toBe(code);
    const pooled = pool.prepare(source, options);
    await expect(pooled).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(pooled).rejects.toMatchObject({ code, message: (local as Error).message });
  });

  it('refuses a thread count that is not a positive integer, naming it', async () => {
    await expect(ImagePreparePool.create({ threads: 0 })).rejects.toThrow(
      'image preparation threads must be an integer >= 1, got 0',
    );
    await expect(ImagePreparePool.create({ threads: 1.5 })).rejects.toThrow(/got 1\.5/);
  });

  it('rejects requests once closed', async () => {
    const closing = await ImagePreparePool.create({ threads: 1, warmUp: true });
    await closing.close();
    await expect(
      closing.prepare({ kind: 'raw', message: rawMessage(8, 8, 'rgb8') }, budget),
    ).rejects.toBeInstanceOf(WorkerClosedError);
  });
});
