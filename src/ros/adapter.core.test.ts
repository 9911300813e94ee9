/**
 * The adapter with the real node core and the tiny model (in-process backend), driven through the
 * rclnodejs stand-in: parameters from `--ros-args`, images on two topics, ~/viewpoint, ~/query,
 * ~/ask with feedback, /diagnostics. What only ROS 2 can show (DDS, QoS matching, the rclnodejs
 * native layer) is in test/ros/adapter.ros.test.ts.
 */
import { frameStamp, imageMessage, NS, rosTime } from '../../test/helpers/node-frames.js';
import { tinyModelDir } from '../../test/helpers/tiny-model.js';
import { FakeRcl, type FakeLifecycleNode } from '../../test/ros/fake-rclnodejs.js';
import type { ViewpointEstimateMessage } from '../spatial/index.js';
import type { DiagnosticArrayMessage, SpatialQueryRequest } from '../node/messages.js';
import { ActialRosNode } from './adapter.js';
import { bundledModelDir } from '../model/bundled.js';
import { createWorkerBackend, ModelPathError, resolveModelPath } from './backend.js';

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const published = <T>(node: FakeLifecycleNode, topic: string): T[] =>
  (node.publishers.find((p) => p.topic === topic)?.published ?? []) as T[];

describe('ActialRosNode with SpatialNodeCore and the tiny model', () => {
  let rcl: FakeRcl;
  let ros: ActialRosNode;
  let node: FakeLifecycleNode;

  beforeAll(async () => {
    const modelDir = await tinyModelDir();
    rcl = new FakeRcl();
    await rcl.module.init(undefined, [
      'node',
      'main.js',
      '--ros-args',
      '-r',
      '__node:=actial_test',
      '-p',
      'cameras:=[left, right]',
      '-p',
      'camera.left.topic:=/left/image_raw',
      '-p',
      'camera.right.topic:=/right/image_raw',
      '-p',
      `model.path:=${modelDir}`,
      '-p',
      'model.max_pixels:=3136',
      '-p',
      'model.max_new_tokens:=6',
      '-p',
      'viewpoint.rate_hz:=20.0',
      '-p',
      'viewpoint.option_orders:=1',
      '-p',
      'viewpoint.both_directions:=false',
      '-p',
      'image.prepare_threads:=2',
    ]);
    ros = await ActialRosNode.create({
      rcl: rcl.module,
      createBackend: (config) => createWorkerBackend(config),
    });
    node = rcl.node;
    await ros.configure();
    ros.activate();
  }, 60_000);

  afterAll(async () => {
    await ros.shutdown();
  });

  it('is named by the remap and subscribes to both cameras', () => {
    expect(node.name()).toBe('actial_test');
    expect(node.subscriptions.filter((s) => !s.destroyed).map((s) => s.topic)).toEqual([
      '/left/image_raw',
      '/right/image_raw',
      '/tf',
      '/tf_static',
    ]);
  });

  it('publishes a viewpoint estimate for synchronised frames, stamped with the target frame', async () => {
    const start = 100n * NS;
    const [left, right] = node.subscriptions;
    for (let k = 0; k < 3; k++) {
      const stamp = frameStamp(start, k, 10);
      left?.callback(imageMessage({ stamp, frameId: 'left_optical', seed: 1 }));
      right?.callback(imageMessage({ stamp, frameId: 'right_optical', seed: 2 }));
    }
    await until('a viewpoint estimate', () => published(node, '~/viewpoint').length > 0);
    const estimate = published<ViewpointEstimateMessage>(node, '~/viewpoint')[0];
    expect(estimate).toMatchObject({
      source_camera: 'left',
      target_camera: 'right',
      header: { frame_id: 'left_optical' },
    });
    expect(estimate?.ego_translation_probs).toHaveLength(3);
    expect(estimate?.header.stamp).toEqual(estimate?.target_stamp);
    expect([
      rosTime(start),
      rosTime(frameStamp(start, 1, 10)),
      rosTime(frameStamp(start, 2, 10)),
    ]).toContainEqual(estimate?.target_stamp);
  });

  const query = (question: string, choices: string[]): SpatialQueryRequest => ({
    question,
    cameras: ['left', 'right'],
    choices,
    stamp: { sec: 0, nanosec: 0 },
    max_new_tokens: 0,
    timeout_s: 0,
  });

  it('answers ~/query with scored choices', async () => {
    const response = await node.call(
      '~/query',
      query('Which camera sees the square? A. left B. right', ['A', 'B']),
    );
    expect(response.error).toBe('');
    expect(response.success).toBe(true);
    expect(response.answer.choices).toEqual(['A', 'B']);
    expect(response.answer.probabilities).toHaveLength(2);
    expect(['A', 'B']).toContain(response.answer.answer);
  });

  it('streams ~/ask feedback while generating', async () => {
    const goal = node.actionServers[0]?.sendGoal(query('Describe the scene.', []));
    const outcome = await goal?.result;
    expect(outcome?.status).toBe('succeeded');
    expect(outcome?.result.success).toBe(true);
    expect(goal?.handle.feedback.length).toBeGreaterThan(0);
    expect(goal?.handle.feedback.at(-1)?.tokens).toBeLessThanOrEqual(6);
  });

  it('publishes /diagnostics from the tick timer', () => {
    node.clockNs += 5n * NS;
    node.timers.find((t) => !t.destroyed)?.callback();
    const diagnostics = published<DiagnosticArrayMessage>(node, '/diagnostics');
    expect(diagnostics.length).toBeGreaterThan(0);
    expect(diagnostics.at(-1)?.status.map((s) => s.name)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^actial_test: /)]),
    );
    // Frames were prepared by the two image threads asked for, none of which restarted.
    const inference = diagnostics.at(-1)?.status.find((s) => s.name === 'actial_test: inference');
    const value = (key: string) => inference?.values.find((v) => v.key === key)?.value;
    expect([value('prepare_threads'), value('prepare_thread_restarts')]).toEqual(['2', '0']);
  });
});

describe('createWorkerBackend', () => {
  it('loads the bundled model for an empty model.path, as config/default.yaml says', async () => {
    const { nodeTestConfig } = await import('../../test/helpers/node-frames.js');
    const base = nodeTestConfig(['a']);
    const backend = await createWorkerBackend({
      ...base,
      model: { ...base.model, path: '', warm_up: false },
    });
    try {
      expect(backend.modelFiles).toContain('decoder_model_merged');
    } finally {
      await backend.close?.();
    }
  });

  it.each([
    ['/models/actial-7b-onnx', '/models/actial-7b-onnx'],
    ['', bundledModelDir()],
  ])('model.path %j names the folder %s', (path, dir) => {
    expect(resolveModelPath(path)).toBe(dir);
  });

  it('names the missing bundled model and how to set model.path when model.path is empty', () => {
    const resolve = () => resolveModelPath('', '/nonexistent/bundled');
    expect(resolve).toThrow(ModelPathError);
    expect(resolve).toThrow(/bundled model is missing at \/nonexistent\/bundled.*-p model\.path:=/);
  });

  it.each([
    [0, false],
    [3, true],
  ])('starts image.prepare_threads = %i threads for frames', async (threads, pooled) => {
    const { nodeTestConfig } = await import('../../test/helpers/node-frames.js');
    const base = nodeTestConfig(['a']);
    const config = {
      ...base,
      model: { ...base.model, path: await tinyModelDir() },
      image: { ...base.image, prepare_threads: threads },
    };
    const backend = await createWorkerBackend(config);
    try {
      expect(backend.prepareImage !== undefined).toBe(pooled);
      expect(backend.stats?.()).toMatchObject({ prepareThreads: threads, prepareThreadRestarts: 0 });
    } finally {
      await backend.close?.();
    }
  });

  it('rejects with the model load error, not an image-thread one, when the model does not load', async () => {
    const { nodeTestConfig } = await import('../../test/helpers/node-frames.js');
    const base = nodeTestConfig(['a']);
    const config = { ...base, model: { ...base.model, path: '/nonexistent/model' } };
    await expect(createWorkerBackend(config)).rejects.toThrow(/nonexistent/);
  });
});
