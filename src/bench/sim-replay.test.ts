import type { InferenceBackend } from '../node/index.js';
import { growth } from './soak.js';
import {
  modelMsOf,
  percentile,
  renderRig,
  rigCamera,
  rigConfig,
  runSimReplay,
  timedBackend,
  type MemorySample,
} from './sim-replay.js';

const timings = { visionMs: 1, prefillMs: 2, decodeMs: 0.5, totalMs: 4, promptTokens: 10, newTokens: 0 };

/** A backend that answers at once: uniform probabilities, fixed engine timings. */
const instant: InferenceBackend = {
  scoreQuestions: async (request) => ({
    results: request.questions.map((q) => ({
      probabilities: q.choices.map(() => 1 / q.choices.length),
      choiceIndex: 0,
    })),
    timings,
  }),
  generate: async () => ({ text: '<answer>A</answer>', finishReason: 'stop', timings }),
  executionProvider: 'cpu',
};

describe('simulated rig replay (e2e and soak driver)', () => {
  it('renders deterministic frames, cameras 2k and 2k+1 as the two views of the same pairs', () => {
    const a = renderRig({ cameras: 3, width: 56, height: 42, framesPerCamera: 2, seed: 3 });
    const b = renderRig({ cameras: 3, width: 56, height: 42, framesPerCamera: 2, seed: 3 });
    expect(a.frames).toHaveLength(3);
    expect(a.frames[0]).toHaveLength(2);
    expect(a.frames[0]?.[0]).toHaveLength(56 * 42 * 3);
    expect(a.frames).toEqual(b.frames);
    expect(a.frames[0]?.[0]).not.toEqual(a.frames[1]?.[0]);
    expect(() => renderRig({ cameras: 0, width: 56, height: 42, framesPerCamera: 1, seed: 1 })).toThrow(
      /cameras must be >= 1, got 0/,
    );
  });

  it('configures one camera per rig camera over the defaults, with the given overrides', () => {
    const config = rigConfig(2, '', { viewpoint: { rate_hz: 3 }, model: { max_pixels: 50176 } });
    expect(config.cameras).toEqual(['cam0', 'cam1']);
    expect(config.camera.cam1?.topic).toBe(rigCamera(1).topic);
    expect(config.camera.cam1?.optical_frame).toBe('cam1_optical_frame');
    expect(config.viewpoint.rate_hz).toBe(3);
    expect(config.model.max_pixels).toBe(50176);
    expect(config.queue.size).toBe(4);
  });

  it('adds the model time and wall time of each backend call to the sink', async () => {
    const sink = { ms: 0, backendMs: 0, engineMs: 0 };
    const backend = timedBackend(instant, sink);
    await backend.scoreQuestions({ images: [], questions: [{ question: 'Q', choices: ['A', 'B'] }] });
    await backend.generate({ images: [], question: 'Q' });
    expect(modelMsOf(timings)).toBe(3.5);
    expect(sink.ms).toBe(7);
    expect(sink.engineMs).toBe(8);
    expect(sink.backendMs).toBeGreaterThanOrEqual(0);
    expect(modelMsOf(undefined)).toBe(0);
  });

  it('replays a rig through the node core: answers with their frame stamps and model time, bounded queues', async () => {
    const rig = renderRig({ cameras: 2, width: 56, height: 56, framesPerCamera: 2, seed: 5 });
    const config = rigConfig(2, '', { viewpoint: { rate_hz: 2 }, model: { max_pixels: 56 * 56 } });
    const modelTime = { ms: 0, backendMs: 0, engineMs: 0 };
    const buffers = new Set<string>();
    // A backend in another thread, as the ROS node's: the node prepares frames in shared memory for it.
    const threaded: InferenceBackend = {
      ...instant,
      sharedImageMemory: true,
      scoreQuestions: (request) => {
        for (const { image } of request.images) buffers.add(image.pixelValues.buffer.constructor.name);
        return instant.scoreQuestions(request);
      },
    };
    const run = await runSimReplay({
      config,
      backend: timedBackend(threaded, modelTime),
      modelTime,
      rig,
      durationS: 2,
      speed: 20,
      sampleEveryS: 0.5,
      query: {
        everyS: 1,
        request: { question: 'What is there?', cameras: ['cam0', 'cam1'], choices: [] },
      },
    });
    expect(run.failures).toBe(0);
    expect(run.framesFed).toBe(2 * 60);
    const viewpoints = run.answers.filter((a) => a.topic === '~/viewpoint');
    // 2 s of stamps at 2 Hz: sets at 0, 0.5, 1 and 1.5 s.
    expect(viewpoints).toHaveLength(4);
    // Each estimate is two scoring calls (both directions) of the instant backend.
    for (const answer of viewpoints) {
      expect(answer.modelMs).toBe(7);
      expect(answer.frameAgeS).toBeGreaterThanOrEqual(0);
    }
    expect(run.answers.filter((a) => a.topic === 'query')).toHaveLength(1);
    expect(run.maxima.queued).toBeLessThanOrEqual(config.queue.size);
    expect(run.maxima.history).toBeLessThanOrEqual(32);
    expect(run.memory.length).toBeGreaterThanOrEqual(4);
    expect(run.stats.inference.completed.viewpoint).toBe(4);
    expect([...buffers]).toEqual(['SharedArrayBuffer']);
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 100)).toBe(5);
    expect(percentile([7], 99)).toBe(7);
    expect(() => percentile([], 50)).toThrow(RangeError);
  });

  it('measures memory growth from just after warm-up to the end', () => {
    const samples: MemorySample[] = Array.from({ length: 40 }, (_, i) => ({
      simS: i,
      rss: i < 10 ? 50 + i : 100 + (i >= 36 ? 10 : 0),
      heapUsed: 10,
      external: 0,
      arrayBuffers: 0,
    }));
    expect(growth(samples, 'rss', 10)).toBeCloseTo(0.1, 10);
    expect(growth(samples, 'heapUsed', 10)).toBe(0);
    expect(() => growth(samples, 'rss', 38)).toThrow(/2 memory samples after warm-up, 4 needed/);
  });
});
