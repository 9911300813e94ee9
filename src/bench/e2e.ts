import { defaultCacheDir, resolveEvalModel, type ResolvedModel } from '../eval/index.js';
import { createWorkerBackend } from '../ros/backend.js';
import type { BenchSuite, Figure } from './figure.js';
import {
  percentile,
  renderRig,
  rigConfig,
  runSimReplay,
  timedBackend,
  type SimReplayResult,
} from './sim-replay.js';

/** Frame size of the simulated cameras (a common robot camera; resized to the model's 448^2 budget). */
export const CAMERA_WIDTH = 640;
export const CAMERA_HEIGHT = 480;
const CAMERAS = 2;
/**
 * Viewpoint estimates per second of the paced run: half the node default (1 Hz), so that even on a
 * loaded machine (a viewpoint job takes 0.2 to 0.8 s on the 2-core dev machine) no job waits for
 * the previous one and the latency is the pipeline's, not the queue's.
 */
const PACED_RATE_HZ = 0.5;

/**
 * The model the e2e and soak suites run: the bundled model, or (in a checkout without it) the
 * deterministic tiny random model, exactly as `actial eval` falls back. Says which on stderr.
 */
export async function benchModel(): Promise<ResolvedModel> {
  const model = await resolveEvalModel({ configPath: '', cacheDir: defaultCacheDir() });
  process.stderr.write(`bench: model ${model.name} (${model.source}, ${model.dir})\n`);
  if (model.note) process.stderr.write(`bench: ${model.note}\n`);
  return model;
}

function failIfBroken(run: SimReplayResult, what: string): void {
  if (run.failures > 0) throw new Error(`${what}: ${run.failures} jobs failed; last error: ${run.lastError}`);
  if (run.answers.length === 0) throw new Error(`${what}: the node published no answer`);
}

/**
 * Two cameras at 30 Hz (640x480 rgb8, synthetic views, hardware-synchronised stamps) replayed in
 * real time through the node core with the engine in its worker thread (the ROS node's backend)
 * and the bundled model; every answer is a viewpoint estimate (3 option orders, both directions:
 * two scoring requests of 9 questions each).
 *
 * - paced: `viewpoint.rate_hz` 0.5, which the model keeps up with, so no job waits for another:
 *   latency from the newest frame stamp to the published estimate, and the share of it spent
 *   outside the model (pairing, decode and preprocess, prompts, log-probabilities, the worker round
 *   trips), the model's time taken from the engine's own timings (vision encoder + decoder passes).
 * - saturated: every synchronised set is due (`rate_hz` 30), `queue.size` 1 with `keep_latest`, so
 *   the node always estimates the newest pair: answers per second.
 */
export const e2eSuite: BenchSuite = {
  name: 'e2e',
  async run({ quick, prepareThreads }) {
    const model = await benchModel();
    const rig = renderRig({
      cameras: CAMERAS,
      width: CAMERA_WIDTH,
      height: CAMERA_HEIGHT,
      framesPerCamera: quick ? 2 : 4,
      seed: 7,
    });
    const modelTime = { ms: 0, backendMs: 0, engineMs: 0 };
    const image = prepareThreads === undefined ? {} : { image: { prepare_threads: prepareThreads } };
    const paced = rigConfig(CAMERAS, model.dir, { viewpoint: { rate_hz: PACED_RATE_HZ }, ...image });
    const saturated = rigConfig(CAMERAS, model.dir, {
      viewpoint: { rate_hz: 30 },
      queue: { size: 1, policy: 'keep_latest' },
      ...image,
    });
    const worker = await createWorkerBackend(paced);
    const backend = timedBackend(worker, modelTime);
    try {
      // Warm-up: the first requests pay for onnxruntime's allocations and the JIT.
      await runSimReplay({ config: paced, backend, modelTime, rig, durationS: quick ? 1 : 2 });
      const pacedRun = await runSimReplay({
        config: paced,
        backend,
        modelTime,
        rig,
        durationS: quick ? 4 : 40,
      });
      failIfBroken(pacedRun, 'e2e paced replay');
      const saturatedRun = await runSimReplay({
        config: saturated,
        backend,
        modelTime,
        rig,
        durationS: quick ? 3 : 15,
      });
      failIfBroken(saturatedRun, 'e2e saturated replay');

      const answers = pacedRun.answers;
      const latency = answers.map((a) => a.latencyMs);
      const totalLatency = latency.reduce((a, b) => a + b, 0);
      const totalModel = answers.reduce((a, b) => a + b.modelMs, 0);
      const p50 = (values: readonly number[]): number => percentile(values, 50);
      const saturatedLatency = saturatedRun.answers.map((a) => a.latencyMs);
      const figure = (
        name: string,
        value: number,
        unit: string,
        better: Figure['better'],
        target: number | null,
      ) => ({ name: `e2e.${name}`, value, unit, better, target }) satisfies Figure;
      return [
        figure(
          'answers_per_s',
          saturatedRun.answers.length / saturatedRun.wallS,
          'answers/s',
          'higher',
          null,
        ),
        figure('saturated_latency_p50.ms', percentile(saturatedLatency, 50), 'ms', 'lower', null),
        figure('saturated_latency_p99.ms', percentile(saturatedLatency, 99), 'ms', 'lower', null),
        figure('latency_p50.ms', percentile(latency, 50), 'ms', 'lower', null),
        figure('latency_p90.ms', percentile(latency, 90), 'ms', 'lower', null),
        figure('latency_p99.ms', percentile(latency, 99), 'ms', 'lower', null),
        figure('model_p50.ms', p50(answers.map((a) => a.modelMs)), 'ms', 'lower', null),
        figure('outside_model_share', 1 - totalModel / totalLatency, 'share', 'lower', 0.1),
        // Where the time outside the model goes, per answer.
        figure('outside_model_p50.ms', p50(answers.map((a) => a.latencyMs - a.modelMs)), 'ms', 'lower', null),
        figure('prepare_p50.ms', pacedRun.stats.inference.prepareMs?.p50 ?? NaN, 'ms', 'lower', null),
        figure(
          'engine_outside_model_p50.ms',
          p50(answers.map((a) => a.engineMs - a.modelMs)),
          'ms',
          'lower',
          null,
        ),
        figure(
          'worker_round_trips_p50.ms',
          p50(answers.map((a) => a.backendMs - a.engineMs)),
          'ms',
          'lower',
          null,
        ),
        figure('feed_lag_p99.ms', percentile(pacedRun.feedLagMs, 99), 'ms', 'lower', null),
        // Which setting these figures were measured with (`--prepare-threads`).
        figure('prepare_threads', paced.image.prepare_threads, 'threads', 'lower', null),
      ];
    } finally {
      await worker.close?.();
    }
  },
};
