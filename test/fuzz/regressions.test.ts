/**
 * Bugs the fuzz suite found, each kept as the (shrunk) case that showed it.
 */
import { open, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BoundedFileReadable } from '../../src/bag/mcap-reader.js';
import { openBag } from '../../src/bag/open.js';
import { BagFormatError } from '../../src/bag/reader.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { ManualClock, SpatialNodeCore, type InferenceBackend } from '../../src/node/index.js';
import { checkImageMessage, NodeInputError } from '../../src/node/input.js';
import { checkQueryRequest } from '../../src/node/query-request.js';
import { runCli } from '../helpers/cli.js';
import { imageMessage, nodeTestConfig, NS } from '../helpers/node-frames.js';

const noPrototype = (): object => Object.create(null) as object;

const instantBackend: InferenceBackend = {
  scoreQuestions: (request) =>
    Promise.resolve({
      results: request.questions.map((q) => ({
        probabilities: q.choices.map(() => 1 / q.choices.length),
        choiceIndex: 0,
      })),
    }),
  generate: () => Promise.resolve({ text: '<answer>A</answer>', finishReason: 'stop' }),
};

describe('fuzz regressions: input checks', () => {
  const options = { maxInputPixels: 40_000_000, allowDepthAsImage: false };
  it.each([
    ['a bigint frame_id', { frame_id: 0n }, {}, /header\.frame_id must be a string, got bigint 0/],
    [
      'a sec without prototype',
      { stamp: { sec: noPrototype(), nanosec: 0 } },
      {},
      /\{sec: an object, nanosec: 0\}/,
    ],
    [
      'a bigint is_bigendian',
      {},
      { is_bigendian: 1n },
      /'is_bigendian' must be a number or boolean, got bigint 1/,
    ],
  ])('refuses %s with a NodeInputError (it threw a TypeError)', (_name, header, fields, message) => {
    const image = imageMessage({ stamp: 5n * NS });
    const bad = { ...image, ...fields, header: { ...(image.header as object), ...header } };
    let error: unknown;
    try {
      checkImageMessage(bad, 'raw', options, 'camera left (/left)');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NodeInputError);
    expect((error as Error).message).toMatch(message);
  });

  it('cuts a huge encoding in the message instead of repeating it whole', () => {
    const image = { ...imageMessage({ stamp: 5n * NS }), encoding: 'x'.repeat(100_000) };
    expect(() => checkImageMessage(image, 'raw', options, 'camera left (/left)')).toThrow(
      /unknown encoding "x{60}\.\.\." \(100000 characters\)/,
    );
  });
});

describe('fuzz regressions: service requests', () => {
  const defaults = { cameras: ['left', 'right'], maxNewTokens: 8, timeoutS: 5 };
  it.each([
    [
      'max_new_tokens',
      { max_new_tokens: noPrototype() },
      'max_new_tokens must be a whole number >= 0, got an object',
    ],
    ['timeout_s', { timeout_s: noPrototype() }, 'timeout_s must be a number of seconds >= 0, got an object'],
    ['a camera', { cameras: [noPrototype()] }, "unknown camera 'an object' (cameras: left, right)"],
  ])(
    'answers a request whose %s has no prototype with the reason (String() threw)',
    (_name, fields, error) => {
      expect(checkQueryRequest({ question: '!', cameras: ['left'], ...fields } as never, defaults)).toEqual({
        error,
      });
    },
  );

  it('SpatialNodeCore.query resolves success=false for it, and counts it', async () => {
    const core = await SpatialNodeCore.create({
      config: nodeTestConfig(['left', 'right']),
      backend: instantBackend,
      clock: new ManualClock(NS),
    });
    core.start();
    const response = core.query({
      question: '!',
      cameras: ['right'],
      max_new_tokens: noPrototype(),
    } as never);
    await expect(response).resolves.toMatchObject({
      success: false,
      error: expect.stringMatching(/max_new_tokens/),
    });
    expect(core.stats().inference.invalidQueries).toBe(1);
    await core.close();
  });
});

describe('fuzz regressions: live parameters and counters', () => {
  it('refuses a parameter set to an empty mapping (it was silently ignored)', async () => {
    const core = await SpatialNodeCore.create({
      config: nodeTestConfig(['left', 'right']),
      backend: instantBackend,
      clock: new ManualClock(NS),
    });
    const result = core.updateConfig({ 'viewpoint.rate_hz': {} });
    expect(result.applied).toEqual([]);
    expect(result.refused).toEqual([
      { key: 'viewpoint.rate_hz', reason: expect.stringMatching(/key 'viewpoint\.rate_hz': .*number/i) },
    ]);
    expect(core.updateConfig({ viewpoint: {} }).refused).toEqual([
      { key: 'viewpoint', reason: "'viewpoint' is given an empty mapping, not a value" },
    ]);
    await core.close();
  });

  it('drops (and counts) the waiting jobs of a standing question removed live; every job is accounted for', async () => {
    // Shrunk case: frames at 1000.033 s, then `questions: []`, with the question's job still queued.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const backend: InferenceBackend = {
      ...instantBackend,
      generate: async () => {
        await gate;
        return { text: '<answer>A</answer>', finishReason: 'stop' };
      },
    };
    const clock = new ManualClock(1_000n * NS);
    const answers: unknown[] = [];
    const core = await SpatialNodeCore.create({
      config: nodeTestConfig(['left', 'right'], {
        viewpoint: { enabled: false },
        queue: { size: 4 },
        questions: ['q', 'r'],
        question: {
          q: { text: 'Which way?', cameras: ['left', 'right'], rate_hz: 100 },
          r: { text: 'What is it?', cameras: ['left'], rate_hz: 100 },
        },
      }),
      backend,
      clock,
      onOutput: (output) => {
        if (output.topic === '~/answer') answers.push(output.message);
      },
    });
    core.start();
    for (const k of [0n, 1n]) {
      const stamp = 1_000n * NS + k * 33_000_000n;
      clock.set(stamp);
      core.handleMessage('/left/image_raw', imageMessage({ stamp }));
      core.handleMessage('/right/image_raw', imageMessage({ stamp }));
    }
    await new Promise((resolve) => setImmediate(resolve));
    const before = core.stats().inference;
    expect(before.running).toBe('question');
    expect(before.queued).toBeGreaterThan(0);
    expect(core.updateConfig({ questions: ['r'] }).applied).toEqual(['questions']);
    const after = core.stats();
    // Only the removed question's waiting jobs went.
    const qWaiting = before.queued - after.inference.queued;
    expect(after.inference.dropped).toBe(qWaiting);
    expect(qWaiting).toBeGreaterThan(0);
    release();
    await core.whenIdle();
    const inf = core.stats().inference;
    expect(inf.scheduled.question).toBe(inf.completed.question + inf.dropped);
    expect(answers).toHaveLength(inf.completed.question);
    await core.close();
  });
});

describe('fuzz regressions: bag files', () => {
  /** 64 bytes: the MCAP magic, then a Header record whose length field says 2^31 + 16 bytes. */
  async function hugeHeaderMcap(): Promise<string> {
    const bytes = new Uint8Array(64);
    bytes.set([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a, 0x01]);
    new DataView(bytes.buffer).setBigUint64(9, 2n ** 31n + 16n, true);
    const path = join(await mkdtemp(join(tmpdir(), 'actial-fuzz-regression-')), 'huge-header.mcap');
    await writeFile(path, bytes);
    return path;
  }

  it('a read past the end of an MCAP file is an error, not a 4 GiB buffer and an aborting fs.read', async () => {
    const path = await hugeHeaderMcap();
    const handle = await open(path, 'r');
    try {
      const readable = await BoundedFileReadable.create(handle, path);
      await expect(readable.read(8n, 2n ** 31n + 25n)).rejects.toThrow(
        /a read of 2147483673 bytes at offset 8 goes past the end of the file \(64 bytes\)/,
      );
      await expect(readable.read(0n, 8n)).resolves.toHaveLength(8);
    } finally {
      await handle.close();
    }
    const bag = await openBag(path);
    const read = async (): Promise<void> => {
      for await (const _ of bag.messages()) throw new Error('no message expected');
    };
    await expect(read()).rejects.toThrow(BagFormatError);
    await bag.close();
  });

  it('actial pairs on it exits 2 naming the topic (the process aborted with 134)', async () => {
    const path = await hugeHeaderMcap();
    const result = await runCli([
      'pairs',
      '--bag',
      path,
      '--topic',
      '/cam/image_raw',
      '--topic',
      '/cam2/image_raw',
    ]);
    expect(result.stderr).not.toMatch(/Assertion failed/);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/topic \/cam\/image_raw is not in .*huge-header\.mcap/);
  });
});

describe('fuzz regressions: configuration', () => {
  it('a bigint value (a ROS integer parameter) is refused with a ConfigError naming the key (JSON.stringify threw)', () => {
    const params = { cameras: 5n };
    expect(() => parseConfig(params, { checkModelPath: false })).toThrow(ConfigError);
    expect(() => parseConfig(params, { checkModelPath: false })).toThrow(
      /key 'cameras': .*; got 5n \(bigint\)/,
    );
  });

  it('actial config check with an override that is not YAML exits 2 naming it (a raw YAMLParseError, exit 1)', async () => {
    const result = await runCli(['config', 'check', 'config/default.yaml', '-p', 'cameras=[']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /override 'cameras=\[': the value is not valid YAML \(Flow sequence must end/,
    );
  });
});
