import { decodeImage, preprocess, type ImageMessage } from '../image/index.js';
import type { Engine } from '../model/engine.js';
import { ACTIAL_SYSTEM_PROMPT } from '../spatial/index.js';
import {
  frameStamp,
  imageMessage,
  nodeTestConfig,
  NS,
  OutputLog,
  rosTime,
  tinyEngine,
} from '../../test/helpers/node-frames.js';
import {
  DIAGNOSTIC_LEVEL,
  ManualClock,
  SpatialNodeCore,
  type AskFeedback,
  type InferenceBackend,
  type SpatialNodeCoreOptions,
} from './index.js';

const START = 50n * NS;
const HZ = 30;

let engine: Engine;
beforeAll(async () => {
  engine = await tinyEngine();
});
afterAll(async () => {
  await engine.dispose();
});

/** The real engine, but each call waits until its request is aborted (so only a timeout or cancel ends it). */
function heldUntilAborted(inner: Engine): InferenceBackend {
  const held = <T>(signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> =>
    new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true })).then(
      call,
    );
  return {
    executionProvider: inner.executionProvider,
    scoreQuestions: (request) => held(request.signal, () => inner.scoreQuestions(request)),
    generate: (request) => held(request.signal, () => inner.generate(request)),
  };
}

/** The real engine behind a gate: calls wait until `open()`. */
function gated(inner: Engine): { backend: InferenceBackend; open: () => void; calls: () => number } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let calls = 0;
  return {
    backend: {
      scoreQuestions: async (request) => {
        calls++;
        await gate;
        return inner.scoreQuestions(request);
      },
      generate: async (request) => {
        calls++;
        await gate;
        return inner.generate(request);
      },
    },
    open,
    calls: () => calls,
  };
}

/** A core over cameras left and right (viewpoints off, so only queries use the model). */
async function core(
  options: Partial<SpatialNodeCoreOptions> = {},
  extra: Record<string, unknown> = {},
): Promise<{ core: SpatialNodeCore; clock: ManualClock }> {
  const clock = new ManualClock(START);
  const created = await SpatialNodeCore.create({
    config: nodeTestConfig(['left', 'right'], { viewpoint: { enabled: false }, ...extra }),
    backend: engine,
    clock,
    ...options,
  });
  created.start();
  return { core: created, clock };
}

/** Frames k = 0..count-1 of both cameras at 30 Hz (right's stamps 5 ms later). */
function feed(node: SpatialNodeCore, clock: ManualClock, count: number, first = 0): void {
  for (let k = first; k < first + count; k++) {
    const stamp = frameStamp(START, k, HZ);
    clock.set(stamp);
    node.handleMessage('/left/image_raw', imageMessage({ stamp, seed: k }));
    node.handleMessage('/right/image_raw', imageMessage({ stamp: stamp + 5_000_000n, seed: k + 50 }));
  }
}

const ns = (t: { sec: number; nanosec: number }): bigint => BigInt(t.sec) * NS + BigInt(t.nanosec);

describe('SpatialNodeCore.query', () => {
  it('scores the choices about the latest synchronised frames', async () => {
    const { core: node, clock } = await core({ modelName: 'tiny' });
    feed(node, clock, 10);
    const response = await node.query({
      question: 'Is the second camera to the right of the first? A: yes B: no',
      cameras: ['left', 'right'],
      choices: ['A', 'B'],
    });
    expect(response.success).toBe(true);
    expect(response.error).toBe('');
    const answer = response.answer;
    const left = frameStamp(START, 9, HZ);
    expect(answer.stamps.map(ns)).toEqual([left, left + 5_000_000n]);
    expect(ns(answer.header.stamp)).toBe(left + 5_000_000n);
    expect(answer.header.frame_id).toBe('left_optical');
    expect(answer.cameras).toEqual(['left', 'right']);
    expect(answer.choices).toEqual(['A', 'B']);
    expect(answer.probabilities).toHaveLength(2);
    expect(answer.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(answer.choice_index).toBe(answer.probabilities.indexOf(Math.max(...answer.probabilities)));
    expect(answer.answer).toBe(answer.choices[answer.choice_index]);
    expect(answer.model).toBe('tiny');
    expect(answer.inference_ms).toBeGreaterThan(0);
    expect(node.stats().inference.completed.query).toBe(1);
    await node.close();
  });

  it('gives the same scores as the engine for the same frames (same images, prompt and prefix)', async () => {
    const { core: node, clock } = await core();
    feed(node, clock, 3);
    const response = await node.query({
      question: 'Which? A: one B: two',
      cameras: ['right'],
      choices: ['A', 'B'],
    });
    const rgb = decodeImage(imageMessage({ stamp: 0n, seed: 2 + 50 }) as unknown as ImageMessage);
    const image = await preprocess(rgb, { maxPixels: 56 * 56, minPixels: 3136 });
    const direct = await engine.scoreQuestions({
      images: [{ image }],
      system: ACTIAL_SYSTEM_PROMPT,
      questions: [{ question: 'Which? A: one B: two', choices: ['A', 'B'], answerPrefix: '<answer>' }],
    });
    expect(response.answer.probabilities[0]).toBeCloseTo(direct.results[0]?.probabilities[0] ?? NaN, 6);
    await node.close();
  });

  it('generates a free-form answer, streaming feedback token by token', async () => {
    const { core: node, clock } = await core({}, { prompt: { answer_format: 'plain' } });
    feed(node, clock, 5);
    const feedback: AskFeedback[] = [];
    const response = await node.query(
      { question: 'Describe the two views.', cameras: ['right', 'left'], max_new_tokens: 6 },
      { onFeedback: (f) => feedback.push({ ...f }) },
    );
    expect(response.success).toBe(true);
    const answer = response.answer;
    expect(answer).toMatchObject({
      choices: [],
      probabilities: [],
      choice_index: -1,
      cameras: ['right', 'left'],
    });
    expect(answer.header.frame_id).toBe('right_optical');
    expect(feedback.map((f) => f.tokens)).toEqual(feedback.map((_, i) => i + 1));
    expect(feedback.length).toBeGreaterThan(0);
    expect(feedback.length).toBeLessThanOrEqual(6);
    expect(feedback[feedback.length - 1]?.partial_text).toBe(answer.text);
    expect(answer.answer).toBe(answer.text.trim()); // plain format: the whole text
    await node.close();
  });

  it('refuses unknown cameras, requests before frames, and malformed requests with the reason', async () => {
    const { core: node, clock } = await core();
    const ask = (request: Record<string, unknown>) =>
      node.query({ question: 'Which? A: x B: y', cameras: ['left'], choices: ['A', 'B'], ...request });
    expect(await ask({ cameras: ['left', 'front'] })).toMatchObject({
      success: false,
      error: "unknown camera 'front' (cameras: left, right)",
    });
    expect(await ask({})).toMatchObject({ success: false, error: "no frames yet from camera 'left'" });
    feed(node, clock, 1);
    expect(await ask({ question: '  ' })).toMatchObject({ success: false, error: 'the question is empty' });
    expect(await ask({ cameras: [] })).toMatchObject({ success: false, error: 'no cameras given' });
    expect(await ask({ choices: ['A', 'A'] })).toMatchObject({
      success: false,
      error: "choice 'A' is given twice",
    });
    expect(await ask({ timeout_s: -1 })).toMatchObject({
      success: false,
      error: 'timeout_s must be a number of seconds >= 0, got -1',
    });
    const failed = await ask({ cameras: ['nope'] });
    expect(failed.answer).toMatchObject({ answer: '', cameras: [], choice_index: -1 });
    expect(node.stats().inference.invalidQueries).toBe(7);
    expect((await ask({})).success).toBe(true);
    await node.close();
  });

  it('answers about the frames nearest a requested stamp from the history', async () => {
    const { core: node, clock } = await core();
    feed(node, clock, 45); // 1.5 s of frames, of which the history keeps the last 32
    const wanted = frameStamp(START, 20, HZ);
    const response = await node.query({
      question: 'Which? A: x B: y',
      cameras: ['left', 'right'],
      choices: ['A', 'B'],
      stamp: rosTime(wanted + 1_000_000n),
    });
    expect(response.success).toBe(true);
    expect(response.answer.stamps.map(ns)).toEqual([wanted, wanted + 5_000_000n]);
    const tooOld = await node.query({
      question: 'Which? A: x B: y',
      cameras: ['left'],
      choices: ['A', 'B'],
      stamp: rosTime(START - 2n * NS),
    });
    expect(tooOld).toMatchObject({
      success: false,
      error: `no frame of camera 'left' within 0.100000000 s of stamp 48.000000000 (history 50.433333333 .. 51.466666666 s)`,
    });
    await node.close();
  });

  it('refuses the latest frames when the cameras are further apart than pairing.max_interval_s', async () => {
    const { core: node, clock } = await core();
    feed(node, clock, 3);
    // left goes on alone for a second
    for (let k = 3; k < 33; k++) {
      const stamp = frameStamp(START, k, HZ);
      clock.set(stamp);
      node.handleMessage('/left/image_raw', imageMessage({ stamp, seed: k }));
    }
    const response = await node.query({
      question: 'Which? A: x B: y',
      cameras: ['right', 'left'],
      choices: ['A', 'B'],
    });
    // The laggard (right, 50.071666666) sets the anchor; left's nearest frame is within 5 ms.
    expect(response.success).toBe(true);
    expect(response.answer.stamps.map(ns)).toEqual([
      frameStamp(START, 2, HZ) + 5_000_000n,
      frameStamp(START, 2, HZ),
    ]);
    // With history shorter than the gap there is no frame of left near right's last one.
    const short = await core({ historySize: 5 });
    feed(short.core, short.clock, 3);
    for (let k = 3; k < 33; k++) {
      const stamp = frameStamp(START, k, HZ);
      short.clock.set(stamp);
      short.core.handleMessage('/left/image_raw', imageMessage({ stamp, seed: k }));
    }
    const refused = await short.core.query({
      question: 'Which? A: x B: y',
      cameras: ['right', 'left'],
      choices: ['A', 'B'],
    });
    expect(refused.success).toBe(false);
    expect(refused.error).toMatch(
      /^the latest frames of right, left are 0\.861666667 s apart .* more than pairing\.max_interval_s 0\.050000000$/,
    );
    await node.close();
    await short.core.close();
  });

  it('cancels a generation mid-way through the AbortSignal', async () => {
    const { core: node, clock } = await core();
    feed(node, clock, 3);
    const controller = new AbortController();
    const feedback: number[] = [];
    const response = await node.query(
      { question: 'Describe the scene in detail.', cameras: ['left'], max_new_tokens: 64 },
      {
        signal: controller.signal,
        onFeedback: (f) => {
          feedback.push(f.tokens);
          if (f.tokens === 3) controller.abort();
        },
      },
    );
    expect(response).toMatchObject({ success: false, error: 'cancelled' });
    expect(feedback).toEqual([1, 2, 3]);
    expect(node.stats().inference.cancelled.query).toBe(1);
    // The lane is free again.
    expect(
      (await node.query({ question: 'Which? A: x B: y', cameras: ['left'], choices: ['A', 'B'] })).success,
    ).toBe(true);
    await node.close();
  });

  it('times out after the request timeout_s, or model.timeout_s when it is 0', async () => {
    const { core: node, clock } = await core(
      { backend: heldUntilAborted(engine) },
      { model: { timeout_s: 0.02 } },
    );
    feed(node, clock, 3);
    // float32 on the wire: 0.05 arrives as 0.05000000074505806
    const response = await node.query({
      question: 'Describe.',
      cameras: ['left'],
      timeout_s: Math.fround(0.05),
    });
    expect(response).toMatchObject({ success: false, error: 'timed out after 0.05 s' });
    const byDefault = await node.query({
      question: 'Which? A: x B: y',
      cameras: ['left'],
      choices: ['A', 'B'],
    });
    expect(byDefault).toMatchObject({ success: false, error: 'timed out after 0.02 s' });
    expect(node.stats().inference.timedOut.query).toBe(2);
    const inference = node.diagnostics(clock.now()).status.find((s) => s.name === 'actial: inference');
    expect(inference?.level).toBe(DIAGNOSTIC_LEVEL.WARN);
    expect(inference?.message).toContain('2 jobs timed out');
    await node.close();
  });

  it('counts periodic jobs that time out against their pair and question, which turn WARN', async () => {
    const { core: node, clock } = await core(
      { backend: heldUntilAborted(engine) },
      {
        viewpoint: { enabled: true, rate_hz: 1 },
        questions: ['door'],
        question: { door: { text: 'Where is the door?', cameras: ['left'], rate_hz: 1 } },
        model: { timeout_s: 0.02 },
      },
    );
    node.diagnostics(clock.now()); // the report before the jobs
    feed(node, clock, 2);
    await node.whenIdle();
    const stats = node.stats();
    expect(stats.pairs[0]).toMatchObject({ failed: 0, timedOut: 1, published: 0 });
    expect(stats.questions.door).toMatchObject({ failed: 0, timedOut: 1, published: 0 });
    const report = node.diagnostics(clock.now()).status;
    const pair = report.find((s) => s.name === 'actial: pair left:right');
    const question = report.find((s) => s.name === 'actial: question door');
    expect([pair?.level, pair?.message]).toEqual([
      DIAGNOSTIC_LEVEL.WARN,
      '1 estimates timed out since the last report',
    ]);
    expect(pair?.values).toContainEqual({ key: 'timed_out', value: '1' });
    expect([question?.level, question?.message]).toEqual([
      DIAGNOSTIC_LEVEL.WARN,
      '1 answers timed out since the last report',
    ]);
    // Nothing new since: OK again.
    const next = node.diagnostics(clock.now()).status;
    expect(next.find((s) => s.name === 'actial: pair left:right')?.level).toBe(DIAGNOSTIC_LEVEL.OK);
    await node.close();
  });

  it('bounds a query storm: beyond maxPendingQueries requests are refused at once', async () => {
    const gate = gated(engine);
    const { core: node, clock } = await core({ backend: gate.backend, maxPendingQueries: 3 });
    feed(node, clock, 3);
    const request = { question: 'Which? A: x B: y', cameras: ['left', 'right'], choices: ['A', 'B'] };
    const storm = Array.from({ length: 12 }, () => node.query(request));
    // The refused ones are answered while the gate is still closed.
    const refused = await Promise.all(storm.slice(3));
    for (const response of refused) {
      expect(response).toMatchObject({
        success: false,
        error: 'too many queries pending (3 of at most 3); try again later',
      });
    }
    expect(node.stats().inference).toMatchObject({ pendingQueries: 3, rejectedQueries: 9 });
    gate.open();
    const answered = await Promise.all(storm.slice(0, 3));
    expect(answered.map((r) => r.success)).toEqual([true, true, true]);
    expect(gate.calls()).toBe(3);
    expect(node.stats().inference.pendingQueries).toBe(0);
    const inference = node.diagnostics(clock.now()).status.find((s) => s.name === 'actial: inference');
    expect(inference?.message).toContain('9 queries refused (too many pending)');
    await node.close();
  });

  it('cancels and times out queued queries without waiting for the running one', async () => {
    const { core: node, clock } = await core({ backend: heldUntilAborted(engine) });
    feed(node, clock, 3);
    const request = { question: 'Which? A: x B: y', cameras: ['left'], choices: ['A', 'B'] };
    const first = new AbortController();
    const running = node.query({ ...request, timeout_s: 600 }, { signal: first.signal });
    const queuedCancel = new AbortController();
    const cancelled = node.query({ ...request, timeout_s: 600 }, { signal: queuedCancel.signal });
    const timedOut = node.query({ ...request, timeout_s: 0.01 });
    expect(await timedOut).toMatchObject({ success: false, error: 'timed out after 0.01 s' });
    queuedCancel.abort();
    expect(await cancelled).toMatchObject({ success: false, error: 'cancelled' });
    expect(node.stats().inference).toMatchObject({ running: 'query', pendingQueries: 1 });
    first.abort();
    expect(await running).toMatchObject({ success: false, error: 'cancelled' });
    await node.close();
  });

  it('reports a failing backend as success=false and an ERROR diagnostic', async () => {
    const failing: InferenceBackend = {
      scoreQuestions: () => Promise.reject(new Error('CUDA out of memory')),
      generate: (request) => engine.generate(request),
      executionProvider: 'cuda',
    };
    const { core: node, clock } = await core({ backend: failing });
    feed(node, clock, 3);
    const response = await node.query({
      question: 'Which? A: x B: y',
      cameras: ['left'],
      choices: ['A', 'B'],
    });
    expect(response).toMatchObject({ success: false, error: 'inference failed: CUDA out of memory' });
    const inference = node.diagnostics(clock.now()).status.find((s) => s.name === 'actial: inference');
    expect(inference).toMatchObject({ level: DIAGNOSTIC_LEVEL.ERROR, hardware_id: 'cuda' });
    expect(inference?.values).toContainEqual({
      key: 'last_error',
      value: 'inference failed: CUDA out of memory',
    });
    await node.close();
  });

  it('reports model host restarts and a CPU fallback in the inference diagnostics', async () => {
    let restarts = 0;
    const hosted: InferenceBackend = {
      scoreQuestions: (request) => engine.scoreQuestions(request),
      generate: (request) => engine.generate(request),
      executionProvider: 'cpu',
      fallbackReason: 'CUDA provider library not installed',
      modelFiles: 'onnx/decoder_model_merged_q4f16.onnx (q4f16)',
      stats: () => ({ state: 'ready', restarts, lastRestartReason: restarts ? 'worker crashed' : null }),
    };
    const { core: node, clock } = await core({ backend: hosted });
    const first = node.diagnostics(clock.now()).status.find((s) => s.name === 'actial: inference');
    expect(first).toMatchObject({
      level: DIAGNOSTIC_LEVEL.WARN,
      message: 'running on cpu: CUDA provider library not installed',
    });
    restarts = 2;
    const second = node.diagnostics(clock.now()).status.find((s) => s.name === 'actial: inference');
    expect(second?.message).toContain('model host restarted 2 times');
    expect(second?.values).toContainEqual({ key: 'backend_restarts', value: '2' });
    expect(second?.values).toContainEqual({
      key: 'model_files',
      value: 'onnx/decoder_model_merged_q4f16.onnx (q4f16)',
    });
    await node.close();
  });

  it('answers pending queries success=false on close, and refuses new ones', async () => {
    const { core: node, clock } = await core({ backend: heldUntilAborted(engine) });
    feed(node, clock, 3);
    const request = { question: 'Which? A: x B: y', cameras: ['left'], choices: ['A', 'B'], timeout_s: 600 };
    const running = node.query(request);
    const queued = node.query(request);
    await node.close();
    expect(await queued).toMatchObject({ success: false, error: 'the node is shutting down' });
    expect(await running).toMatchObject({ success: false, error: 'the node is shutting down' });
    expect(await node.query(request)).toMatchObject({ success: false, error: 'the node is closed' });
  });

  it('keeps serving queries while viewpoint jobs are queued (they take turns)', async () => {
    const outputs = new OutputLog();
    const clock = new ManualClock(START);
    const node = await SpatialNodeCore.create({
      config: nodeTestConfig(['left', 'right'], { viewpoint: { rate_hz: 30 }, queue: { size: 4 } }),
      backend: engine,
      clock,
      onOutput: outputs.push,
    });
    node.start();
    feed(node, clock, 20); // far more sets than the model can estimate: the queue keeps the latest 4
    const response = await node.query({
      question: 'Which? A: x B: y',
      cameras: ['left'],
      choices: ['A', 'B'],
    });
    expect(response.success).toBe(true);
    const stats = node.stats().inference;
    // The query ran after at most one viewpoint job (the one running when it came).
    expect(stats.completed.viewpoint).toBeLessThanOrEqual(1);
    await node.whenIdle();
    expect(node.stats().inference.dropped).toBeGreaterThan(0);
    expect(node.stats().inference.completed.viewpoint + node.stats().inference.dropped).toBe(
      node.stats().pairs[0]?.scheduled,
    );
    await node.close();
  });
});
