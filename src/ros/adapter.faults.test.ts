/**
 * Faults at configure with the real model loader (engine in a worker thread): a model folder that
 * disappeared, a corrupt graph, a missing file. Each fails the transition with the path, leaves the
 * node unconfigured, and a later configure succeeds once the folder is fixed. Also a request storm
 * on ~/query through the adapter.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageMessage, NS } from '../../test/helpers/node-frames.js';
import { tinyModelDir } from '../../test/helpers/tiny-model.js';
import { FakeRcl } from '../../test/ros/fake-rclnodejs.js';
import type { DiagnosticArrayMessage, InferenceBackend, SpatialQueryResponse } from '../node/index.js';
import { ActialRosNode, LifecycleTransitionError } from './adapter.js';
import { createWorkerBackend } from './backend.js';

async function node(modelDir: string, extra: string[] = []) {
  const rcl = new FakeRcl();
  await rcl.module.init(undefined, [
    'node',
    'main.js',
    '--ros-args',
    '-p',
    'cameras:=[left, right]',
    '-p',
    'camera.left.topic:=/left/image_raw',
    '-p',
    'camera.right.topic:=/right/image_raw',
    '-p',
    `model.path:=${modelDir}`,
    ...extra,
  ]);
  const ros = await ActialRosNode.create({
    rcl: rcl.module,
    createBackend: (config) => createWorkerBackend(config),
  });
  return { rcl, ros };
}

async function configureError(ros: ActialRosNode): Promise<LifecycleTransitionError> {
  const error = await ros.configure().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof LifecycleTransitionError))
    throw new Error(`configure did not fail: ${String(error)}`);
  return error;
}

describe('configure with a broken model folder (real loader, worker thread)', () => {
  let dir: string;
  let model: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'actial-model-faults-'));
    model = join(dir, 'model');
  });
  beforeEach(async () => {
    await rm(model, { recursive: true, force: true });
    await cp(await tinyModelDir(), model, { recursive: true });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    [
      'the folder disappeared',
      () => rm(model, { recursive: true }),
      () => new RegExp(`key 'model\\.path': model folder '${model}' does not exist`),
    ],
    [
      'a corrupt decoder graph',
      () => writeFile(join(model, 'onnx', 'decoder_model_merged.onnx'), 'not a protobuf'),
      () => new RegExp(`loading the model failed: .*${join(model, 'onnx', 'decoder_model_merged.onnx')}`),
    ],
    [
      'a truncated vision encoder',
      () => writeFile(join(model, 'onnx', 'vision_encoder.onnx'), new Uint8Array(7)),
      () => new RegExp(`loading the model failed: .*${join(model, 'onnx', 'vision_encoder.onnx')}`),
    ],
    [
      'no tokenizer.json',
      () => rm(join(model, 'tokenizer.json')),
      () =>
        new RegExp(
          `loading the model failed: .*ModelFolderError: .*missing file ${join(model, 'tokenizer.json')}`,
        ),
    ],
    [
      'a config.json whose hidden size the graphs do not have (it loads, its first request fails)',
      async () => {
        const config = JSON.parse(await readFile(join(model, 'config.json'), 'utf8')) as {
          text_config: Record<string, unknown>;
        };
        config.text_config.hidden_size = 32;
        await writeFile(join(model, 'config.json'), JSON.stringify(config));
      },
      () => /loading the model failed: .*model warm-up failed: .*width 16, the language model 32/,
    ],
    [
      'a config.json that is not JSON',
      () => writeFile(join(model, 'config.json'), '{ nope'),
      () => new RegExp(`loading the model failed: .*${join(model, 'config.json')} is not valid JSON`),
    ],
  ])(
    '%s: the transition fails naming the path, the node stays unconfigured, and configures once fixed',
    async (_name, breakIt, message) => {
      const { rcl, ros } = await node(model);
      await breakIt();
      const error = await configureError(ros);
      expect(error.reason).toMatch(message());
      expect(ros.state).toBe('unconfigured');
      expect(rcl.node.logs.filter((l) => l.level === 'error').at(-1)?.message).toContain(error.reason);
      // Fixed: a second configure loads it.
      await rm(model, { recursive: true, force: true });
      await cp(await tinyModelDir(), model, { recursive: true });
      await ros.configure();
      expect(ros.state).toBe('inactive');
      await ros.shutdown();
      expect(ros.state).toBe('finalized');
    },
    120_000,
  );
});

describe('a request storm on ~/query', () => {
  it('10,000 requests while the model is busy: at most 8 pending, the rest refused at once with the reason', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const backend: InferenceBackend & { close(): void } = {
      scoreQuestions: async (request) => {
        calls += 1;
        await gate;
        return {
          results: request.questions.map((q) => ({
            probabilities: q.choices.map(() => 1 / q.choices.length),
            choiceIndex: 0,
          })),
        };
      },
      generate: () => Promise.resolve({ text: '', finishReason: 'stop' }),
      close: () => undefined,
    };
    const rcl = new FakeRcl();
    await rcl.module.init(undefined, [
      'node',
      'main.js',
      '--ros-args',
      '-p',
      'cameras:=[left, right]',
      '-p',
      'camera.left.topic:=/left/image_raw',
      '-p',
      'camera.right.topic:=/right/image_raw',
      '-p',
      'viewpoint.enabled:=false',
    ]);
    const ros = await ActialRosNode.create({
      rcl: rcl.module,
      createBackend: () => Promise.resolve(backend),
    });
    await ros.configure();
    ros.activate();
    for (const camera of ['left', 'right']) {
      rcl.node.subscriptions
        .find((s) => s.topic === `/${camera}/image_raw`)
        ?.callback(imageMessage({ stamp: 100n * NS, width: 16, height: 12 }));
    }
    const request = {
      question: 'Which? A: x B: y',
      cameras: ['left', 'right'],
      choices: ['A', 'B'],
      stamp: { sec: 0, nanosec: 0 },
      max_new_tokens: 0,
      timeout_s: 0,
    };
    const heapBefore = process.memoryUsage().heapUsed;
    const storm: Promise<SpatialQueryResponse>[] = [];
    for (let i = 0; i < 10_000; i++) storm.push(rcl.node.call('~/query', request));
    // The refused ones are all answered while the model is still busy.
    const refused = await Promise.all(storm.slice(8));
    expect(new Set(refused.map((r) => r.error))).toEqual(
      new Set(['too many queries pending (8 of at most 8); try again later']),
    );
    expect(calls).toBeLessThanOrEqual(1);
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    release();
    const answered = await Promise.all(storm.slice(0, 8));
    expect(answered.every((r) => r.success)).toBe(true);
    expect(calls).toBe(8);
    // Nothing per refused request is kept: the 9,992 responses themselves are most of the growth.
    expect(heapGrowthMb).toBeLessThan(100);
    // /diagnostics counts them.
    for (const timer of rcl.node.timers.filter((t) => !t.destroyed)) timer.callback();
    const reports = (rcl.node.publishers.find((p) => p.topic === '/diagnostics')?.published ??
      []) as DiagnosticArrayMessage[];
    const inference = reports.at(-1)?.status.find((s) => s.name === 'actial: inference');
    const value = (key: string): string | undefined => inference?.values.find((v) => v.key === key)?.value;
    expect([value('queries_rejected'), value('query.completed'), value('queries_pending')]).toEqual([
      '9992',
      '8',
      '0',
    ]);
    expect(inference?.message).toContain('9992 queries refused (too many pending)');
    await ros.shutdown();
  }, 60_000);
});
