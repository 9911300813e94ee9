/**
 * Fuzzing of bag input: random and mutated CDR bytes for the message types the node reads, and
 * truncated or mutated bag files (MCAP indexed and streamed, rosbag2 sqlite3, rosbag2 folders with
 * a mutated metadata.yaml), written by this project and by other tools (../shared/fixtures).
 * Property: a message decodes or is refused with a BagFormatError naming the topic; a file opens
 * and reads (possibly only up to a cut, BagTruncatedError) or is refused with a BagFormatError;
 * nothing else is thrown, and nothing hangs.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageWriter } from '@foxglove/rosmsg2-serialization';
import fc from 'fast-check';
import { MessageDecoder } from '../../src/bag/decoder.js';
import { builtinDefinitionText, parseRos2Definition } from '../../src/bag/definitions.js';
import { McapBagWriter, type McapBagWriterOptions } from '../../src/bag/mcap-writer.js';
import { openBag } from '../../src/bag/open.js';
import { BagFormatError, BagTruncatedError } from '../../src/bag/reader.js';
import { fixturesDir } from '../helpers/fixtures.js';
import {
  header,
  tinyImage,
  writeRosbag2Folder,
  writeSqliteBag,
  type TestBagMessage,
} from '../helpers/bag-writers.js';
import { fuzz, FUZZ_TIMEOUT_MS, mutateBytes } from './fuzz.js';

const NS = 1_000_000_000n;

const SAMPLES: readonly { readonly type: string; readonly message: unknown }[] = [
  { type: 'sensor_msgs/msg/Image', message: tinyImage(5n * NS, 7) },
  {
    type: 'sensor_msgs/msg/CompressedImage',
    message: {
      header: header(5n * NS, 'cam'),
      format: 'jpeg',
      data: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]),
    },
  },
  {
    type: 'tf2_msgs/msg/TFMessage',
    message: {
      transforms: [
        {
          header: header(5n * NS, 'map'),
          child_frame_id: 'cam_optical',
          transform: { translation: { x: 1, y: 2, z: 3 }, rotation: { x: 0, y: 0, z: 0, w: 1 } },
        },
      ],
    },
  },
  {
    type: 'sensor_msgs/msg/CameraInfo',
    message: {
      header: header(5n * NS, 'cam'),
      height: 480,
      width: 640,
      distortion_model: 'plumb_bob',
      d: [0, 0, 0, 0, 0],
      k: [500, 0, 320, 0, 500, 240, 0, 0, 1],
      r: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      p: [500, 0, 320, 0, 0, 500, 240, 0, 0, 0, 1, 0],
      binning_x: 0,
      binning_y: 0,
      roi: { x_offset: 0, y_offset: 0, height: 0, width: 0, do_rectify: false },
    },
  },
];

/** Runs `work`, failing when it takes longer than `ms` (a hang, or an allocation loop). */
async function bounded<T>(work: () => Promise<T>, ms: number, what: string): Promise<T> {
  const started = performance.now();
  const result = await work();
  const took = performance.now() - started;
  if (took > ms) throw new Error(`${what} took ${took.toFixed(0)} ms (> ${ms} ms)`);
  return result;
}

function expectBagError(error: unknown): BagFormatError {
  if (!(error instanceof BagFormatError)) {
    throw new Error(`expected a BagFormatError, got ${String(error)}`, { cause: error });
  }
  expect(error.message.length).toBeGreaterThan(10);
  expect(error.message.length).toBeLessThan(2000);
  return error;
}

describe('fuzz: CDR messages', () => {
  const decoders = SAMPLES.map(({ type, message }) => {
    const definitions = parseRos2Definition(builtinDefinitionText(type) ?? '', type, 'fuzz');
    return {
      type,
      bytes: new MessageWriter(definitions).writeMessage(message),
      decoder: MessageDecoder.create(
        { path: 'fuzz.mcap', topic: '/t', schemaName: type, messageEncoding: 'cdr', distro: 'jazzy' },
        { normalizedStamps: 0 },
      ),
    };
  });

  it('decodes every sample unchanged first (the mutations start from valid messages)', () => {
    for (const d of decoders) expect(d.decoder.decode(d.bytes, 'fuzz')).toBeTruthy();
  });

  it(
    'decodes random and mutated bytes or refuses them with a BagFormatError naming the topic',
    async () => {
      const outcomes = { decoded: 0, refused: 0 };
      const input = fc.nat().chain((i) => {
        const d = decoders[i % decoders.length] as (typeof decoders)[number];
        return fc.tuple(
          fc.constant(d),
          fc.oneof(
            { weight: 6, arbitrary: mutateBytes(d.bytes) },
            { weight: 2, arbitrary: fc.uint8Array({ maxLength: 96 }) },
            // A CDR header, then an array length of up to 2^32 - 1.
            {
              weight: 1,
              arbitrary: fc
                .tuple(fc.nat({ max: d.bytes.length }), fc.constantFrom(0xffffffff, 0x7fffffff, 1 << 24))
                .map(([at, n]) => {
                  const out = d.bytes.slice();
                  const offset = Math.min(at & ~3, Math.max(0, out.length - 4));
                  if (out.length >= offset + 4) new DataView(out.buffer).setUint32(offset, n, true);
                  return out;
                }),
            },
          ),
        );
      });
      await fuzz(
        'bag.cdr (MessageDecoder: Image, CompressedImage, TFMessage, CameraInfo)',
        input,
        async ([d, bytes]) => {
          await bounded(
            () => {
              try {
                const message = d.decoder.decode(bytes, 'fuzz.mcap: topic /t');
                expect(typeof message).toBe('object');
                outcomes.decoded += 1;
              } catch (error) {
                expect(expectBagError(error).message).toMatch(
                  /^fuzz\.mcap: topic \/t: a \S+ message of \d+ bytes does not decode/,
                );
                outcomes.refused += 1;
              }
              return Promise.resolve();
            },
            2000,
            'decoding',
          );
        },
        { runs: 5000 },
      );
      expect(outcomes.decoded).toBeGreaterThan(100);
      expect(outcomes.refused).toBeGreaterThan(100);
    },
    FUZZ_TIMEOUT_MS,
  );
});

// ---------------------------------------------------------------------------------------------
// Whole files

interface Base {
  readonly name: string;
  /** File name inside a case folder (`.mcap`, `.db3`), or a rosbag2 folder when `folder`. */
  readonly file: string;
  readonly bytes: Uint8Array;
  /** For a rosbag2 folder: the bag files beside metadata.yaml (the mutated file is metadata.yaml). */
  readonly beside?: readonly { readonly name: string; readonly bytes: Uint8Array }[];
}

function bagMessages(): TestBagMessage[] {
  const messages: TestBagMessage[] = [];
  for (let i = 0; i < 6; i++) {
    const t = 10n * NS + BigInt(i) * 100_000_000n;
    messages.push({
      topic: '/cam/image_raw',
      type: 'sensor_msgs/msg/Image',
      logTimeNs: t,
      message: tinyImage(t, i),
    });
    messages.push({
      topic: '/tf',
      type: 'tf2_msgs/msg/TFMessage',
      logTimeNs: t + 1n,
      message: (SAMPLES[2] as { message: unknown }).message,
    });
  }
  return messages;
}

async function writeMcap(path: string, options: McapBagWriterOptions): Promise<void> {
  const writer = await McapBagWriter.create(path, options);
  for (const m of bagMessages()) await writer.write(m.topic, m.type, m.message, { logTimeNs: m.logTimeNs });
  await writer.close();
}

describe('fuzz: bag files', () => {
  let dir: string;
  const bases: Base[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'actial-fuzz-bags-'));
    const read = async (path: string): Promise<Uint8Array> => new Uint8Array(await readFile(path));
    await writeMcap(join(dir, 'zstd.mcap'), { compression: 'zstd', chunkSize: 256 });
    await writeMcap(join(dir, 'plain.mcap'), { compression: 'none', chunkSize: 512 });
    await writeMcap(join(dir, 'stream.mcap'), { compression: 'none', indexed: false });
    await writeSqliteBag(join(dir, 'ours.db3'), bagMessages());
    await writeRosbag2Folder(join(dir, 'folder'), 'mcap', [bagMessages()]);
    bases.push(
      {
        name: 'MCAP zstd chunks, indexed (ours)',
        file: 'bag.mcap',
        bytes: await read(join(dir, 'zstd.mcap')),
      },
      {
        name: 'MCAP plain chunks, indexed (ours)',
        file: 'bag.mcap',
        bytes: await read(join(dir, 'plain.mcap')),
      },
      { name: 'MCAP without index (ours)', file: 'bag.mcap', bytes: await read(join(dir, 'stream.mcap')) },
      { name: 'sqlite3 (ours)', file: 'bag.db3', bytes: await read(join(dir, 'ours.db3')) },
      {
        name: 'rosbag2 folder metadata.yaml (ours)',
        file: 'metadata.yaml',
        bytes: await read(join(dir, 'folder', 'metadata.yaml')),
        beside: [{ name: 'folder_0.mcap', bytes: await read(join(dir, 'folder', 'folder_0.mcap')) }],
      },
    );
    const talker = join(fixturesDir, 'rosbag2_talker', 'talker.mcap');
    const images = join(fixturesDir, 'ros2bag_tools_images_bag', 'images.bag_0.db3');
    if (existsSync(talker))
      bases.push({ name: 'MCAP by rosbag2 (fixture)', file: 'bag.mcap', bytes: await read(talker) });
    if (existsSync(images))
      bases.push({ name: 'sqlite3 by rosbag2 (fixture)', file: 'bag.db3', bytes: await read(images) });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens and reads every base file unchanged', async () => {
    for (const base of bases) {
      const folder = join(dir, `unchanged-${bases.indexOf(base)}`);
      await mkdir(folder, { recursive: true });
      await writeFile(join(folder, base.file), base.bytes);
      for (const b of base.beside ?? []) await writeFile(join(folder, b.name), b.bytes);
      const bag = await openBag(base.beside ? folder : join(folder, base.file));
      let n = 0;
      for await (const _ of bag.messages()) n += 1;
      await bag.close();
      expect(n).toBeGreaterThan(0);
    }
  });

  it(
    'reads mutated and truncated files up to what is intact, or refuses them with a BagFormatError',
    async () => {
      const outcomes = new Map<string, number>();
      let index = 0;
      const input = fc.nat().chain((i) => {
        const base = bases[i % bases.length] as Base;
        return fc.tuple(
          fc.constant(base),
          fc.oneof(
            { weight: 5, arbitrary: mutateBytes(base.bytes) },
            { weight: 2, arbitrary: fc.nat({ max: base.bytes.length }).map((n) => base.bytes.slice(0, n)) },
          ),
        );
      });
      await fuzz(
        'bag.file (openBag + topics + messages: MCAP, sqlite3, rosbag2 metadata.yaml)',
        input,
        async ([base, bytes]) => {
          const folder = join(dir, `case-${index++}`);
          await mkdir(folder);
          await writeFile(join(folder, base.file), bytes);
          for (const b of base.beside ?? []) await writeFile(join(folder, b.name), b.bytes);
          let outcome = 'read';
          await bounded(
            async () => {
              let bag;
              try {
                bag = await openBag(base.beside ? folder : join(folder, base.file));
              } catch (error) {
                outcome = 'open refused';
                expectBagError(error);
                return;
              }
              try {
                const topics = await bag.topics();
                for (const topic of topics) expect(typeof topic.name).toBe('string');
                for await (const message of bag.messages()) {
                  expect(typeof message.topic).toBe('string');
                  expect(typeof message.logTimeNs).toBe('bigint');
                }
              } catch (error) {
                outcome = error instanceof BagTruncatedError ? 'truncated' : 'read refused';
                expectBagError(error);
              } finally {
                await bag.close();
              }
            },
            10_000,
            `reading a mutated ${base.name}`,
          );
          await rm(folder, { recursive: true, force: true });
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        },
        { runs: 600 },
      );
      expect(outcomes.get('read')).toBeGreaterThan(20);
      expect(outcomes.get('open refused') ?? 0).toBeGreaterThan(0);
      expect((outcomes.get('read refused') ?? 0) + (outcomes.get('truncated') ?? 0)).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT_MS,
  );
});
