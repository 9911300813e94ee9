/**
 * Fuzzing of configuration and requests from outside: random config objects and mutated params
 * files (parseConfig, loadConfigFile with `-p` overrides), random `--ros-args -p` overrides and
 * `ros2 param set` calls on the ROS adapter (rclnodejs stand-in), and random service requests to
 * the adapter's ~/query. Properties: a configuration is valid or refused with a ConfigError whose
 * every line names a key; the adapter never throws from a callback: configure fails as a lifecycle
 * transition naming the problem, a parameter change is accepted or refused with a reason, and every
 * service request gets a response.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigError, loadConfigFile, parseConfig } from '../../src/config/load.js';
import { SpatialNodeCore, type InferenceBackend, type SpatialQueryResponse } from '../../src/node/index.js';
import { ActialRosNode, LifecycleTransitionError } from '../../src/ros/adapter.js';
import { parameterSpecs, ParameterType } from '../../src/ros/parameters.js';
import { repoRoot } from '../helpers/cli.js';
import { imageMessage, NS } from '../helpers/node-frames.js';
import { FakeParameter, FakeRcl } from '../ros/fake-rclnodejs.js';
import { fuzz, FUZZ_TIMEOUT_MS, mutateBytes } from './fuzz.js';

/** Every dotted key of the schema, for cameras left/right and a question q. */
const SPECS = parameterSpecs({ cameras: ['left', 'right'], questions: ['q'] });
const KEYS = SPECS.map((s) => s.name);

const VALID: Record<string, unknown> = {
  cameras: ['left', 'right'],
  camera: {
    left: { topic: '/left/image_raw' },
    right: { topic: '/right/image_raw', transport: 'compressed' },
  },
  questions: ['q'],
  question: { q: { text: 'Where?', cameras: ['left', 'right'], choices: ['A', 'B'], rate_hz: 1 } },
};

const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    '',
    'abc',
    0,
    -1,
    0.5,
    1e300,
    Number.NaN,
    Infinity,
    true,
    [],
    {},
    [1, 'a'],
    5n,
  ),
  fc.anything({ maxDepth: 2, maxKeys: 3, withBigInt: true, withNullPrototype: true }),
  fc.string({ minLength: 100, maxLength: 3000 }),
);

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1] ?? '';
  if (value === undefined) delete node[last];
  else node[last] = value;
}

/** Line shapes of ConfigError problems: each names a key (or says the file cannot be read). */
const PROBLEM = /^(key '[^']*'|unknown keys? '|not valid YAML|cannot read file|override ')/;

function expectConfigError(error: unknown): ConfigError {
  if (!(error instanceof ConfigError)) {
    throw new Error(`expected a ConfigError, got ${String(error)}`, { cause: error });
  }
  expect(error.problems.length).toBeGreaterThan(0);
  for (const problem of error.problems) {
    expect(problem).toMatch(PROBLEM);
    expect(problem.length).toBeLessThan(1000);
  }
  return error;
}

describe('fuzz: configuration', () => {
  it(
    'parseConfig: a random config object is valid or refused with a ConfigError naming each bad key',
    async () => {
      const outcomes = { valid: 0, refused: 0 };
      await fuzz(
        'config.object (parseConfig)',
        fc.oneof(
          {
            weight: 8,
            arbitrary: fc
              .array(
                fc.tuple(
                  fc.oneof(
                    { weight: 4, arbitrary: fc.constantFrom(...KEYS) },
                    {
                      weight: 1,
                      arbitrary: fc.constantFrom(
                        'pairing.queue_sise',
                        'camera.left.qos.profle',
                        'extra',
                        'camera.front.topic',
                      ),
                    },
                  ),
                  fc.oneof(
                    { weight: 1, arbitrary: junk },
                    {
                      weight: 3,
                      arbitrary: fc.constantFrom(1, 2, 0, 'approximate', 'cuda', 'keep_latest', [], ['left']),
                    },
                  ),
                ),
                { minLength: 1, maxLength: 4 },
              )
              .map((edits) => ({ edits })),
          },
          { weight: 1, arbitrary: junk.map((whole) => ({ whole })) },
        ),
        (input) => {
          let params: unknown;
          if ('edits' in input) {
            const copy = structuredClone(VALID);
            for (const [key, value] of input.edits) setPath(copy, key.split('.'), value);
            params = copy;
          } else {
            params = input.whole;
          }
          try {
            parseConfig(params, { source: 'fuzz', checkModelPath: false });
            outcomes.valid += 1;
          } catch (error) {
            expectConfigError(error);
            outcomes.refused += 1;
          }
        },
        { runs: 3000 },
      );
      expect(outcomes.valid).toBeGreaterThan(50);
      expect(outcomes.refused).toBeGreaterThan(500);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'loadConfigFile: a mutated params file with random -p overrides is valid or refused with a ConfigError',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'actial-fuzz-config-'));
      const text = new TextEncoder().encode(await readFile(join(repoRoot, 'config', 'default.yaml'), 'utf8'));
      const outcomes = { valid: 0, refused: 0 };
      let n = 0;
      try {
        await fuzz(
          'config.file (loadConfigFile + overrides)',
          fc.record({
            bytes: fc.oneof(
              { weight: 1, arbitrary: fc.constant(text) },
              { weight: 4, arbitrary: mutateBytes(text, 4) },
            ),
            overrides: fc.array(
              fc.oneof(
                fc
                  .tuple(
                    fc.constantFrom(...KEYS, 'a.b', '', 'cameras.'),
                    fc.constantFrom(
                      '5',
                      'abc',
                      '[left, right]',
                      '{a: 1}',
                      'true',
                      '-1',
                      '',
                      '[',
                      '1e999',
                      '"x"',
                    ),
                  )
                  .map(([k, v]) => `${k}=${v}`),
                fc.string({ maxLength: 20 }),
              ),
              { maxLength: 3 },
            ),
          }),
          async ({ bytes, overrides }) => {
            const path = join(dir, `params-${n++}.yaml`);
            await writeFile(path, bytes);
            try {
              loadConfigFile(path, overrides, { checkModelPath: false });
              outcomes.valid += 1;
            } catch (error) {
              expectConfigError(error);
              outcomes.refused += 1;
            }
            await rm(path);
          },
          { runs: 1000 },
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      expect(outcomes.valid).toBeGreaterThan(20);
      expect(outcomes.refused).toBeGreaterThan(20);
    },
    FUZZ_TIMEOUT_MS,
  );
});

// ---------------------------------------------------------------------------------------------
// The ROS adapter

const fastBackend = (): InferenceBackend & { close(): void } => ({
  scoreQuestions: (request) =>
    Promise.resolve({
      results: request.questions.map((q) => ({
        probabilities: q.choices.map(() => 1 / q.choices.length),
        choiceIndex: 0,
      })),
    }),
  generate: () => Promise.resolve({ text: '<answer>A</answer>', finishReason: 'stop' }),
  close: () => undefined,
});

const BASE_ARGS = [
  '-p',
  'cameras:=[left, right]',
  '-p',
  'camera.left.topic:=/left/image_raw',
  '-p',
  'camera.right.topic:=/right/image_raw',
];

/** A YAML value as `ros2 run ... -p key:=value` would carry it. */
const rosValue = fc.oneof(
  fc.constantFrom(
    '5',
    '0',
    '-1',
    '2.5',
    'abc',
    'true',
    '[left, right]',
    '[1, 2]',
    '[]',
    "''",
    '{a: 1}',
    '1e999',
    '[a, 1]',
    'null',
  ),
  fc.string({ maxLength: 12 }).filter((s) => !/[\s:=]/.test(s)),
);

async function createNode(args: readonly string[]) {
  const rcl = new FakeRcl();
  await rcl.module.init(undefined, ['node', 'main.js', '--ros-args', ...args]);
  const ros = await ActialRosNode.create({
    rcl: rcl.module,
    createBackend: () => Promise.resolve(fastBackend()),
    createCore: (options) => SpatialNodeCore.create(options),
    parseConfig: (params, source) => parseConfig(params, { source, checkModelPath: false }),
  });
  return { rcl, ros, node: rcl.node };
}

/** A FakeParameter of a declared parameter's type, or of a wrong one. */
const parameterArb = fc
  .tuple(
    fc.constantFrom(...SPECS),
    fc.constantFrom(
      ParameterType.BOOL,
      ParameterType.INTEGER,
      ParameterType.DOUBLE,
      ParameterType.STRING,
      ParameterType.STRING_ARRAY,
      ParameterType.DOUBLE_ARRAY,
    ),
    fc.boolean(),
    fc.oneof(fc.integer({ min: -5, max: 100 }), fc.double({ noNaN: false }), fc.string({ maxLength: 8 })),
  )
  .map(([spec, otherType, sameType, raw]) => {
    const type = sameType ? spec.type : otherType;
    const value =
      type === ParameterType.BOOL
        ? Boolean(raw)
        : type === ParameterType.INTEGER
          ? BigInt(Number.isFinite(Number(raw)) ? Math.trunc(Number(raw)) : 0)
          : type === ParameterType.DOUBLE
            ? Number(raw)
            : type === ParameterType.STRING
              ? String(raw)
              : type === ParameterType.STRING_ARRAY
                ? [String(raw)]
                : [Number(raw)];
    return new FakeParameter(spec.name, type, value);
  });

describe('fuzz: the ROS adapter (rclnodejs stand-in)', () => {
  it(
    'random -p overrides: configure succeeds or fails as a lifecycle transition naming the problem; parameter sets never throw',
    async () => {
      const outcomes = { configured: 0, refused: 0, setOk: 0, setRefused: 0 };
      await fuzz(
        'ros.parameters (--ros-args -p, configure, ros2 param set)',
        fc.record({
          overrides: fc.array(
            fc.tuple(
              fc.oneof(
                fc.constantFrom(...KEYS),
                fc.constantFrom('camera.front.topic', 'question.z.text', 'nonsense'),
              ),
              rosValue,
            ),
            { maxLength: 3 },
          ),
          sets: fc.array(fc.array(parameterArb, { minLength: 1, maxLength: 3 }), { maxLength: 3 }),
          activate: fc.boolean(),
        }),
        async ({ overrides, sets, activate }) => {
          const args = [...BASE_ARGS, ...overrides.flatMap(([k, v]) => ['-p', `${k}:=${v}`])];
          const rcl = new FakeRcl();
          try {
            await rcl.module.init(undefined, ['node', 'main.js', '--ros-args', ...args]);
          } catch {
            return; // rcl refuses the command line (a value that is not YAML): no node is made.
          }
          let harness;
          try {
            harness = await createNode(args);
          } catch (error) {
            // Declaring an override of another type than the schema's: refused by rcl, naming it.
            expect(error).toBeInstanceOf(Error);
            expect((error as Error).message).toMatch(/[Pp]arameter/);
            return;
          }
          const { ros, node } = harness;
          try {
            await ros.configure();
            outcomes.configured += 1;
          } catch (error) {
            if (!(error instanceof LifecycleTransitionError)) throw error;
            expect(error.reason.length).toBeGreaterThan(0);
            expect(ros.state).toBe('unconfigured');
            outcomes.refused += 1;
          }
          if (activate && ros.state === 'inactive') {
            try {
              ros.activate();
            } catch (error) {
              // e.g. a topic name rcl refuses: the node stays inactive, nothing half-made is left.
              if (!(error instanceof LifecycleTransitionError)) throw error;
              expect(error.reason).toMatch(/topic name/i);
              expect(ros.state).toBe('inactive');
            }
          }
          for (const parameters of sets) {
            const result = node.setParameters(parameters);
            expect(typeof result.successful).toBe('boolean');
            if (result.successful) outcomes.setOk += 1;
            else {
              expect(result.reason.length).toBeGreaterThan(0);
              outcomes.setRefused += 1;
            }
          }
          await ros.shutdown();
          expect(ros.state).toBe('finalized');
        },
        { runs: 400 },
      );
      expect(outcomes.configured).toBeGreaterThan(20);
      expect(outcomes.refused).toBeGreaterThan(20);
      expect(outcomes.setOk).toBeGreaterThan(10);
      expect(outcomes.setRefused).toBeGreaterThan(10);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'random ~/query requests: every one gets a response, success or the reason',
    async () => {
      const { ros, node } = await createNode([...BASE_ARGS, '-p', 'viewpoint.enabled:=false']);
      await ros.configure();
      ros.activate();
      for (const stamp of [1n, 2n].map((s) => 1000n * NS + s * 10_000_000n)) {
        for (const camera of ['left', 'right']) {
          const subscription = node.subscriptions.find(
            (s) => s.topic === `/${camera}/image_raw` && !s.destroyed,
          );
          subscription?.callback(imageMessage({ stamp, width: 16, height: 12 }));
        }
      }
      const outcomes = { success: 0, failure: 0 };
      await fuzz(
        'ros.service (~/query requests)',
        fc.oneof(
          fc.record({
            question: fc.oneof(fc.constant('Where is it?'), junk),
            cameras: fc.oneof(fc.constant(['left', 'right']), fc.constant(['right']), junk),
            choices: fc.oneof(fc.constant([]), fc.constant(['A', 'B']), junk),
            stamp: fc.oneof(fc.constant({ sec: 0, nanosec: 0 }), junk),
            max_new_tokens: fc.oneof(fc.constant(0), junk),
            timeout_s: fc.oneof(fc.constant(0), fc.constant(2), junk),
          }),
          junk,
        ),
        async (request) => {
          const response: SpatialQueryResponse = await node.call('~/query', request as never);
          expect(typeof response.success).toBe('boolean');
          expect(typeof response.error).toBe('string');
          if (response.success) outcomes.success += 1;
          else {
            expect(response.error.length).toBeGreaterThan(0);
            outcomes.failure += 1;
          }
        },
        { runs: 1000 },
      );
      await ros.shutdown();
      expect(outcomes.success).toBeGreaterThan(5);
      expect(outcomes.failure).toBeGreaterThan(100);
    },
    FUZZ_TIMEOUT_MS,
  );
});
