import type { SpatialQueryRequest } from '../node/messages.js';
import { emptySpatialAnswer } from '../node/messages.js';
import type { NodeConfig } from '../config/schema.js';
import { FakeCore, fakeBackend } from '../../test/ros/fake-core.js';
import {
  FakeDescriptor,
  FakeParameter,
  FakeRange,
  FakeRcl,
  type FakeLifecycleNode,
  type FakePublisher,
} from '../../test/ros/fake-rclnodejs.js';
import { ActialRosNode, LifecycleTransitionError, type RosBackend } from './adapter.js';
import { ParameterType } from './parameters.js';

interface Harness {
  rcl: FakeRcl;
  ros: ActialRosNode;
  node: FakeLifecycleNode;
  cores: FakeCore[];
  backends: (RosBackend & { closed: number })[];
  configs: NodeConfig[];
  core(): FakeCore;
}

const CAMERA_ARGS = [
  '-p',
  'cameras:=[left, right]',
  '-p',
  'camera.left.topic:=/stereo/left/image_raw',
  '-p',
  'camera.left.camera_info_topic:=/stereo/left/camera_info',
  '-p',
  'camera.right.topic:=/stereo/right/compressed',
  '-p',
  'camera.right.transport:=compressed',
  '-p',
  'camera.right.qos.reliability:=reliable',
];

const backend = fakeBackend;

async function harness(
  args: string[] = CAMERA_ARGS,
  options: { createBackend?: (config: NodeConfig) => Promise<RosBackend & { closed: number }> } = {},
): Promise<Harness> {
  const rcl = new FakeRcl();
  await rcl.module.init(undefined, ['node', 'main.js', '--ros-args', ...args]);
  const cores: FakeCore[] = [];
  const backends: (RosBackend & { closed: number })[] = [];
  const configs: NodeConfig[] = [];
  const ros = await ActialRosNode.create({
    rcl: rcl.module,
    createBackend: async (config) => {
      configs.push(config);
      const b = await (options.createBackend ?? (() => Promise.resolve(backend())))(config);
      backends.push(b);
      return b;
    },
    createCore: (coreOptions) => {
      const core = new FakeCore(coreOptions);
      cores.push(core);
      return Promise.resolve(core);
    },
    parseConfig: undefined,
  });
  return {
    rcl,
    ros,
    node: rcl.node,
    cores,
    backends,
    configs,
    core: () => {
      const core = cores[cores.length - 1];
      if (!core) throw new Error('no core');
      return core;
    },
  };
}

async function active(args: string[] = CAMERA_ARGS): Promise<Harness> {
  const h = await harness(args);
  await h.ros.configure();
  h.ros.activate();
  return h;
}

const publisher = (node: FakeLifecycleNode, topic: string): FakePublisher<unknown> => {
  const found = node.publishers.find((p) => p.topic === topic);
  if (!found) throw new Error(`no publisher on ${topic}`);
  return found;
};
const live = <T extends { destroyed: boolean }>(items: T[]): T[] => items.filter((i) => !i.destroyed);
const request = (question: string): SpatialQueryRequest => ({
  question,
  cameras: ['left', 'right'],
  choices: [],
  stamp: { sec: 0, nanosec: 0 },
  max_new_tokens: 0,
  timeout_s: 0,
});
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('parameters', () => {
  it('declares every config key with its descriptor, dynamic camera keys from the overrides', async () => {
    const { node } = await harness();
    expect(node.parameters.get('camera.right.transport')?.value).toBe('compressed');
    const depth = node.descriptors.get('camera.left.qos.depth');
    expect(depth).toBeInstanceOf(FakeDescriptor);
    expect(depth).toMatchObject({
      type: ParameterType.INTEGER,
      description: 'History depth.',
      readOnly: false,
    });
    expect(depth?.range).toEqual(new FakeRange(1n, 1000n, 1n));
    expect(node.descriptors.get('camera.left.transport')?.additionalConstraints).toBe(
      'one of: raw, compressed',
    );
    expect(node.descriptors.get('auto_activate')?.readOnly).toBe(true);
    expect(node.parameters.get('model.max_pixels')).toEqual(new FakeParameter('model.max_pixels', 2, 200704));
    expect([...node.parameters.keys()].filter((n) => n.startsWith('question.'))).toEqual([]);
  });

  it('applies overrides of another numeric type and reads an empty list as an empty array', async () => {
    const { node } = await harness([
      ...CAMERA_ARGS,
      '-p',
      'viewpoint.rate_hz:=2',
      '-p',
      'pairing.pairs:=[]',
      '-p',
      'pairing.queue_size:=20.0',
    ]);
    expect(node.parameters.get('viewpoint.rate_hz')).toEqual(new FakeParameter('viewpoint.rate_hz', 3, 2));
    expect(node.parameters.get('pairing.pairs')).toEqual(new FakeParameter('pairing.pairs', 9, []));
    expect(node.parameters.get('pairing.queue_size')?.value).toBe(20n);
  });

  it('declares question.<name>.* for questions named in overrides', async () => {
    const { node } = await harness([
      ...CAMERA_ARGS,
      '-p',
      'question.door.text:=Is the door open?',
      '-p',
      'question.door.cameras:=[left]',
    ]);
    expect(node.parameters.get('question.door.text')?.value).toBe('Is the door open?');
    expect(node.parameters.get('question.door.rate_hz')?.value).toBe(0.2);
  });
});

describe('configure', () => {
  it('fails with every problem when parameters are invalid, without loading the model', async () => {
    const h = await harness([
      '-p',
      'cameras:=[left, right]',
      '-p',
      'camera.left.topic:=/l',
      '-p',
      'camera.left.qos.profle:=default',
      '-p',
      'pairing.queue_size:=abc',
    ]);
    const error = await h.ros.configure().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LifecycleTransitionError);
    const reason = (error as LifecycleTransitionError).reason;
    expect(reason).toContain(
      "key 'pairing.queue_size': parameter 'pairing.queue_size' must be a ROS integer, got string \"abc\"",
    );
    expect(reason).toContain("unknown key 'camera.left.qos.profle'");
    expect(reason).toMatch(/key 'camera\.right\.topic': .*got nothing/);
    expect(h.ros.state).toBe('unconfigured');
    expect(h.configs).toEqual([]);
    expect(h.node.logs.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
      expect.stringContaining('configure failed: invalid configuration in the ROS parameters of /actial'),
    ]);
  });

  it('loads the backend for the parsed config and builds the core with the node clock and name', async () => {
    const h = await harness();
    await h.ros.configure();
    expect(h.ros.state).toBe('inactive');
    expect(h.configs).toHaveLength(1);
    expect(h.configs[0]?.camera.right).toMatchObject({
      topic: '/stereo/right/compressed',
      transport: 'compressed',
    });
    const core = h.core();
    expect(core.options.nodeName).toBe('actial');
    h.node.clockNs = 42n;
    expect(core.options.clock?.now()).toBe(42n);
    expect(h.ros.config).toBe(core.config);
    expect(h.node.publishers.map((p) => [p.topic, p.type, p.active])).toEqual([
      ['~/viewpoint', 'actial_ros/msg/ViewpointEstimate', false],
      ['~/answer', 'actial_ros/msg/SpatialAnswer', false],
      ['/tf', 'tf2_msgs/msg/TFMessage', false],
      ['/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', false],
    ]);
    expect(publisher(h.node, '~/viewpoint').qos).toEqual({
      history: 1,
      depth: 10,
      reliability: 1,
      durability: 2,
    });
  });

  it('a failed model load returns the node to unconfigured and says why', async () => {
    const h = await harness(CAMERA_ARGS, {
      createBackend: () => Promise.reject(new Error("model folder '/nope' has no config.json")),
    });
    await expect(h.ros.configure()).rejects.toThrow(
      "lifecycle configure failed (node is unconfigured): loading the model failed: model folder '/nope' has no config.json",
    );
    expect(h.ros.state).toBe('unconfigured');
  });

  it('after cleanup, configures again with a new model and core', async () => {
    const h = await harness();
    await h.ros.configure();
    h.node.cleanup();
    await settle();
    expect(h.core().calls).toEqual(['close']);
    expect(h.backends[0]?.closed).toBe(1);
    await h.ros.configure();
    expect(h.cores).toHaveLength(2);
    expect(h.backends).toHaveLength(2);
  });
});

describe('activate', () => {
  it('subscribes to every camera with its QoS, camera_info and tf; creates ~/query, ~/ask and the tick timer', async () => {
    const h = await active();
    const subs = live(h.node.subscriptions).map((s) => [s.topic, s.type, { ...s.qos }]);
    expect(subs).toEqual([
      [
        '/stereo/left/image_raw',
        'sensor_msgs/msg/Image',
        { history: 1, depth: 5, reliability: 2, durability: 2 }, // sensor_data: KEEP_LAST 5, BEST_EFFORT, VOLATILE
      ],
      [
        '/stereo/left/camera_info',
        'sensor_msgs/msg/CameraInfo',
        { history: 1, depth: 5, reliability: 2, durability: 2 },
      ],
      [
        '/stereo/right/compressed',
        'sensor_msgs/msg/CompressedImage',
        { history: 1, depth: 5, reliability: 1, durability: 2 }, // reliability override
      ],
      ['/tf', 'tf2_msgs/msg/TFMessage', { history: 1, depth: 100, reliability: 1, durability: 2 }],
      ['/tf_static', 'tf2_msgs/msg/TFMessage', { history: 1, depth: 100, reliability: 1, durability: 1 }],
    ]);
    expect(live(h.node.services).map((s) => [s.name, s.type])).toEqual([
      ['~/query', 'actial_ros/srv/SpatialQuery'],
    ]);
    expect(h.node.actionServers.map((a) => [a.name, a.type])).toEqual([['~/ask', 'actial_ros/action/Ask']]);
    expect(live(h.node.timers).map((t) => t.period)).toEqual([100_000_000n]);
    expect(h.node.publishers.every((p) => p.active)).toBe(true);
    expect(h.core().calls).toEqual(['start']);
  });

  it('feeds messages to the core by topic and publishes its outputs', async () => {
    const h = await active();
    const image = { header: { stamp: { sec: 1, nanosec: 2 }, frame_id: 'l' }, data: new Uint8Array(3) };
    h.node.subscriptions[0]?.callback(image);
    h.node.subscriptions[3]?.callback({ transforms: [] });
    expect(h.core().messages).toEqual([
      ['/stereo/left/image_raw', image],
      ['/tf', { transforms: [] }],
    ]);
    const diagnostics = { header: { stamp: { sec: 1, nanosec: 0 }, frame_id: '' }, status: [] };
    h.core().emit({ topic: '/diagnostics', message: diagnostics });
    expect(publisher(h.node, '/diagnostics').published).toEqual([diagnostics]);
    h.node.clockNs = 7n;
    h.node.timers[0]?.callback();
    expect(h.core().ticks).toEqual([7n]);
  });

  it('a tick that throws is logged once per reason and never leaves the timer callback', async () => {
    const h = await active();
    h.core().tick = () => {
      throw new RangeError('cannot convert Infinity');
    };
    for (let i = 0; i < 3; i++) expect(() => h.node.timers[0]?.callback()).not.toThrow();
    expect(h.node.logs.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
      'tick failed: cannot convert Infinity',
    ]);
  });

  it('fails (staying inactive, nothing left behind) when a subscription cannot be created', async () => {
    const h = await harness([
      '-p',
      'cameras:=[left, right]',
      '-p',
      'camera.left.topic:=/l',
      '-p',
      'camera.right.topic:=/bad topic',
    ]);
    await h.ros.configure();
    // The error names the cause (it said "see the log").
    expect(() => h.ros.activate()).toThrow(
      "lifecycle activate failed (node is inactive): Invalid topic name: '/bad topic'",
    );
    expect(h.ros.state).toBe('inactive');
    expect(live(h.node.subscriptions)).toEqual([]);
    expect(live(h.node.services)).toEqual([]);
    expect(h.node.actionServers.every((a) => a.destroyed)).toBe(true);
    expect(h.core().calls).toEqual(['start', 'stop']);
    expect(h.node.logs.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
      "activate failed: Invalid topic name: '/bad topic'",
    ]);
  });

  it('activated while the model loads: attaches once it is ready', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const h = await harness(CAMERA_ARGS, {
      createBackend: async () => {
        await gate;
        return backend();
      },
    });
    // As `ros2 lifecycle set configure` then `activate` would: both return at once.
    h.node.configure();
    h.node.activate();
    expect(h.ros.state).toBe('active');
    expect(h.node.subscriptions).toEqual([]);
    release();
    await settle();
    expect(live(h.node.subscriptions)).toHaveLength(5);
    expect(h.core().calls).toEqual(['start']);
  });

  it('a load that ends after cleanup is closed and never attached', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const h = await harness(CAMERA_ARGS, {
      createBackend: async () => {
        await gate;
        return backend();
      },
    });
    h.node.configure();
    h.node.cleanup();
    release();
    await settle();
    expect(h.backends[0]?.closed).toBe(1);
    expect(h.cores).toEqual([]);
    expect(h.node.subscriptions).toEqual([]);
  });
});

describe('~/query and ~/ask', () => {
  it('answers the service through core.query', async () => {
    const h = await active();
    const response = await h.node.call('~/query', request('Which camera is left?'));
    expect(response).toMatchObject({ success: true, answer: { question: 'Which camera is left?' } });
    expect(h.core().queries[0]?.request).toEqual(request('Which camera is left?'));
    expect(h.core().queries[0]?.options.signal).toBeInstanceOf(AbortSignal);
  });

  it('streams feedback and succeeds', async () => {
    const h = await active();
    h.core().answer = (req, options) => {
      options.onFeedback?.({ partial_text: 'The', tokens: 1 });
      options.onFeedback?.({ partial_text: 'The door', tokens: 2 });
      return Promise.resolve({
        success: true,
        error: '',
        answer: { ...emptySpatialAnswer(), text: 'The door' },
      });
    };
    const goal = h.node.actionServers[0]?.sendGoal(request('What is ahead?'));
    expect(goal?.accepted).toBe(true);
    await expect(goal?.result).resolves.toMatchObject({
      status: 'succeeded',
      result: { answer: { text: 'The door' } },
    });
    expect(goal?.handle.feedback).toEqual([
      { partial_text: 'The', tokens: 1 },
      { partial_text: 'The door', tokens: 2 },
    ]);
  });

  it('aborts a goal the core fails', async () => {
    const h = await active();
    h.core().answer = () =>
      Promise.resolve({ success: false, error: 'no frames', answer: emptySpatialAnswer() });
    const goal = h.node.actionServers[0]?.sendGoal(request('?'));
    await expect(goal?.result).resolves.toMatchObject({ status: 'aborted', result: { error: 'no frames' } });
  });

  it('cancel aborts the query and the goal ends canceled', async () => {
    const h = await active();
    h.core().answer = (_req, options) =>
      new Promise((resolve) => {
        options.signal?.addEventListener('abort', () =>
          resolve({ success: false, error: 'cancelled', answer: emptySpatialAnswer() }),
        );
      });
    const goal = h.node.actionServers[0]?.sendGoal(request('?'));
    await settle();
    await expect(goal?.cancel()).resolves.toBe(true);
    await expect(goal?.result).resolves.toMatchObject({ status: 'canceled', result: { error: 'cancelled' } });
  });

  it('refuses to cancel a goal it does not run', async () => {
    const h = await active();
    const goal = h.node.actionServers[0]?.sendGoal(request('?'));
    await goal?.result;
    await expect(goal?.cancel()).resolves.toBe(false);
  });
});

describe('deactivate, cleanup, shutdown', () => {
  it('deactivate stops everything that runs and drops outputs', async () => {
    const h = await active();
    let signal: AbortSignal | undefined;
    h.core().answer = (_req, options) => {
      signal = options.signal;
      return new Promise(() => undefined);
    };
    const pending = h.node.call('~/query', request('?'));
    h.node.deactivate();
    expect(h.ros.state).toBe('inactive');
    // The pending call is answered before the service goes (it was left without a response).
    await expect(pending).resolves.toMatchObject({
      success: false,
      error: 'the node left the active state (lifecycle deactivate) before the query was answered',
    });
    expect(live(h.node.subscriptions)).toEqual([]);
    expect(live(h.node.services)).toEqual([]);
    expect(live(h.node.timers)).toEqual([]);
    expect(h.node.actionServers.every((a) => a.destroyed)).toBe(true);
    expect(h.node.publishers.some((p) => p.active)).toBe(false);
    expect(signal?.aborted).toBe(true);
    expect(h.core().calls).toEqual(['start', 'stop']);
    h.core().emit({ topic: '~/answer', message: emptySpatialAnswer() });
    expect(publisher(h.node, '~/answer').published).toEqual([]);
    expect(publisher(h.node, '~/answer').dropped).toEqual([]);
    h.ros.activate();
    expect(live(h.node.subscriptions)).toHaveLength(5);
  });

  it('shutdown with an Ask goal running: the goal ends (aborted) before its action server is destroyed', async () => {
    const h = await active();
    h.core().answer = (_req, options) =>
      new Promise((resolve) => {
        options.signal?.addEventListener('abort', () =>
          resolve({ success: false, error: 'cancelled', answer: emptySpatialAnswer() }),
        );
      });
    const goal = h.node.actionServers[0]?.sendGoal(request('?'));
    await settle();
    const server = h.node.actionServers[0];
    const destroyedWhenGoalEnded = goal?.result.then(() => server?.destroyed);
    await h.ros.shutdown();
    await expect(goal?.result).resolves.toMatchObject({ status: 'aborted', result: { success: false } });
    await expect(destroyedWhenGoalEnded).resolves.toBe(false);
    expect(server?.destroyed).toBe(true);
    expect(h.node.destroyed).toBe(true);
  });

  it('shutdown from active closes the core and the model, finalizes and destroys the node', async () => {
    const h = await active();
    let finalized = false;
    void h.ros.finalized.then(() => (finalized = true));
    await h.ros.shutdown();
    expect(h.ros.state).toBe('finalized');
    expect(h.core().calls).toEqual(['start', 'stop', 'close']);
    expect(h.backends[0]?.closed).toBe(1);
    expect(h.node.destroyed).toBe(true);
    await settle();
    expect(finalized).toBe(true);
    await h.ros.shutdown(); // idempotent
  });
});

describe('parameter changes at run time', () => {
  it('applies a live change through the core (an integer for a double parameter too)', async () => {
    const h = await active();
    const result = h.node.setParameters([new FakeParameter('viewpoint.rate_hz', ParameterType.INTEGER, 3)]);
    expect(result).toEqual({ successful: true, reason: '' });
    expect(h.core().updates).toEqual([{ 'viewpoint.rate_hz': 3 }]);
    expect(h.core().config.viewpoint.rate_hz).toBe(3);
    expect(h.node.parameters.get('viewpoint.rate_hz')).toEqual(new FakeParameter('viewpoint.rate_hz', 3, 3));
  });

  it('starts a standing question live whose question.<name>.* were given at startup', async () => {
    const h = await active([
      ...CAMERA_ARGS,
      '-p',
      'question.door.text:=Is the door open?',
      '-p',
      'question.door.cameras:=[left]',
    ]);
    expect(h.core().config.questions).toEqual([]);
    const result = h.node.setParameters([
      new FakeParameter('questions', ParameterType.STRING_ARRAY, ['door']),
    ]);
    expect(result).toEqual({ successful: true, reason: '' });
    expect(h.core().config.questions).toEqual(['door']);
    expect(h.core().config.question.door?.text).toBe('Is the door open?');
    // A question whose settings were never declared cannot be named: ROS refuses undeclared parameters.
    const unknown = h.node.setParameters([
      new FakeParameter('questions', ParameterType.STRING_ARRAY, ['door', 'window']),
    ]);
    expect(unknown.successful).toBe(false);
    expect(unknown.reason).toMatch(/window/);
  });

  it('refuses a change that needs a reconfigure, all or nothing, with the reason', async () => {
    const h = await active();
    const result = h.node.setParameters([
      new FakeParameter('viewpoint.rate_hz', ParameterType.DOUBLE, 5),
      new FakeParameter('pairing.queue_size', ParameterType.INTEGER, 3),
    ]);
    expect(result.successful).toBe(false);
    expect(result.reason).toMatch(
      /^pairing\.queue_size: it changes how camera frames are synchronised; reconfigure/,
    );
    expect(h.core().updates).toEqual([]);
    expect(h.core().config.viewpoint.rate_hz).toBe(1);
    expect(h.node.parameters.get('pairing.queue_size')?.value).toBe(10n);
  });

  it('refuses an invalid value with the schema message', async () => {
    const h = await active();
    const result = h.node.setParameters([new FakeParameter('queue.size', ParameterType.INTEGER, 0)]);
    expect(result).toEqual({
      successful: false,
      reason: expect.stringMatching(/^queue\.size: key 'queue\.size': /),
    });
  });

  it('accepts any declared change while unconfigured; configure reads it', async () => {
    const h = await harness();
    expect(
      h.node.setParameters([new FakeParameter('pairing.queue_size', ParameterType.INTEGER, 3)]).successful,
    ).toBe(true);
    await h.ros.configure();
    expect(h.configs[0]?.pairing.queue_size).toBe(3);
  });

  it('a bad -p override set right with ros2 param set no longer fails configure', async () => {
    const h = await harness([...CAMERA_ARGS, '-p', 'pairing.queue_size:=abc']);
    await expect(h.ros.configure()).rejects.toThrow(/pairing\.queue_size.*"abc"/);
    expect(
      h.node.setParameters([new FakeParameter('pairing.queue_size', ParameterType.INTEGER, 3)]).successful,
    ).toBe(true);
    await h.ros.configure();
    expect(h.configs[0]?.pairing.queue_size).toBe(3);
  });

  it('refuses what cannot be a value of the parameter, logging why', async () => {
    const h = await active();
    const result = h.node.setParameters([new FakeParameter('pairing.queue_size', ParameterType.DOUBLE, 2.5)]);
    expect(result.successful).toBe(false);
    expect(h.node.logs.filter((l) => l.level === 'warn').map((l) => l.message)).toContain(
      "parameter change refused: parameter 'pairing.queue_size' must be a ROS integer, got double 2.5",
    );
  });

  it('declares the keys of cameras named since the last configure', async () => {
    const h = await harness();
    expect(h.node.parameters.has('camera.front.topic')).toBe(false);
    h.node.setParameters([
      new FakeParameter('cameras', ParameterType.STRING_ARRAY, ['left', 'right', 'front']),
    ]);
    await expect(h.ros.configure()).rejects.toThrow(/key 'camera\.front\.topic'/);
    expect(h.node.parameters.get('camera.front.qos.profile')?.value).toBe('sensor_data');
    h.node.setParameters([new FakeParameter('camera.front.topic', ParameterType.STRING, '/front/image_raw')]);
    await h.ros.configure();
    expect(h.configs[0]?.cameras).toEqual(['left', 'right', 'front']);
  });
});
