import { copyFile, mkdir, mkdtemp, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDecompressHandlers } from '@mcap/support';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../../test/helpers/cli.js';
import { describeWithFixtures, fixturesDir, itWithFixtures } from '../../test/helpers/fixtures.js';
import {
  header,
  tinyImage,
  writeMcapMessages,
  writeRosbag2Folder,
  writeSqliteBag,
  type TestBagMessage,
} from '../../test/helpers/bag-writers.js';
import { builtinDefinitionText, DEFINITION_SEPARATOR } from './definitions.js';
import { readImageStamps } from './image-stamps.js';
import { McapBagReader } from './mcap-reader.js';
import { BagWriteError, McapBagWriter } from './mcap-writer.js';
import { openBag } from './open.js';
import { BagFormatError, BagTruncatedError, type BagMessage, type BagReader } from './reader.js';
import { Rosbag2BagReader } from './rosbag2.js';
import { Sqlite3BagReader } from './sqlite-reader.js';

const fixtures = fixturesDir;

const talkerDir = join(fixtures, 'rosbag2_talker');
const imagesDir = join(fixtures, 'ros2bag_tools_images_bag');
const turtlebot = join(fixtures, 'evo_nav2_turtlebot/nav2_turtlebot.mcap');
const tfExampleDir = join(fixtures, 'evo_tf_example');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'actial-readers-'));
});

async function readAll(path: string, topics?: string[]): Promise<{ bag: BagReader; messages: BagMessage[] }> {
  const bag = await openBag(path);
  try {
    const messages: BagMessage[] = [];
    for await (const m of bag.messages(topics ? { topics } : {})) messages.push(m);
    return { bag, messages };
  } finally {
    await bag.close();
  }
}

const NS = 1_000_000_000n;
const stampNs = (m: BagMessage): bigint => {
  const s = (m.message as { header: { stamp: { sec: number; nanosec: number } } }).header.stamp;
  return BigInt(s.sec) * NS + BigInt(s.nanosec);
};

describeWithFixtures('bags written by other tools (shared/fixtures)', () => {
  it('rosbag2 talker folder (MCAP + metadata.yaml v4) and its .mcap file alone', async () => {
    const folder = await readAll(talkerDir);
    expect(folder.bag).toBeInstanceOf(Rosbag2BagReader);
    expect(folder.bag.storage).toBe('mcap');
    const strings = folder.messages.filter((m) => m.topic === '/topic');
    expect(strings.map((m) => (m.message as { data: string }).data)).toEqual(
      Array.from({ length: 10 }, (_, i) => `Hello, world! ${i}`),
    );
    const log = folder.messages.find((m) => m.topic === '/rosout');
    expect(log?.message).toMatchObject({
      name: 'minimal_publisher',
      stamp: { sec: 1585866235, nanosec: 112130688 },
    });
    const file = await readAll(join(talkerDir, 'talker.mcap'));
    expect(file.messages.map((m) => [m.topic, m.logTimeNs])).toEqual(
      folder.messages.map((m) => [m.topic, m.logTimeNs]),
    );
    const bag = await openBag(talkerDir);
    expect(await bag.topics()).toEqual(
      expect.arrayContaining([
        {
          name: '/parameter_events',
          schemaName: 'rcl_interfaces/msg/ParameterEvent',
          messageEncoding: 'cdr',
          messageCount: 0,
        },
        { name: '/topic', schemaName: 'std_msgs/msg/String', messageEncoding: 'cdr', messageCount: 10 },
      ]),
    );
    await bag.close();
  });

  it('images.bag_0.db3 (sqlite3, no message_definitions): built-in sensor_msgs/Image, stamps normalised and counted', async () => {
    for (const path of [imagesDir, join(imagesDir, 'images.bag_0.db3')]) {
      const { bag, messages } = await readAll(path);
      expect(bag.storage).toBe('sqlite3');
      expect(messages).toHaveLength(3);
      expect(messages[0]?.message).toMatchObject({
        header: { frame_id: 'camera_optical_frame' },
        height: 2,
        width: 2,
        encoding: 'mono8',
        step: 2,
      });
      expect((messages[0]?.message as { data: Uint8Array }).data).toHaveLength(4);
      // The file holds {sec: 0, nanosec: 1e9} and {sec: 0, nanosec: 2e9}: carried into sec.
      expect(messages.map((m) => (m.message as { header: { stamp: unknown } }).header.stamp)).toEqual([
        { sec: 0, nanosec: 0 },
        { sec: 1, nanosec: 0 },
        { sec: 2, nanosec: 0 },
      ]);
      expect(bag.normalizedStamps).toBe(2);
      expect(messages.map((m) => m.logTimeNs)).toEqual([0n, NS, 2n * NS]);
    }
  });

  it('images bag as an old rosbag2 (metadata version 3) writes it: file paths start with the folder name', async () => {
    const v3 = join(dir, 'images-v3');
    await mkdir(v3);
    await copyFile(join(imagesDir, 'images.bag_0.db3'), join(v3, 'images.bag_0.db3'));
    const metadata = await readFile(join(imagesDir, 'metadata.yaml'), 'utf8');
    await writeFile(
      join(v3, 'metadata.yaml'),
      metadata
        .replace(/version: \d+/, 'version: 3')
        .replace('- images.bag_0.db3', '- images-v3/images.bag_0.db3'),
    );
    const [old, current] = await Promise.all([readAll(v3), readAll(imagesDir)]);
    expect(old.messages).toEqual(current.messages);
  });

  it('nav2_turtlebot.mcap (Go writer, zstd chunks): tf, tf_static with the oakd optical frames', async () => {
    const { bag, messages } = await readAll(turtlebot, ['/tf_static', '/tf']);
    expect(bag).toBeInstanceOf(McapBagReader);
    expect(messages.filter((m) => m.topic === '/tf')).toHaveLength(5422);
    const statics = messages.filter((m) => m.topic === '/tf_static');
    expect(statics).toHaveLength(1);
    const children = (statics[0]?.message as { transforms: { child_frame_id: string }[] }).transforms.map(
      (t) => t.child_frame_id,
    );
    expect(children).toEqual(
      expect.arrayContaining(['oakd_rgb_camera_optical_frame', 'oakd_left_camera_optical_frame']),
    );
    const times = messages.map((m) => m.logTimeNs);
    expect([...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(times);
  });

  it('tf_example (sqlite3 written by the rosbags library, with message_definitions, stamps beyond 2^53)', async () => {
    const { bag, messages } = await readAll(tfExampleDir);
    expect(bag.storage).toBe('sqlite3');
    expect(messages).toHaveLength(518);
    // metadata.yaml: starting_time 1714741164111822142, exact (not rounded to a double).
    expect(messages[0]?.logTimeNs).toBe(1714741164111822142n);
    expect(messages[0]?.message).toMatchObject({
      transforms: [{ header: { frame_id: 'base_footprint' }, child_frame_id: 'base_link' }],
    });
    expect(bag.normalizedStamps).toBe(0);
    const file = await Sqlite3BagReader.open(join(tfExampleDir, 'tf_example.db3'));
    expect(file.rosDistro).toBe('rosbags');
    expect((await file.topics()).map((t) => [t.name, t.messageCount])).toEqual([
      ['/tf_static', 1],
      ['/tf', 517],
    ]);
    await file.close();
  });

  it('actial pairs reads a sqlite3 rosbag2 folder', async () => {
    const { runCli } = await import('../../test/helpers/cli.js');
    const result = await runCli([
      'pairs',
      '--bag',
      imagesDir,
      '--topic',
      '/image',
      '--policy',
      'temporal',
      '--dt',
      '1',
      '--json',
    ]);
    expect(result.stderr).toContain('3 images');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      { stamps: ['0', '1000000000'] },
      { stamps: ['1000000000', '2000000000'] },
    ]);
  });
});

const stamp0 = 1_767_225_600_123_456_789n;
const split: TestBagMessage[][] = [
  [0, 1, 2].map((i) => ({
    topic: '/cam',
    type: 'sensor_msgs/msg/Image',
    logTimeNs: stamp0 + BigInt(i) * NS,
    message: tinyImage(stamp0 + BigInt(i) * NS, i),
  })),
  [3, 4].map((i) => ({
    topic: '/cam',
    type: 'sensor_msgs/msg/Image',
    logTimeNs: stamp0 + BigInt(i) * NS,
    message: tinyImage(stamp0 + BigInt(i) * NS, i),
  })),
];
split[1]?.push({
  topic: '/chatter',
  type: 'std_msgs/msg/String',
  logTimeNs: stamp0 + 5n * NS,
  message: { data: 'last' },
});

describe('bags written by this project', () => {
  it('McapBagWriter round trip: images, tf, actial_ros ViewpointEstimate, diagnostics', async () => {
    const path = join(dir, 'roundtrip.mcap');
    const estimate = {
      header: header(stamp0, 'cam1_optical_frame'),
      source_camera: 'cam1',
      target_camera: 'cam2',
      source_stamp: header(stamp0, '').stamp,
      target_stamp: header(stamp0, '').stamp,
      ego_translation: 1,
      ego_translation_probs: [0.125, 0.25, 0.625],
      object_translation: -1,
      object_translation_probs: [0.625, 0.25, 0.125],
      yaw_rotation: 0,
      yaw_rotation_probs: [0.25, 0.5, 0.25],
      yaw_degrees: Number.NaN,
      consistency: 0.75,
      inconsistent: false,
      rotation: { x: 0, y: 0.5, z: 0, w: 0.5 },
      model: 'test',
      inference_ms: 12.5,
    };
    const messages: TestBagMessage[] = [
      {
        topic: '/cam/image_raw',
        type: 'sensor_msgs/msg/Image',
        logTimeNs: stamp0,
        message: tinyImage(stamp0, 7),
      },
      {
        topic: '/tf',
        type: 'tf2_msgs/msg/TFMessage',
        logTimeNs: stamp0 + 1n,
        message: {
          transforms: [
            {
              header: header(stamp0, 'world'),
              child_frame_id: 'cam',
              transform: { translation: { x: 1, y: 2, z: 3 }, rotation: { x: 0, y: 0, z: 0, w: 1 } },
            },
          ],
        },
      },
      {
        topic: '/actial/viewpoint',
        type: 'actial_ros/msg/ViewpointEstimate',
        logTimeNs: stamp0 + 2n,
        message: estimate,
      },
      {
        topic: '/diagnostics',
        type: 'diagnostic_msgs/msg/DiagnosticArray',
        logTimeNs: stamp0 + 3n,
        message: {
          header: header(stamp0, ''),
          status: [
            {
              level: 1,
              name: 'actial: cam1',
              message: 'slow',
              hardware_id: '',
              values: [{ key: 'rate', value: '3' }],
            },
          ],
        },
      },
    ];
    await writeMcapMessages(path, messages);
    const { bag, messages: read } = await readAll(path);
    expect(bag).toBeInstanceOf(McapBagReader);
    expect((bag as McapBagReader).indexed).toBe(true);
    expect(read.map((m) => [m.topic, m.schemaName, m.logTimeNs])).toEqual(
      messages.map((m) => [m.topic, m.type, m.logTimeNs]),
    );
    expect(read[0]?.message).toEqual({
      ...(messages[0]?.message as object),
      data: new Uint8Array([7, 1, 2, 3]),
    });
    expect(read[1]?.message).toEqual(messages[1]?.message);
    const back = read[2]?.message as typeof estimate;
    expect(back).toEqual({
      ...estimate,
      ego_translation_probs: Float32Array.from(estimate.ego_translation_probs),
      object_translation_probs: Float32Array.from(estimate.object_translation_probs),
      yaw_rotation_probs: Float32Array.from(estimate.yaw_rotation_probs),
      yaw_degrees: Number.NaN,
    });
    expect(read[3]?.message).toEqual(messages[3]?.message);
    // The ros2 profile's channel metadata, parsed as rosbag2 does (a YAML list of QoS profiles).
    const { McapIndexedReader } = await import('@mcap/core');
    const bytes = await readFile(path);
    const indexed = await McapIndexedReader.Initialize({
      readable: {
        size: async () => BigInt(bytes.length),
        read: async (offset: bigint, length: bigint) =>
          bytes.subarray(Number(offset), Number(offset + length)),
      },
      decompressHandlers: await loadDecompressHandlers(),
    });
    expect(indexed.header.profile).toBe('ros2');
    const qos = [...indexed.channelsById.values()].map((c) => [
      c.topic,
      parseYaml(c.metadata.get('offered_qos_profiles') ?? ''),
    ]);
    expect(qos).toContainEqual([
      '/tf',
      [expect.objectContaining({ reliability: 1, durability: 2, depth: 10 })],
    ]);
    // The schema is the concatenated ros2msg form rosbag2 writes, dependencies included.
    const text = builtinDefinitionText('actial_ros/msg/ViewpointEstimate') ?? '';
    expect(text.split(DEFINITION_SEPARATOR).map((s) => s.split('\n')[0])).toEqual([
      expect.stringContaining('#'),
      'MSG: std_msgs/Header',
      'MSG: builtin_interfaces/Time',
      'MSG: geometry_msgs/Quaternion',
    ]);
    expect(
      text.startsWith((await readFile(join(repoRoot, 'msg/ViewpointEstimate.msg'), 'utf8')).trimEnd()),
    ).toBe(true);
  });

  it('McapBagWriter refuses unknown types and messages that do not fit, naming them', async () => {
    const writer = await McapBagWriter.create(join(dir, 'refuse.mcap'));
    await expect(writer.write('/x', 'my_pkg/msg/Thing', {}, { logTimeNs: 1n })).rejects.toThrow(
      /no definition of my_pkg\/msg\/Thing/,
    );
    await expect(writer.write('/s', 'std_msgs/msg/String', { data: 42 }, { logTimeNs: 1n })).rejects.toThrow(
      BagWriteError,
    );
    await expect(
      writer.write(
        '/v',
        'actial_ros/msg/ViewpointEstimate',
        { ego_translation_probs: [1, 0] },
        { logTimeNs: 1n },
      ),
    ).rejects.toThrow(/ego_translation_probs has 2 elements, not 3/);
    await expect(
      writer.write(
        '/tf',
        'tf2_msgs/msg/TFMessage',
        { transforms: [{ header: { stamp: { sec: 'x', nanosec: 0 } } }] },
        { logTimeNs: 1n },
      ),
    ).rejects.toThrow(/transforms\[0\]\.header\.stamp is object .*not time/);
    await writer.write('/s', 'std_msgs/msg/String', { data: 'ok' }, { logTimeNs: 2n });
    await expect(writer.write('/s', 'std_msgs/msg/Int32', { data: 1 }, { logTimeNs: 3n })).rejects.toThrow(
      /topic \/s is std_msgs\/msg\/String; cannot also write std_msgs\/msg\/Int32/,
    );
    await writer.close();
    const { messages } = await readAll(join(dir, 'refuse.mcap'));
    expect(messages.map((m) => m.message)).toEqual([{ data: 'ok' }]);
  });

  it.each(['mcap', 'sqlite3'] as const)(
    'split rosbag2 folder (%s, two files): read in order, stamps exact',
    async (storage) => {
      const folder = join(dir, `split-${storage}`);
      await writeRosbag2Folder(folder, storage, split);
      const { bag, messages } = await readAll(folder);
      expect(bag.storage).toBe(storage);
      expect((bag as Rosbag2BagReader).files).toHaveLength(2);
      expect(messages.map((m) => m.logTimeNs)).toEqual(split.flat().map((m) => m.logTimeNs));
      expect(messages.filter((m) => m.topic === '/cam').map(stampNs)).toEqual(
        [0n, 1n, 2n, 3n, 4n].map((i) => stamp0 + i * NS),
      );
      expect(messages[5]?.message).toEqual({ data: 'last' });
      const reopened = await openBag(folder);
      expect((await reopened.topics()).map((t) => [t.name, t.schemaName, t.messageCount])).toEqual([
        ['/cam', 'sensor_msgs/msg/Image', 5],
        ['/chatter', 'std_msgs/msg/String', 1],
      ]);
      const stamps = [];
      for await (const s of readImageStamps(reopened, ['/cam'])) stamps.push(s.stamp);
      expect(stamps).toHaveLength(5);
      await reopened.close();
    },
  );

  it('a split folder without metadata.yaml is read from its files in split order', async () => {
    const folder = join(dir, 'no-metadata');
    await mkdir(folder);
    await writeSqliteBag(join(folder, 'rec_10.db3'), split[1] ?? []);
    await writeSqliteBag(join(folder, 'rec_2.db3'), split[0] ?? []);
    const { messages } = await readAll(folder);
    expect(messages.map((m) => m.logTimeNs)).toEqual(split.flat().map((m) => m.logTimeNs));
  });

  it('a sqlite3 file without message_definitions decodes with built-in definitions', async () => {
    const path = join(dir, 'old.db3');
    await writeSqliteBag(path, split[0] ?? [], { definitions: false });
    const { messages } = await readAll(path);
    expect(messages.map(stampNs)).toEqual([0n, 1n, 2n].map((i) => stamp0 + i * NS));
  });
});

describe('bad bags: clear errors, never silent', () => {
  it('a truncated MCAP yields its complete messages, then BagTruncatedError', async () => {
    const path = join(dir, 'cut.mcap');
    const writer = await McapBagWriter.create(path, { chunkSize: 1024, compression: 'none' });
    for (let i = 0; i < 400; i++) {
      const t = stamp0 + BigInt(i) * 1_000_000n;
      await writer.write('/cam', 'sensor_msgs/msg/Image', tinyImage(t, i), { logTimeNs: t });
    }
    await writer.close();
    const { size } = await stat(path);
    await truncate(path, Math.floor(size / 2));
    const bag = await openBag(path);
    expect((bag as McapBagReader).indexed).toBe(false);
    let read = 0;
    let caught: unknown;
    try {
      for await (const _ of bag.messages()) read += 1;
    } catch (error) {
      caught = error;
    }
    await bag.close();
    expect(read).toBeGreaterThan(50);
    expect(read).toBeLessThan(400);
    expect(caught).toBeInstanceOf(BagTruncatedError);
    expect((caught as BagTruncatedError).messagesRead).toBe(read);
    expect((caught as Error).message).toMatch(
      new RegExp(
        `cut\\.mcap: truncated MCAP file: it ends after ${Math.floor(size / 2)} bytes .* after ${read} complete messages`,
      ),
    );
  });

  itWithFixtures('a truncated sqlite3 file is refused as truncated or corrupt', async () => {
    const path = join(dir, 'cut.db3');
    const bytes = await readFile(join(tfExampleDir, 'tf_example.db3'));
    await writeFile(path, bytes.subarray(0, 40_000));
    const attempt = async (): Promise<void> => {
      const bag = await openBag(path);
      try {
        for await (const _ of bag.messages());
      } finally {
        await bag.close();
      }
    };
    await expect(attempt()).rejects.toThrow(BagFormatError);
    await expect(attempt()).rejects.toThrow(/cut\.db3: .*(truncated or corrupt|malformed)/);
  });

  it('an unknown message encoding is an error naming it and the topic (MCAP and sqlite3)', async () => {
    const mcap = join(dir, 'json.mcap');
    const { McapWriter } = await import('@mcap/core');
    const { FileHandleWritable } = await import('@mcap/nodejs');
    const { open } = await import('node:fs/promises');
    const handle = await open(mcap, 'w');
    const writer = new McapWriter({ writable: new FileHandleWritable(handle) });
    await writer.start({ profile: '', library: 'test' });
    const schemaId = await writer.registerSchema({
      name: 'Thing',
      encoding: 'jsonschema',
      data: new TextEncoder().encode('{}'),
    });
    const channelId = await writer.registerChannel({
      topic: '/json',
      schemaId,
      messageEncoding: 'json',
      metadata: new Map(),
    });
    await writer.addMessage({
      channelId,
      sequence: 0,
      logTime: 1n,
      publishTime: 1n,
      data: new TextEncoder().encode('{}'),
    });
    await writer.end();
    await handle.close();
    await expect(readAll(mcap)).rejects.toThrow(
      /json\.mcap: topic \/json \(Thing\) is encoded as 'json'; only cdr/,
    );

    const db3 = join(dir, 'json.db3');
    await writeSqliteBag(
      db3,
      [{ topic: '/j', type: 'std_msgs/msg/String', logTimeNs: 1n, message: { data: 'x' } }],
      {
        serializationFormat: { '/j': 'json' },
      },
    );
    await expect(readAll(db3)).rejects.toThrow(
      /json\.db3: topic \/j \(std_msgs\/msg\/String\) is encoded as 'json'/,
    );
  });

  it('a type with no definition in the bag and none built in is named', async () => {
    const path = join(dir, 'custom.db3');
    await writeSqliteBag(path, split[0] ?? [], { definitions: false });
    const { default: initSqlJs } = await import('sql.js');
    const SQL = await initSqlJs();
    const db = new SQL.Database(await readFile(path));
    db.run("UPDATE topics SET type = 'my_pkg/msg/Custom'");
    await writeFile(path, db.export());
    await expect(readAll(path)).rejects.toThrow(
      /topic \/cam is my_pkg\/msg\/Custom: the bag holds no definition of it, and there is no built-in/,
    );
  });

  it('rosbag2 folders: compressed, unknown storage, missing files, no bag at all', async () => {
    const compressed = join(dir, 'compressed');
    await writeRosbag2Folder(compressed, 'mcap', split, {
      compression_format: 'zstd',
      compression_mode: 'FILE',
    });
    await expect(openBag(compressed)).rejects.toThrow(/compressed \(zstd, mode FILE\); decompress it first/);
    const missing = join(dir, 'missing-file');
    await writeRosbag2Folder(missing, 'sqlite3', split);
    const metadata = await readFile(join(missing, 'metadata.yaml'), 'utf8');
    await writeFile(join(missing, 'metadata.yaml'), metadata.replace('missing-file_1.db3', 'gone_1.db3'));
    await expect(openBag(missing)).rejects.toThrow(
      /metadata\.yaml \(version \d+\) lists gone_1\.db3, which is not at .*missing-file\/gone_1\.db3/,
    );
    const other = join(dir, 'other-storage');
    await writeRosbag2Folder(other, 'mcap', split, { storage_identifier: 'rosbag1' });
    await expect(openBag(other)).rejects.toThrow(/storage 'rosbag1' is not read/);
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await expect(openBag(empty)).rejects.toThrow(
      /not a rosbag2 folder: no metadata\.yaml and no \.mcap or \.db3 file/,
    );
    const zstd = join(dir, 'bag.mcap.zstd');
    await writeFile(zstd, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0]));
    await expect(openBag(zstd)).rejects.toThrow(/zstd-compressed file/);
  });
});
