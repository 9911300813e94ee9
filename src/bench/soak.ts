import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createWorkerBackend } from '../ros/backend.js';
import { benchModel } from './e2e.js';
import type { BenchSuite, Figure } from './figure.js';
import {
  percentile,
  renderRig,
  rigCamera,
  rigConfig,
  runSimReplay,
  timedBackend,
  type MemorySample,
} from './sim-replay.js';

const CAMERAS = 4;
/** Small frames: 4 cameras at 30 Hz and several times real time are 500 copies a second. */
const WIDTH = 320;
const HEIGHT = 240;
/** Simulated seconds per wall second. */
const SPEED = 4;
const QUEUE_SIZE = 4;
const SYNC_QUEUE_SIZE = 10;
const HISTORY_FRAMES = 32;
const WORKER_QUEUE = 16;

/** A full garbage collection (`--expose-gc` turned on at run time), so memory samples hold live data only. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  return typeof gc === 'function' ? gc : () => undefined;
}

function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Growth of `field` from the samples just after warm-up to the last ones, as a fraction of the former. */
export function growth(samples: readonly MemorySample[], field: 'rss' | 'heapUsed', warmupS: number): number {
  const after = samples.filter((s) => s.simS >= warmupS);
  if (after.length < 4) throw new RangeError(`${after.length} memory samples after warm-up, 4 needed`);
  const window = Math.max(2, Math.round(after.length / 10));
  const first = median(after.slice(0, window).map((s) => s[field]));
  const last = median(after.slice(-window).map((s) => s[field]));
  return (last - first) / first;
}

/**
 * Four cameras at 30 Hz (320x240 rgb8, synthetic) for 10 simulated minutes through the node core
 * with the engine in its worker thread and the bundled model, at 4x real time (2.5 wall minutes):
 * the model really runs, at rates throttled to what it sustains at that speed. Viewpoints of the
 * ring of camera pairs at 0.1 Hz each, a standing multiple-choice question at 0.05 Hz, and a query
 * (free-form generation, 8 tokens) every 20 simulated seconds. Process memory is sampled every 5
 * simulated seconds after a full garbage collection; queue depths every frame.
 * `--quick`: 30 simulated seconds at 0.4 Hz per pair.
 */
export const soakSuite: BenchSuite = {
  name: 'soak',
  async run({ quick }) {
    const gc = collector();
    const model = await benchModel();
    const rig = renderRig({ cameras: CAMERAS, width: WIDTH, height: HEIGHT, framesPerCamera: 2, seed: 11 });
    const durationS = quick ? 30 : 600;
    const warmupS = quick ? 10 : 60;
    const cams = Array.from({ length: CAMERAS }, (_, i) => rigCamera(i).name);
    const config = rigConfig(CAMERAS, model.dir, {
      pairing: { pair_mode: 'ring', queue_size: SYNC_QUEUE_SIZE },
      queue: { size: QUEUE_SIZE, policy: 'keep_latest' },
      viewpoint: { rate_hz: quick ? 0.4 : 0.1 },
      questions: ['facing'],
      question: {
        facing: {
          text: 'Do the two cameras face the same way? A. yes B. no',
          cameras: [cams[0], cams[2]],
          choices: ['A', 'B'],
          rate_hz: quick ? 0.2 : 0.05,
        },
      },
    });
    const modelTime = { ms: 0, backendMs: 0, engineMs: 0 };
    const worker = await createWorkerBackend(config);
    try {
      const run = await runSimReplay({
        config,
        backend: timedBackend(worker, modelTime),
        modelTime,
        rig,
        durationS,
        speed: SPEED,
        sampleEveryS: quick ? 1 : 5,
        beforeSample: gc,
        query: {
          everyS: quick ? 5 : 20,
          request: {
            question: 'What changed between the two views?',
            cameras: [cams[1] as string, cams[3] as string],
            choices: [],
            stamp: { sec: 0, nanosec: 0 },
            max_new_tokens: 8,
            timeout_s: 0,
          },
        },
      });
      if (run.failures > 0)
        throw new Error(`soak: ${run.failures} jobs failed; last error: ${run.lastError}`);
      const ages = run.answers.map((a) => a.frameAgeS);
      process.stderr.write(
        `bench: soak: ${durationS} simulated s in ${run.wallS.toFixed(1)} s, ${run.framesFed} frames, ` +
          `${run.answers.length} answers, ${run.dropped} jobs dropped, ${run.memory.length} memory samples\n`,
      );
      const figure = (
        name: string,
        value: number,
        unit: string,
        better: Figure['better'],
        target: number | null,
      ) => ({ name: `soak.${name}`, value, unit, better, target }) satisfies Figure;
      const last = run.memory[run.memory.length - 1];
      return [
        figure('rss_growth', growth(run.memory, 'rss', warmupS), 'fraction', 'lower', 0.05),
        figure('heap_growth', growth(run.memory, 'heapUsed', warmupS), 'fraction', 'lower', 0.05),
        figure('rss_end.mb', (last?.rss ?? NaN) / 2 ** 20, 'MiB', 'lower', null),
        figure('heap_end.mb', (last?.heapUsed ?? NaN) / 2 ** 20, 'MiB', 'lower', null),
        figure('answers', run.answers.length, 'answers', 'higher', null),
        figure('frame_age_p50.s', percentile(ages, 50), 's', 'lower', null),
        figure('frame_age_p90.s', percentile(ages, 90), 's', 'lower', null),
        figure('frame_age_p99.s', percentile(ages, 99), 's', 'lower', null),
        figure('frame_age_max.s', percentile(ages, 100), 's', 'lower', null),
        figure('queue_max.jobs', run.maxima.queued, 'jobs', 'lower', QUEUE_SIZE),
        figure('sync_buffer_max.messages', run.maxima.syncBuffered, 'messages', 'lower', 2 * SYNC_QUEUE_SIZE),
        figure('history_max.frames', run.maxima.history, 'frames', 'lower', HISTORY_FRAMES),
        figure('pending_queries_max', run.maxima.pendingQueries, 'queries', 'lower', 8),
        figure('worker_queue_max.requests', run.maxima.workerQueued, 'requests', 'lower', WORKER_QUEUE),
        figure('dropped.jobs', run.dropped, 'jobs', 'lower', null),
      ];
    } finally {
      await worker.close?.();
    }
  },
};
