import type { Engine } from '../model/engine.js';
import {
  compressedMessage,
  frameStamp,
  imageMessage,
  nodeTestConfig,
  NS,
  OutputLog,
  rosTime,
  tinyEngine,
} from '../../test/helpers/node-frames.js';
import type { NodeConfig } from '../config/schema.js';
import { prepareImage } from '../image/index.js';
import { ImagePreparePool } from '../image/prepare-pool.js';
import type { InferenceBackend } from './backend.js';
import type { PrepareImage } from './frames.js';
import {
  DIAGNOSTIC_LEVEL,
  ManualClock,
  NodeStateError,
  SpatialNodeCore,
  type DiagnosticArrayMessage,
  type DiagnosticStatusMessage,
  type NodeLogger,
} from './index.js';

const START = 100n * NS;
const HZ = 30;

let engine: Engine;
beforeAll(async () => {
  engine = await tinyEngine();
});
afterAll(async () => {
  await engine.dispose();
});

/** A logger that keeps what it is told. */
class Log implements NodeLogger {
  readonly warnings: string[] = [];
  readonly errors: string[] = [];
  warn(message: string): void {
    this.warnings.push(message);
  }
  error(message: string): void {
    this.errors.push(message);
  }
}

interface Rig {
  readonly core: SpatialNodeCore;
  readonly clock: ManualClock;
  readonly outputs: OutputLog;
  readonly log: Log;
}

/** `prepareImage`: frames are decoded and preprocessed by it (an image thread pool) instead of the core. */
async function rig(config: NodeConfig, start = START, prepareImage?: PrepareImage): Promise<Rig> {
  const clock = new ManualClock(start);
  const outputs = new OutputLog();
  const log = new Log();
  const backend: InferenceBackend = prepareImage
    ? {
        scoreQuestions: (request) => engine.scoreQuestions(request),
        generate: (request) => engine.generate(request),
        prepareImage,
      }
    : engine;
  const core = await SpatialNodeCore.create({
    config,
    backend,
    clock,
    onOutput: outputs.push,
    logger: log,
    nodeName: 'test_node',
  });
  core.start();
  return { core, clock, outputs, log };
}

/**
 * Plays frames k = from..to of `cameras` at 30 Hz from `start`, the clock following the stamps, with a
 * tick after each frame; waits for inference after every simulated second so nothing is dropped.
 */
async function play(
  { core, clock }: Rig,
  cameras: readonly string[],
  from: number,
  to: number,
  options: {
    start?: bigint;
    message?: (camera: string, k: number, stamp: bigint) => unknown;
    frameId?: (camera: string) => string;
  } = {},
): Promise<void> {
  for (let k = from; k <= to; k++) {
    const stamp = frameStamp(options.start ?? START, k, HZ);
    clock.set(stamp);
    for (const [i, camera] of cameras.entries()) {
      const message =
        options.message?.(camera, k, stamp) ??
        imageMessage({ stamp, seed: k + 100 * i, frameId: options.frameId?.(camera) ?? `${camera}_header` });
      core.handleMessage(`/${camera}/image_raw`, message);
    }
    core.tick();
    if (k % HZ === HZ - 1) await core.whenIdle();
  }
  await core.whenIdle();
}

const ns = (t: { sec: number; nanosec: number }): bigint => BigInt(t.sec) * NS + BigInt(t.nanosec);

function statusOf(array: DiagnosticArrayMessage, name: string): DiagnosticStatusMessage {
  const status = array.status.find((s) => s.name === name);
  if (!status) throw new Error(`no status '${name}' in ${array.status.map((s) => s.name).join(', ')}`);
  return status;
}

const valueOf = (status: DiagnosticStatusMessage, key: string): string | undefined =>
  status.values.find((v) => v.key === key)?.value;

describe('SpatialNodeCore viewpoint stream', () => {
  it('publishes one estimate per pair per second from two 30 Hz cameras, stamped with the frames', async () => {
    const r = await rig(nodeTestConfig(['left', 'right'], { camera: { right: { optical_frame: '' } } }));
    await play(r, ['left', 'right'], 0, 3 * HZ + 2);
    const estimates = r.outputs.of('~/viewpoint');
    expect(estimates.map((m) => ns(m.header.stamp))).toEqual([0n, 1n, 2n, 3n].map((s) => START + s * NS));
    for (const m of estimates) {
      expect(m.source_camera).toBe('left');
      expect(m.target_camera).toBe('right');
      expect(m.header.frame_id).toBe('left_optical'); // the configured optical frame of the source
      expect(m.source_stamp).toEqual(m.header.stamp); // identical stamps on both cameras
      expect(m.target_stamp).toEqual(m.header.stamp);
      for (const probs of [m.ego_translation_probs, m.object_translation_probs, m.yaw_rotation_probs]) {
        expect(probs).toHaveLength(3);
        expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      }
      expect(m.model).toBe('bundled');
      expect(m.inference_ms).toBeGreaterThan(0);
      expect(Number.isNaN(m.yaw_degrees)).toBe(true);
    }
    expect(r.outputs.of('/tf')).toEqual([]);
    const stats = r.core.stats();
    expect(stats.cameras.right?.frameId).toBe('right_header'); // from the image header
    expect(stats.cameras.left?.received).toBe(3 * HZ + 3);
    expect(stats.inference.completed.viewpoint).toBe(4);
    expect(stats.inference.dropped).toBe(0);
    await r.core.close();
  });

  it('uses the header frame_id of a source camera without optical_frame, and pairs in list order', async () => {
    const config = nodeTestConfig(['left', 'right'], {
      camera: { right: { optical_frame: '' } },
      pairing: { pair_mode: 'list', pairs: ['right:left'] },
    });
    const r = await rig(config);
    await play(r, ['left', 'right'], 0, HZ + 1);
    const estimates = r.outputs.of('~/viewpoint');
    expect(estimates).toHaveLength(2);
    expect(estimates.map((m) => [m.source_camera, m.target_camera, m.header.frame_id])).toEqual([
      ['right', 'left', 'right_header'],
      ['right', 'left', 'right_header'],
    ]);
    await r.core.close();
  });

  it('decodes CompressedImage cameras (JPEG) alongside raw ones', async () => {
    const config = nodeTestConfig(['left', 'right'], {}, { transport: { left: 'compressed' } });
    const r = await rig(config);
    const jpegs = new Map<number, unknown>();
    for (let k = 0; k <= HZ + 1; k++) {
      jpegs.set(k, await compressedMessage({ stamp: frameStamp(START, k, HZ), seed: k, frameId: 'cam_l' }));
    }
    await play(r, ['left', 'right'], 0, HZ + 1, {
      message: (camera, k) => (camera === 'left' ? jpegs.get(k) : undefined),
    });
    const estimates = r.outputs.of('~/viewpoint');
    expect(estimates.map((m) => ns(m.header.stamp))).toEqual([START, START + NS]);
    expect(r.core.stats().cameras.left).toMatchObject({
      transport: 'compressed',
      received: HZ + 2,
      rejectedTotal: 0,
    });
    await r.core.close();
  });

  it.each([
    ['on its own thread', 0],
    ['in a pool of image threads', 2],
  ])(
    'counts bad images per camera and reason while good ones keep flowing, prepared %s',
    async (_where, threads) => {
      const pool = threads > 0 ? await ImagePreparePool.create({ threads, warmUp: false }) : undefined;
      const prepared = { count: 0 };
      const prepare: PrepareImage | undefined = pool
        ? (source, options) => {
            prepared.count += 1;
            return pool.prepare(source, options);
          }
        : undefined;
      const r = await rig(nodeTestConfig(['left', 'right']), START, prepare);
      try {
        await play(r, ['left', 'right'], 0, 2 * HZ + 1, {
          message: (camera, k, stamp) => {
            if (camera === 'left' && k === 0) {
              // Passes the arrival checks, fails when decoded: yuv422 needs an even width.
              return { ...imageMessage({ stamp }), encoding: 'yuv422', width: 63, step: 126 };
            }
            if (camera === 'left' && k === 5) return { ...imageMessage({ stamp }), encoding: 'rgb9' };
            if (camera === 'right' && k === 7)
              return { ...imageMessage({ stamp }), data: new Uint8Array(10) };
            if (camera === 'right' && k === 8) return 'not an image';
            return undefined;
          },
        });
        // The set at START used the undecodable frame: no estimate for it; the next seconds are fine.
        expect(r.outputs.of('~/viewpoint').map((m) => ns(m.header.stamp))).toEqual([
          START + NS,
          START + 2n * NS,
        ]);
        const stats = r.core.stats();
        expect(stats.cameras.left?.rejected).toEqual({ odd_size: 1, unknown_encoding: 1 });
        // Every image fed is accounted for: the odd_size one was received, then refused at decode.
        expect(stats.cameras.left).toMatchObject({
          received: 2 * HZ + 1,
          rejectedTotal: 2,
          rejectedAtDecode: 1,
        });
        expect(stats.cameras.right?.rejected).toEqual({ short_data: 1, bad_message: 1 });
        expect(stats.pairs[0]?.failed).toBe(1);
        expect(stats.inference.failed.viewpoint).toBe(1);

        // The report published at START + 1 s covers the first second.
        const [, second, third] = r.outputs.of('/diagnostics');
        const left = statusOf(second as DiagnosticArrayMessage, 'test_node: camera left');
        expect(left.level).toBe(DIAGNOSTIC_LEVEL.WARN);
        expect(left.message).toBe(
          '2 images refused since the last report (unknown_encoding: 1, odd_size: 1)',
        );
        expect(valueOf(left, 'rejected.odd_size')).toBe('1');
        expect(valueOf(left, 'rejected')).toBe('2');
        expect(statusOf(second as DiagnosticArrayMessage, 'test_node: camera right').level).toBe(
          DIAGNOSTIC_LEVEL.WARN,
        );
        expect(statusOf(second as DiagnosticArrayMessage, 'test_node: pair left:right').level).toBe(
          DIAGNOSTIC_LEVEL.WARN,
        );
        // Nothing new in the second after: OK again.
        expect(statusOf(third as DiagnosticArrayMessage, 'test_node: camera left').level).toBe(
          DIAGNOSTIC_LEVEL.OK,
        );
        expect(statusOf(third as DiagnosticArrayMessage, 'test_node: pair left:right').level).toBe(
          DIAGNOSTIC_LEVEL.OK,
        );
        // Each reason is logged once, then only counted.
        expect(r.log.warnings.filter((w) => w.includes("'unknown_encoding'"))).toHaveLength(1);

        expect(
          r.core.handleMessage('/left/image_raw', { header: { stamp: { sec: -1, nanosec: 0 } } }),
        ).toMatchObject({
          accepted: false,
          reason: 'bad_stamp',
        });
        expect(r.core.handleMessage('/nobody/image', imageMessage({ stamp: START }))).toMatchObject({
          accepted: false,
          reason: 'unknown_topic',
        });
        const after = r.core.diagnostics(r.clock.now());
        expect(statusOf(after, 'test_node: camera left').message).toBe(
          '1 images refused since the last report (bad_stamp: 1)',
        );
        expect(statusOf(after, 'test_node: input')).toMatchObject({
          level: DIAGNOSTIC_LEVEL.WARN,
          message: '1 messages on unknown topics since the last report',
        });
        // With a pool every frame inference used went through it (one set a second, two cameras).
        if (pool) expect(prepared.count).toBeGreaterThanOrEqual(2 * 3);
      } finally {
        await r.core.close();
        await pool?.close();
      }
    },
  );

  it('counts every bad frame of a set, also one that fails after another frame of the set', async () => {
    // Both frames of the first set fail at decode, the right one 50 ms after the left one.
    const slowFailures: PrepareImage = async (source, options) => {
      try {
        return await prepareImage(source, options);
      } catch (error) {
        if (source.kind === 'raw' && source.message.width === 61) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        throw error;
      }
    };
    const r = await rig(nodeTestConfig(['left', 'right']), START, slowFailures);
    try {
      await play(r, ['left', 'right'], 0, HZ, {
        message: (camera, k, stamp) =>
          k === 0
            ? {
                ...imageMessage({ stamp }),
                encoding: 'yuv422',
                width: camera === 'left' ? 63 : 61,
                step: 126,
              }
            : undefined,
      });
      const stats = r.core.stats();
      for (const camera of ['left', 'right']) {
        expect(stats.cameras[camera]).toMatchObject({ rejectedTotal: 1, rejectedAtDecode: 1 });
        expect(stats.cameras[camera]?.rejected).toEqual({ odd_size: 1 });
      }
      expect(stats.inference.failed.viewpoint).toBe(1);
    } finally {
      await r.core.close();
    }
  });

  it('publishes /diagnostics at diagnostics.rate_hz of the clock, stamped with the clock', async () => {
    const r = await rig(nodeTestConfig(['left', 'right'], { diagnostics: { rate_hz: 1 } }));
    await play(r, ['left', 'right'], 0, 3 * HZ);
    const reports = r.outputs.of('/diagnostics');
    expect(reports.map((d) => ns(d.header.stamp))).toEqual([0n, 1n, 2n, 3n].map((s) => START + s * NS));
    const last = reports[reports.length - 1] as DiagnosticArrayMessage;
    expect(last.status.map((s) => s.name)).toEqual([
      'test_node: camera left',
      'test_node: camera right',
      'test_node: pair left:right',
      'test_node: inference',
      'test_node: input',
    ]);
    const left = statusOf(last, 'test_node: camera left');
    expect(left.level).toBe(DIAGNOSTIC_LEVEL.OK);
    expect(left.hardware_id).toBe('/left/image_raw');
    expect(Number(valueOf(left, 'rate_hz'))).toBeCloseTo(30, 0);
    const inference = statusOf(last, 'test_node: inference');
    expect(inference.level).toBe(DIAGNOSTIC_LEVEL.OK);
    expect(valueOf(inference, 'execution_provider')).toBe('cpu');
    expect(valueOf(inference, 'model')).toBe('bundled');
    expect(Number(valueOf(inference, 'viewpoint.latency_ms.p50'))).toBeGreaterThan(0);
    expect(valueOf(inference, 'viewpoint.completed')).toBe('3');
    await r.core.close();
  });

  it('turns a silent camera STALE and stops only its pairs (three cameras)', async () => {
    const r = await rig(nodeTestConfig(['a', 'b', 'c'], { diagnostics: { stale_after_s: 2 } }));
    await play(r, ['a', 'b', 'c'], 0, 2 * HZ - 1);
    await play(r, ['a', 'b'], 2 * HZ, 5 * HZ + 2);
    const estimates = r.outputs.of('~/viewpoint');
    const stampsOf = (source: string, target: string): bigint[] =>
      estimates
        .filter((m) => m.source_camera === source && m.target_camera === target)
        .map((m) => ns(m.header.stamp));
    const seconds = (...s: bigint[]): bigint[] => s.map((x) => START + x * NS);
    expect(stampsOf('a', 'b')).toEqual(seconds(0n, 1n, 2n, 3n, 4n, 5n));
    expect(stampsOf('a', 'c')).toEqual(seconds(0n, 1n));
    expect(stampsOf('b', 'c')).toEqual(seconds(0n, 1n));

    const diagnostics = r.core.diagnostics(r.clock.now());
    expect(statusOf(diagnostics, 'test_node: camera c')).toMatchObject({
      level: DIAGNOSTIC_LEVEL.STALE,
      message: 'no images for 3.100 s',
    });
    expect(statusOf(diagnostics, 'test_node: camera a').level).toBe(DIAGNOSTIC_LEVEL.OK);
    expect(statusOf(diagnostics, 'test_node: pair a:b').level).toBe(DIAGNOSTIC_LEVEL.OK);
    expect(statusOf(diagnostics, 'test_node: pair a:c').level).toBe(DIAGNOSTIC_LEVEL.STALE);
    expect(statusOf(diagnostics, 'test_node: pair b:c')).toMatchObject({
      level: DIAGNOSTIC_LEVEL.STALE,
      message: 'stopped: camera c silent',
    });
    await r.core.close();
  });

  it('resets pairing when time jumps backwards and carries on in the new time', async () => {
    const r = await rig(nodeTestConfig(['left', 'right']));
    await play(r, ['left', 'right'], 0, 2 * HZ + 1);
    const restart = 10n * NS;
    await play(r, ['left', 'right'], 0, 2 * HZ + 1, { start: restart });
    expect(r.outputs.of('~/viewpoint').map((m) => ns(m.header.stamp))).toEqual([
      START,
      START + NS,
      START + 2n * NS,
      restart,
      restart + NS,
      restart + 2n * NS,
    ]);
    const stats = r.core.stats();
    expect(stats.cameras.left?.timeJumps).toBe(1);
    expect(stats.cameras.right?.timeJumps).toBe(1);
    expect(stats.pairs[0]?.sync.resets).toBeGreaterThanOrEqual(1);
    expect(r.log.warnings.some((w) => w.includes('time jumped backwards'))).toBe(true);
    // Only frames of the new time are left for queries.
    const answer = await r.core.query({
      question: 'Which?',
      cameras: ['left'],
      choices: ['A', 'B'],
      stamp: rosTime(START + NS),
    });
    expect(answer.success).toBe(false);
    expect(answer.error).toMatch(/^no frame of camera 'left' within 0\.100000000 s of stamp 101\.000000000/);
    await r.core.close();
  });
});

describe('SpatialNodeCore pairing policies', () => {
  it.each(['approximate', 'exact', 'latest'] as const)(
    'estimates at the configured rate with policy %s',
    async (policy) => {
      const r = await rig(nodeTestConfig(['left', 'right'], { pairing: { policy, latest_driver: 'right' } }));
      await play(r, ['left', 'right'], 0, HZ + 2);
      expect(r.outputs.of('~/viewpoint').map((m) => ns(m.header.stamp))).toEqual([START, START + NS]);
      await r.core.close();
    },
  );

  it('pairs each camera with itself dt earlier under the temporal policy', async () => {
    const r = await rig(nodeTestConfig(['left'], { pairing: { policy: 'temporal', temporal_dt_s: 0.5 } }));
    await play(r, ['left'], 0, 2 * HZ + 1);
    const estimates = r.outputs.of('~/viewpoint');
    expect(estimates.map((m) => [m.source_camera, m.target_camera])).toEqual([
      ['left', 'left'],
      ['left', 'left'],
    ]);
    // The first frame whose t - 0.5 s lies within max_interval_s (0.05 s) of an earlier one pairs with it;
    // then one pair per second of stamps.
    const at = (k: number): bigint => frameStamp(START, k, HZ);
    expect(estimates.map((m) => [ns(m.source_stamp), ns(m.target_stamp)])).toEqual([
      [at(0), at(14)],
      [at(29), at(44)],
    ]);
    expect(r.core.pairs).toEqual([['left', 'left']]);
    await r.core.close();
  });
});

describe('SpatialNodeCore /tf output', () => {
  const tfConfig = (): NodeConfig => nodeTestConfig(['left', 'right'], { tf: { publish: true } });
  const transform = (parent: string, child: string, stamp: bigint) => ({
    transforms: [
      {
        header: { stamp: rosTime(stamp), frame_id: parent },
        child_frame_id: child,
        transform: { translation: { x: 0, y: 0, z: 0 }, rotation: { x: 0, y: 0, z: 0, w: 1 } },
      },
    ],
  });

  it('publishes the estimated rotation under <source optical frame><suffix>, stamped with the target frame', async () => {
    const r = await rig(tfConfig());
    await play(r, ['left', 'right'], 0, HZ + 1);
    const estimates = r.outputs.of('~/viewpoint');
    const tf = r.outputs.of('/tf');
    expect(tf).toHaveLength(2);
    tf.forEach((message, i) => {
      expect(message.transforms).toEqual([
        {
          header: { stamp: estimates[i]?.target_stamp, frame_id: 'left_optical' },
          child_frame_id: 'left_optical_actial_estimate',
          transform: { translation: { x: 0, y: 0, z: 0 }, rotation: estimates[i]?.rotation },
        },
      ]);
    });
    // Its own transforms coming back through a /tf subscription are not someone else's frame.
    for (const message of tf) r.core.handleMessage('/tf', message);
    await play(r, ['left', 'right'], HZ + 2, 2 * HZ + 1);
    expect(r.outputs.of('/tf')).toHaveLength(3);
    // Another publisher using the name: the node stops publishing it.
    r.core.handleMessage('/tf', transform('base_link', 'left_optical_actial_estimate', START));
    await play(r, ['left', 'right'], 2 * HZ + 2, 3 * HZ + 1);
    expect(r.outputs.of('/tf')).toHaveLength(3);
    expect(r.outputs.of('~/viewpoint')).toHaveLength(4);
    await r.core.close();
  });

  it('never publishes over a frame seen on /tf_static, and warns once', async () => {
    const r = await rig(tfConfig());
    expect(
      r.core.handleMessage('/tf_static', transform('base_link', 'left_optical_actial_estimate', 0n)),
    ).toEqual({
      accepted: true,
    });
    await play(r, ['left', 'right'], 0, 2 * HZ + 1);
    expect(r.outputs.of('~/viewpoint')).toHaveLength(3);
    expect(r.outputs.of('/tf')).toEqual([]);
    expect(
      r.log.warnings.filter((w) => w.includes("frame 'left_optical_actial_estimate' already exists")),
    ).toHaveLength(1);
    expect(r.core.stats().pairs[0]?.tfRefused).toBe('left_optical_actial_estimate');
    const pair = statusOf(r.core.diagnostics(r.clock.now()), 'test_node: pair left:right');
    expect(pair.level).toBe(DIAGNOSTIC_LEVEL.WARN);
    // A different suffix, set live, is free.
    expect(r.core.updateConfig({ 'tf.child_frame_suffix': '_vlm' })).toEqual({
      applied: ['tf.child_frame_suffix'],
      refused: [],
    });
    await play(r, ['left', 'right'], 2 * HZ + 2, 3 * HZ + 1);
    expect(r.outputs.of('/tf').map((m) => m.transforms[0]?.child_frame_id)).toEqual(['left_optical_vlm']);
    await r.core.close();
  });

  it('clears the /tf refusal WARN of a pair when tf.publish is turned off', async () => {
    const r = await rig(tfConfig());
    r.core.handleMessage('/tf_static', transform('base_link', 'left_optical_actial_estimate', 0n));
    await play(r, ['left', 'right'], 0, HZ + 1);
    const level = () => statusOf(r.core.diagnostics(r.clock.now()), 'test_node: pair left:right').level;
    expect(level()).toBe(DIAGNOSTIC_LEVEL.WARN);
    expect(level()).toBe(DIAGNOSTIC_LEVEL.WARN); // standing while output is refused
    r.core.updateConfig({ 'tf.publish': false });
    expect(r.core.stats().pairs[0]?.tfRefused).toBeNull();
    expect(level()).toBe(DIAGNOSTIC_LEVEL.OK);
    await r.core.close();
  });

  it('refuses a bad tf message without throwing', async () => {
    const r = await rig(tfConfig());
    expect(r.core.handleMessage('/tf', { transforms: [{ header: {} }] })).toMatchObject({
      accepted: false,
      reason: 'bad_stamp',
    });
    expect(r.core.handleMessage('/tf', null)).toMatchObject({ accepted: false, reason: 'bad_message' });
    expect(r.core.stats().input.tfRejected).toBe(2);
    await r.core.close();
  });
});

describe('SpatialNodeCore standing questions', () => {
  it('asks each standing question at its rate about the latest frames of its cameras', async () => {
    const config = nodeTestConfig(['left', 'right'], {
      viewpoint: { enabled: false },
      questions: ['which', 'describe'],
      question: {
        which: {
          text: 'Which image is brighter? A: first B: second',
          cameras: ['left', 'right'],
          choices: ['A', 'B'],
          rate_hz: 1,
        },
        describe: { text: 'Describe the scene.', cameras: ['right'], rate_hz: 0.5 },
      },
    });
    const r = await rig(config);
    await play(r, ['left', 'right'], 0, 2 * HZ + 1);
    expect(r.outputs.of('~/viewpoint')).toEqual([]);
    const answers = r.outputs.of('~/answer');
    const which = answers.filter((a) => a.question.startsWith('Which'));
    const describe = answers.filter((a) => a.question === 'Describe the scene.');
    expect(which.map((a) => ns(a.header.stamp))).toEqual([START, START + NS, START + 2n * NS]);
    expect(describe.map((a) => ns(a.header.stamp))).toEqual([START, START + 2n * NS]);
    for (const a of which) {
      expect(a.cameras).toEqual(['left', 'right']);
      expect(a.stamps).toEqual([a.header.stamp, a.header.stamp]);
      expect(a.header.frame_id).toBe('left_optical');
      expect(a.choices).toEqual(['A', 'B']);
      expect(a.probabilities.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 6);
      expect(a.answer).toBe(a.choices[a.choice_index]);
    }
    for (const a of describe) {
      expect(a).toMatchObject({ cameras: ['right'], choices: [], probabilities: [], choice_index: -1 });
      expect(a.header.frame_id).toBe('right_optical');
    }
    expect(r.core.stats().questions).toEqual({
      which: { cameras: ['left', 'right'], scheduled: 3, published: 3, failed: 0, timedOut: 0, dropped: 0 },
      describe: { cameras: ['right'], scheduled: 2, published: 2, failed: 0, timedOut: 0, dropped: 0 },
    });
    await r.core.close();
  });
});

describe('SpatialNodeCore.updateConfig', () => {
  it('applies rate changes live and refuses what needs a reconfigure, with the reason', async () => {
    const r = await rig(nodeTestConfig(['left', 'right']));
    await play(r, ['left', 'right'], 0, HZ - 1);
    const result = r.core.updateConfig({
      viewpoint: { rate_hz: 2 },
      'model.path': '/models/other',
      'pairing.policy': 'exact',
      'viewpoint.speed': 3,
    });
    expect(result.applied).toEqual(['viewpoint.rate_hz']);
    expect(result.refused).toEqual([
      {
        key: 'model.path',
        reason: expect.stringContaining('the model is loaded when the node is configured'),
      },
      { key: 'pairing.policy', reason: expect.stringContaining('reconfigure the node') },
      { key: 'viewpoint.speed', reason: "unknown parameter 'viewpoint.speed'" },
    ]);
    expect(r.core.config.viewpoint.rate_hz).toBe(2);
    expect(r.core.config.model.path).toBe('');
    await play(r, ['left', 'right'], HZ, 2 * HZ + 1);
    expect(r.outputs.of('~/viewpoint').map((m) => Number(ns(m.header.stamp) - START) / 1e9)).toEqual([
      0, 1, 1.5, 2,
    ]);

    expect(r.core.updateConfig({ 'viewpoint.rate_hz': -1 })).toEqual({
      applied: [],
      refused: [
        { key: 'viewpoint.rate_hz', reason: expect.stringMatching(/^key 'viewpoint.rate_hz': .*>=0/) },
      ],
    });
    await r.core.close();
  });

  it('adds a standing question live, and resizes the queue', async () => {
    const r = await rig(nodeTestConfig(['left', 'right'], { viewpoint: { enabled: false } }));
    const result = r.core.updateConfig({
      questions: ['door'],
      question: {
        door: { text: 'Is it open? A: yes B: no', cameras: ['left'], choices: ['A', 'B'], rate_hz: 1 },
      },
      queue: { size: 2, policy: 'drop_newest' },
    });
    expect(result.refused).toEqual([]);
    expect(result.applied.sort()).toEqual([
      'question.door.cameras',
      'question.door.choices',
      'question.door.rate_hz',
      'question.door.text',
      'questions',
      'queue.policy',
      'queue.size',
    ]);
    await play(r, ['left', 'right'], 0, HZ + 1);
    expect(r.outputs.of('~/answer').map((a) => ns(a.header.stamp))).toEqual([START, START + NS]);
    expect(r.core.stats().inference).toMatchObject({ queueCapacity: 2, queuePolicy: 'drop_newest' });
    // A question naming an unknown camera is refused by the schema.
    const bad = r.core.updateConfig({ 'question.door.cameras': ['nope'] });
    expect(bad.refused[0]?.reason).toContain("unknown camera 'nope'");
    await r.core.close();
  });
});

describe('SpatialNodeCore lifecycle', () => {
  it('schedules nothing while inactive, keeps frames, and resumes on start', async () => {
    const r = await rig(nodeTestConfig(['left', 'right']));
    await r.core.stop();
    expect(r.core.state).toBe('inactive');
    await play(r, ['left', 'right'], 0, HZ + 1);
    expect(r.outputs.of('~/viewpoint')).toEqual([]);
    expect(r.core.stats().cameras.left?.received).toBe(HZ + 2);
    const refused = await r.core.query({ question: 'Which?', cameras: ['left'], choices: ['A', 'B'] });
    expect(refused).toMatchObject({
      success: false,
      error: 'the node is not active (lifecycle state inactive)',
    });
    r.core.start();
    await play(r, ['left', 'right'], HZ + 2, 3 * HZ + 1);
    const stamps = r.outputs.of('~/viewpoint').map((m) => ns(m.header.stamp));
    expect(stamps.length).toBeGreaterThanOrEqual(2);
    // Only sets completed after start are estimated, at most one per second.
    expect(stamps[0]).toBeGreaterThanOrEqual(frameStamp(START, HZ + 1, HZ));
    stamps.slice(1).forEach((s, i) => expect(s - (stamps[i] as bigint)).toBeGreaterThanOrEqual(NS));
    await r.core.close();
    expect(r.core.state).toBe('closed');
    expect(r.core.handleMessage('/left/image_raw', imageMessage({ stamp: START }))).toMatchObject({
      accepted: false,
    });
    expect(r.core.updateConfig({ 'viewpoint.rate_hz': 3 }).refused).toEqual([
      { key: 'viewpoint.rate_hz', reason: 'the node is closed' },
    ]);
    expect(() => r.core.start()).toThrow(NodeStateError);
  });
});
