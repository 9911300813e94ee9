/**
 * Fuzzing of the node core (SpatialNodeCore) as a whole: random sequences of good, mutated and
 * junk messages on camera, camera_info, tf and unknown topics, stamps that jump back and forth,
 * random service requests (SpatialQuery), live parameter changes, lifecycle changes and a model
 * that sometimes fails or answers nonsense. Properties: nothing throws or hangs; every message is
 * accepted or refused with a typed reason; every query is answered; the counters account for every
 * image, every scheduled job and every query.
 */
import fc from 'fast-check';
import sharp from 'sharp';
import type { NodeConfig } from '../../src/config/schema.js';
import {
  ManualClock,
  SpatialNodeCore,
  type InferenceBackend,
  type InputRejectReason,
  type MessageOutcome,
  type NodeOutput,
  type SpatialQueryRequest,
  type SpatialQueryResponse,
} from '../../src/node/index.js';
import { imageMessage, nodeTestConfig, NS, rosTime } from '../helpers/node-frames.js';
import { fuzz, FUZZ_TIMEOUT_MS, IMAGE_CODES } from './fuzz.js';

const CAMERAS = ['a', 'b', 'c'] as const;
type Camera = (typeof CAMERAS)[number];
const START = 1_000n * NS;

const REASONS = new Set<InputRejectReason>([
  'bad_message',
  'bad_stamp',
  'duplicate_stamp',
  'unknown_topic',
  'decode_failed',
  'closed',
  ...IMAGE_CODES,
]);

/** Any value a field of a malformed message might hold (null-prototype objects included). */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, null, '', 0, -1, 1e300, Number.NaN, true, [], {}),
  fc.anything({ maxDepth: 2, maxKeys: 3, withNullPrototype: true, withBigInt: true }),
  fc.uint8Array({ maxLength: 8 }),
);

// ---------------------------------------------------------------------------------------------
// The model: fast, and misbehaving in the ways a real one can.

type ModelMode = 'good' | 'fails' | 'throws' | 'malformed' | 'slow';

function fakeBackend(mode: ModelMode, failEvery: number): InferenceBackend & { calls: number } {
  const state = { calls: 0 };
  const misbehave = (signal: AbortSignal | undefined): Promise<void> => {
    state.calls += 1;
    signal?.throwIfAborted();
    if (mode === 'slow') return new Promise((resolve) => setTimeout(resolve, 1));
    if (state.calls % failEvery !== 0) return Promise.resolve();
    if (mode === 'fails') return Promise.reject(new Error(`model failure ${state.calls}`));
    if (mode === 'throws') throw new TypeError(`synchronous model bug ${state.calls}`);
    return Promise.resolve();
  };
  const malformed = (): boolean => mode === 'malformed' && state.calls % failEvery === 0;
  return {
    get calls() {
      return state.calls;
    },
    executionProvider: 'cpu',
    scoreQuestions: async (request) => {
      await misbehave(request.signal);
      if (malformed()) return { results: [{ probabilities: [Number.NaN], choiceIndex: 7 }] };
      return {
        results: request.questions.map((q) => ({
          probabilities: q.choices.map(() => 1 / q.choices.length),
          choiceIndex: 0,
        })),
      };
    },
    generate: async (request) => {
      await misbehave(request.signal);
      if (malformed()) return { text: undefined as unknown as string, finishReason: 'stop' };
      request.onToken?.({ tokenId: 1, text: '<answer>A' });
      request.onToken?.({ tokenId: 2, text: '</answer>' });
      return { text: '<answer>A</answer>', finishReason: 'stop' };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Scenarios

const queryArb: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      question: fc.constant('Where is the door?'),
      cameras: fc.subarray([...CAMERAS], { minLength: 1 }).map((c) => [...c]),
      choices: fc.constantFrom([], ['A', 'B', 'C']),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record(
      {
        question: fc.oneof(
          fc.constantFrom('Where is the door?', '', '  '),
          fc.string({ maxLength: 300 }),
          junk,
        ),
        cameras: fc.oneof(
          fc.subarray([...CAMERAS], { minLength: 1 }).map((c) => [...c]),
          fc.array(fc.constantFrom('a', 'b', 'c', 'd', ''), { maxLength: 4 }),
          junk,
        ),
        choices: fc.oneof(
          fc.constant([]),
          fc.constant(['A', 'B']),
          fc.array(fc.string({ maxLength: 3 }), { maxLength: 4 }),
          junk,
        ),
        stamp: fc.oneof(
          fc.constant({ sec: 0, nanosec: 0 }),
          fc.record({ sec: fc.integer({ min: 999, max: 1003 }), nanosec: fc.nat(999_999_999) }),
          fc.record({ sec: junk, nanosec: junk }),
          junk,
        ),
        max_new_tokens: fc.oneof(fc.constantFrom(0, 1, 4, -1, 2 ** 53, 0.5), junk),
        timeout_s: fc.oneof(fc.constantFrom(0, 0.0005, 5, -1, Infinity, Number.NaN, 1e12), junk),
      },
      { requiredKeys: ['question', 'cameras'] },
    ),
  },
  { weight: 1, arbitrary: junk },
);

const configArb = fc.record({
  policy: fc.constantFrom('approximate', 'exact', 'latest', 'temporal'),
  queueSize: fc.integer({ min: 1, max: 3 }),
  queuePolicy: fc.constantFrom('keep_latest', 'drop_newest'),
  rate: fc.constantFrom(0, 1, 10, 1000),
  question: fc.boolean(),
  questionChoices: fc.boolean(),
  maxPendingQueries: fc.integer({ min: 1, max: 3 }),
  mode: fc.constantFrom<ModelMode>('good', 'good', 'fails', 'throws', 'malformed', 'slow'),
  failEvery: fc.integer({ min: 1, max: 4 }),
});

type Event =
  | {
      kind: 'image';
      camera: Camera;
      /** The scene time moves by this much first (negative: a jump back), ms. */
      stepMs: number;
      /** The camera's stamp is the scene time plus this, ms. */
      jitterMs: number;
      variant: 'good' | 'broken' | 'junk';
      broken: [string, unknown][];
    }
  | { kind: 'frames'; stepMs: number }
  | { kind: 'info'; camera: Camera; message: unknown }
  | { kind: 'tf'; message: unknown }
  | { kind: 'unknown'; topic: string }
  | { kind: 'tick'; advanceMs: number }
  | { kind: 'query'; request: unknown; cancel: boolean }
  | { kind: 'idle' }
  | { kind: 'update'; update: Record<string, unknown> }
  | { kind: 'lifecycle'; to: 'start' | 'stop' };

const eventArb: fc.Arbitrary<Event> = fc.oneof(
  // Good frames of every camera at the same scene time, as synchronised cameras send them.
  {
    weight: 10,
    arbitrary: fc.record({ kind: fc.constant('frames' as const), stepMs: fc.constantFrom(33, 100, 500) }),
  },
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('image' as const),
      camera: fc.constantFrom(...CAMERAS),
      stepMs: fc.oneof(
        { weight: 12, arbitrary: fc.constantFrom(0, 0, 33, 100) },
        { weight: 1, arbitrary: fc.constantFrom(-500, -1500, -60_000, 5_000) },
      ),
      jitterMs: fc.constantFrom(0, 0, 2, 10, 80),
      variant: fc.constantFrom(
        'good' as const,
        'good' as const,
        'good' as const,
        'broken' as const,
        'junk' as const,
      ),
      broken: fc.array(
        fc.tuple(
          fc.constantFrom(
            'header',
            'width',
            'height',
            'encoding',
            'step',
            'data',
            'format',
            'stamp',
            'frame_id',
          ),
          junk,
        ),
        { minLength: 1, maxLength: 2 },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('info' as const),
      camera: fc.constantFrom(...CAMERAS),
      message: fc.oneof(
        fc.constant({ header: { stamp: { sec: 1000, nanosec: 0 }, frame_id: 'x' }, width: 16, height: 12 }),
        junk,
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('tf' as const),
      message: fc.oneof(
        fc.constant({
          transforms: [
            { header: { stamp: { sec: 1000, nanosec: 0 }, frame_id: 'map' }, child_frame_id: 'a_optical' },
          ],
        }),
        fc.record({ transforms: fc.array(junk, { maxLength: 3 }) }),
        junk,
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('unknown' as const), topic: fc.string({ maxLength: 20 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('tick' as const),
      advanceMs: fc.constantFrom(0, 100, 1000, 5000),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('query' as const), request: queryArb, cancel: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'idle' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('update' as const),
      update: fc.dictionary(
        fc.constantFrom(
          'viewpoint.rate_hz',
          'viewpoint.enabled',
          'queue.size',
          'queue.policy',
          'model.timeout_s',
          'image.max_input_pixels',
          'pairing.policy',
          'questions',
          'tf.publish',
          'diagnostics.rate_hz',
          'nonsense.key',
        ),
        fc.oneof(fc.constantFrom(0, 1, 2, 0.001, true, 'drop_newest', [], ['q']), junk),
        { maxKeys: 2 },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('lifecycle' as const),
      to: fc.constantFrom('start' as const, 'stop' as const),
    }),
  },
);

const scenarioArb = fc.record({
  config: configArb,
  events: fc.array(eventArb, { minLength: 1, maxLength: 80, size: 'max' }),
});

type ConfigCase = typeof configArb extends fc.Arbitrary<infer T> ? T : never;

function buildConfig(c: ConfigCase): NodeConfig {
  return nodeTestConfig(
    [...CAMERAS],
    {
      pairing: { policy: c.policy, max_interval_s: 0.05 },
      queue: { size: c.queueSize, policy: c.queuePolicy },
      viewpoint: { rate_hz: c.rate },
      model: { timeout_s: 5 },
      diagnostics: { rate_hz: 1, stale_after_s: 2 },
      ...(c.question
        ? {
            questions: ['q'],
            question: {
              q: {
                text: 'Which way?',
                cameras: ['a', 'b'],
                choices: c.questionChoices ? ['L', 'R'] : [],
                rate_hz: 2,
              },
            },
          }
        : {}),
    },
    { transport: { b: 'compressed' } },
  );
}

/** Rejects when `promise` is not settled within `ms`: the property "never hangs". */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms (a hang)`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

const sum = (record: Readonly<Record<string, number>>): number =>
  Object.values(record).reduce((a, b) => a + b, 0);

describe('fuzz: SpatialNodeCore under random input', () => {
  let jpeg: Uint8Array;
  beforeAll(async () => {
    const raw = imageMessage({ stamp: 0n, width: 16, height: 12 }).data as Uint8Array;
    jpeg = new Uint8Array(
      await sharp(raw, { raw: { width: 16, height: 12, channels: 3 } })
        .jpeg()
        .toBuffer(),
    );
  });

  it(
    'never throws or hangs, refuses bad input with a typed reason, answers every query, counts everything',
    async () => {
      const totals = { messages: 0, queries: 0, answered: 0, published: 0 };
      await fuzz(
        'node.stream (SpatialNodeCore: messages, queries, parameters, lifecycle)',
        scenarioArb,
        async ({ config: c, events }) => {
          const clock = new ManualClock(START);
          const outputs: NodeOutput[] = [];
          const backend = fakeBackend(c.mode, c.failEvery);
          const core = await SpatialNodeCore.create({
            config: buildConfig(c),
            backend,
            clock,
            maxPendingQueries: c.maxPendingQueries,
            onOutput: (output) => outputs.push(output),
          });
          core.start();
          let scene = START;
          const fed: Record<Camera, number> = { a: 0, b: 0, c: 0 };
          const accepted: Record<Camera, number> = { a: 0, b: 0, c: 0 };
          const queries: Promise<SpatialQueryResponse>[] = [];
          const checkOutcome = (outcome: MessageOutcome): void => {
            if (outcome.accepted) return;
            expect(REASONS.has(outcome.reason)).toBe(true);
            expect(typeof outcome.message).toBe('string');
            expect(outcome.message.length).toBeLessThan(1000);
          };

          const goodImage = (camera: Camera, stamp: bigint): Record<string, unknown> =>
            camera === 'b'
              ? { header: { stamp: rosTime(stamp), frame_id: 'b_cam' }, format: 'jpeg', data: jpeg }
              : imageMessage({ stamp, width: 16, height: 12, seed: Number(stamp % 97n) });
          const feed = (camera: Camera, message: unknown): void => {
            fed[camera] += 1;
            const outcome = core.handleMessage(`/${camera}/image_raw`, message);
            checkOutcome(outcome);
            if (outcome.accepted) accepted[camera] += 1;
          };

          for (const event of events) {
            switch (event.kind) {
              case 'frames':
                scene += BigInt(event.stepMs) * 1_000_000n;
                if (scene > clock.now()) clock.set(scene);
                for (const camera of CAMERAS) feed(camera, goodImage(camera, scene));
                break;
              case 'image': {
                scene += BigInt(event.stepMs) * 1_000_000n;
                const stamp = scene + BigInt(event.jitterMs) * 1_000_000n;
                clock.set(stamp > clock.now() ? stamp : clock.now());
                let message: unknown = goodImage(event.camera, stamp);
                if (event.variant === 'junk') message = event.broken[0]?.[1];
                if (event.variant === 'broken') {
                  const m = message as Record<string, unknown>;
                  const header = m.header as Record<string, unknown>;
                  for (const [key, value] of event.broken) {
                    if (key === 'stamp' || key === 'frame_id') header[key] = value;
                    else m[key] = value;
                  }
                }
                feed(event.camera, message);
                break;
              }
              case 'info':
                checkOutcome(core.handleMessage(`/${event.camera}/camera_info`, event.message));
                break;
              case 'tf':
                checkOutcome(core.handleMessage('/tf', event.message));
                break;
              case 'unknown': {
                const outcome = core.handleMessage(`/elsewhere/${event.topic}`, {});
                expect(outcome).toMatchObject({ accepted: false, reason: 'unknown_topic' });
                break;
              }
              case 'tick':
                clock.advance(BigInt(event.advanceMs) * 1_000_000n);
                core.tick();
                break;
              case 'query': {
                const controller = new AbortController();
                const answer = core.query(event.request as SpatialQueryRequest, {
                  signal: controller.signal,
                });
                expect(answer).toBeInstanceOf(Promise);
                if (event.cancel) queueMicrotask(() => controller.abort());
                queries.push(answer);
                break;
              }
              case 'idle':
                await within(core.whenIdle(), 10_000, 'whenIdle');
                break;
              case 'update': {
                const result = core.updateConfig(event.update);
                expect(result.applied.length + result.refused.length).toBeGreaterThanOrEqual(
                  Object.keys(event.update).length > 0 ? 1 : 0,
                );
                for (const refused of result.refused) expect(refused.reason.length).toBeGreaterThan(0);
                break;
              }
              case 'lifecycle':
                if (event.to === 'start') core.start();
                else await within(core.stop(), 10_000, 'stop');
                break;
            }
          }
          await within(core.whenIdle(), 10_000, 'whenIdle at the end');
          const responses = await within(Promise.all(queries), 10_000, 'the queries');
          for (const response of responses) {
            expect(typeof response.success).toBe('boolean');
            if (!response.success) expect(response.error.length).toBeGreaterThan(0);
            else expect(response.error).toBe('');
          }

          const stats = core.stats();
          const diagnostics = core.diagnostics();
          for (const status of diagnostics.status) {
            expect([0, 1, 2, 3]).toContain(status.level);
            for (const value of status.values) expect(typeof value.value).toBe('string');
          }
          // Every image fed on a camera topic is received or refused, exactly once.
          for (const camera of CAMERAS) {
            const s = stats.cameras[camera];
            if (!s) throw new Error(`no stats for camera ${camera}`);
            expect(s.received).toBe(accepted[camera]);
            expect(s.received + s.rejectedTotal - s.rejectedAtDecode).toBe(fed[camera]);
            expect(sum(s.rejected)).toBe(s.rejectedTotal);
          }
          // Every scheduled job is done, failed, timed out, cancelled or dropped; nothing is left over.
          const inf = stats.inference;
          expect(inf.queued).toBe(0);
          expect(inf.running).toBeNull();
          expect(inf.pendingQueries).toBe(0);
          const settled = (kind: 'viewpoint' | 'question' | 'query'): number =>
            inf.completed[kind] + inf.failed[kind] + inf.timedOut[kind] + inf.cancelled[kind];
          expect(settled('viewpoint') + settled('question') + inf.dropped).toBe(
            inf.scheduled.viewpoint + inf.scheduled.question,
          );
          expect(stats.pairs.reduce((n, p) => n + p.scheduled, 0)).toBe(inf.scheduled.viewpoint);
          // Standing questions removed live take their own counters with them.
          expect(Object.values(stats.questions).reduce((n, q) => n + q.scheduled, 0)).toBeLessThanOrEqual(
            inf.scheduled.question,
          );
          for (const pair of stats.pairs) {
            expect(pair.published + pair.failed + pair.dropped).toBeLessThanOrEqual(pair.scheduled);
          }
          // Every query is invalid, refused, or ran to an outcome.
          expect(settled('query')).toBe(inf.scheduled.query);
          expect(
            inf.invalidQueries +
              inf.rejectedQueries +
              inf.completed.query +
              inf.failed.query +
              inf.timedOut.query +
              inf.cancelled.query,
          ).toBe(queries.length);
          expect(responses.filter((r) => r.success)).toHaveLength(inf.completed.query);
          // Outputs match the counters: one per completed job.
          const viewpoints = outputs.filter((o) => o.topic === '~/viewpoint');
          expect(viewpoints).toHaveLength(stats.pairs.reduce((n, p) => n + p.published, 0));
          expect(viewpoints).toHaveLength(inf.completed.viewpoint);
          expect(outputs.filter((o) => o.topic === '~/answer')).toHaveLength(inf.completed.question);

          await within(core.close(), 10_000, 'close');
          expect(core.handleMessage('/a/image_raw', imageMessage({ stamp: START }))).toMatchObject({
            accepted: false,
            reason: 'closed',
          });
          await expect(core.query({ question: 'x', cameras: ['a'] })).resolves.toMatchObject({
            success: false,
          });
          totals.messages += events.length;
          totals.queries += queries.length;
          totals.answered += inf.completed.query;
          totals.published += viewpoints.length;
        },
        { runs: 400 },
      );
      // The scenarios reach the model: estimates are published and some queries succeed.
      expect(totals.published).toBeGreaterThan(20);
      expect(totals.answered).toBeGreaterThan(5);
    },
    FUZZ_TIMEOUT_MS,
  );
});
