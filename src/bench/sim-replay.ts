/**
 * A simulated camera rig replayed through the node core, paced against the wall clock: the driver
 * of the `e2e` and `soak` benchmarks. Frames are rendered once by src/synth (deterministic) and
 * looped; every message gets its own copy of the pixels, as a ROS subscription would deliver it.
 */
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { parseConfig } from '../config/load.js';
import type { NodeConfig } from '../config/schema.js';
import type { Timings } from '../model/engine.js';
import {
  SpatialNodeCore,
  type InferenceBackend,
  type NodeOutput,
  type NodeStats,
  type SpatialQueryRequest,
} from '../node/index.js';
import { nsToTime, timeToNs } from '../pairing/time.js';
import { PairGenerator, PinholeCamera, Renderer } from '../synth/index.js';

/** Rendered frames of a rig of cameras, rgb8. */
export interface SimRig {
  readonly width: number;
  readonly height: number;
  /** Per camera, the frames it loops through. */
  readonly frames: readonly (readonly Uint8Array[])[];
}

/** Options of {@link renderRig}. */
export interface RenderRigOptions {
  readonly cameras: number;
  readonly width: number;
  readonly height: number;
  /** Distinct frames per camera; the replay loops through them. */
  readonly framesPerCamera: number;
  /** Seed of the synthetic scenes. */
  readonly seed: number;
}

/**
 * Renders synthetic views: cameras 2k and 2k + 1 see the two views of the same synth pairs, so each
 * such pair of cameras looks like a stereo rig; frame f of camera c shows pair f + k * framesPerCamera.
 */
export function renderRig(options: RenderRigOptions): SimRig {
  const { cameras, width, height, framesPerCamera, seed } = options;
  if (!Number.isInteger(cameras) || cameras < 1) throw new RangeError(`cameras must be >= 1, got ${cameras}`);
  if (!Number.isInteger(framesPerCamera) || framesPerCamera < 1) {
    throw new RangeError(`framesPerCamera must be >= 1, got ${framesPerCamera}`);
  }
  const generator = new PairGenerator({ seed });
  const renderer = new Renderer(
    new PinholeCamera({ width, height, fovDegrees: generator.camera.fovDegrees }),
  );
  const frames: Uint8Array[][] = [];
  for (let c = 0; c < cameras; c++) {
    const own: Uint8Array[] = [];
    for (let f = 0; f < framesPerCamera; f++) {
      const geometry = generator.geometry(f + Math.floor(c / 2) * framesPerCamera);
      own.push(
        renderer.render(geometry.scene, c % 2 === 0 ? geometry.worldFromCamera1 : geometry.worldFromCamera2),
      );
    }
    frames.push(own);
  }
  return { width, height, frames };
}

/** Name and image topic of camera `index` of a rig. */
export function rigCamera(index: number): { readonly name: string; readonly topic: string } {
  return { name: `cam${index}`, topic: `/cam${index}/image_raw` };
}

/**
 * The node configuration for a rig of `cameras` cameras: the defaults of config/default.yaml, the
 * rig's cameras (with optical frames), then `params` (nested keys, e.g. `{viewpoint: {rate_hz: 2}}`).
 */
export function rigConfig(
  cameras: number,
  modelDir: string,
  params: Record<string, unknown> = {},
): NodeConfig {
  const names = Array.from({ length: cameras }, (_, i) => rigCamera(i));
  const camera = Object.fromEntries(
    names.map(({ name, topic }) => [name, { topic, optical_frame: `${name}_optical_frame` }]),
  );
  const { model, ...rest } = params;
  return parseConfig({
    cameras: names.map((c) => c.name),
    camera,
    ...rest,
    model: { ...(model as Record<string, unknown> | undefined), path: modelDir },
  });
}

/** Time of the backend calls since the last answer. */
export interface ModelTimeSink {
  /** In the model, by the engine's timings (see {@link modelMsOf}), ms. */
  ms: number;
  /** Wall time of the calls as the node sees them (worker round trip included), ms. */
  backendMs: number;
  /** Time of the calls inside the engine (its `totalMs`: the model plus prompts, tokens, log-probabilities), ms. */
  engineMs: number;
}

/** Model time of backend calls, from the engine's own timings (vision encoder + decoder passes). */
export function modelMsOf(timings: Timings | undefined): number {
  return timings ? timings.visionMs + timings.prefillMs + timings.decodeMs : 0;
}

/**
 * Wraps a backend so that the model time of every call (see {@link modelMsOf}) adds to `sink.ms`.
 * The node core runs one job at a time, so the sum between two answers is the model time of the
 * second one.
 */
export function timedBackend(inner: InferenceBackend, sink: ModelTimeSink): InferenceBackend {
  const timed = async <T extends { readonly timings?: Timings }>(call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await call();
    sink.backendMs += performance.now() - started;
    sink.ms += modelMsOf(result.timings);
    sink.engineMs += result.timings?.totalMs ?? 0;
    return result;
  };
  return {
    scoreQuestions: (request) => timed(() => inner.scoreQuestions(request)),
    generate: (request) => timed(() => inner.generate(request)),
    executionProvider: inner.executionProvider,
    fallbackReason: inner.fallbackReason,
    ...(inner.modelFiles === undefined ? {} : { modelFiles: inner.modelFiles }),
    ...(inner.sharedImageMemory === undefined ? {} : { sharedImageMemory: inner.sharedImageMemory }),
    ...(inner.prepareImage ? { prepareImage: inner.prepareImage } : {}),
    ...(inner.stats ? { stats: () => inner.stats?.() ?? {} } : {}),
  };
}

/** One answer the node published (`~/viewpoint` or `~/answer`), or a query it answered. */
export interface SimAnswer {
  readonly topic: '~/viewpoint' | '~/answer' | 'query';
  /** Newest stamp of the frames it is about, ns. */
  readonly stampNs: bigint;
  /** Simulated time from that stamp to the answer, divided by the speed: wall milliseconds. */
  readonly latencyMs: number;
  /** Simulated time from that stamp to the answer, seconds. */
  readonly frameAgeS: number;
  /** Model time of the backend calls that made it (engine timings), ms. */
  readonly modelMs: number;
  /** Wall time of those calls (worker round trip and engine bookkeeping included), ms. */
  readonly backendMs: number;
  /** Engine time of those calls (model and engine bookkeeping), ms. */
  readonly engineMs: number;
}

/** The largest values seen by the sampler (bounded queues stay bounded). */
export interface SimMaxima {
  /** Viewpoint and standing-question jobs waiting for the model (`queue.size` at most). */
  queued: number;
  /** Messages waiting in a pair synchroniser (per pair). */
  syncBuffered: number;
  /** Frames held per camera for queries. */
  history: number;
  pendingQueries: number;
  /** Requests waiting for the engine worker. */
  workerQueued: number;
}

/** A memory sample of the process. */
export interface MemorySample {
  /** Simulated seconds since the start of the replay. */
  readonly simS: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/** Options of {@link runSimReplay}. */
export interface SimReplayOptions {
  readonly config: NodeConfig;
  readonly backend: InferenceBackend;
  /** Model time sink the backend fills (see {@link timedBackend}). */
  readonly modelTime: ModelTimeSink;
  readonly rig: SimRig;
  /** Frame rate of every camera (default 30). */
  readonly rateHz?: number;
  /** Simulated seconds to replay. */
  readonly durationS: number;
  /** Simulated seconds per wall second (default 1: real time). */
  readonly speed?: number;
  /** Simulated start time, ns (default 2026-01-01T00:00:00Z). */
  readonly startNs?: bigint;
  /** Sample the process every this many simulated seconds (default: never). */
  readonly sampleEveryS?: number;
  /** Called before each memory sample, e.g. a full garbage collection. */
  readonly beforeSample?: () => void;
  /** A query to send every `queryEveryS` simulated seconds (default: none). */
  readonly query?: { readonly request: SpatialQueryRequest; readonly everyS: number };
}

/** What {@link runSimReplay} measured. */
export interface SimReplayResult {
  readonly answers: readonly SimAnswer[];
  readonly framesFed: number;
  /** How late each tick's frames were handed to the node against their stamps (timer lateness), wall ms. */
  readonly feedLagMs: Float64Array;
  readonly maxima: SimMaxima;
  readonly memory: readonly MemorySample[];
  readonly wallS: number;
  /** Jobs that failed, timed out or were cancelled, and queries that failed. */
  readonly failures: number;
  readonly dropped: number;
  readonly lastError: string | null;
  /** The node's counters at the end (its latency windows hold the last 256 jobs). */
  readonly stats: NodeStats;
}

const DEFAULT_START_NS = 1_767_225_600_000_000_000n;

function newestStamp(output: NodeOutput): bigint | null {
  if (output.topic === '~/viewpoint') {
    const a = timeToNs(output.message.source_stamp);
    const b = timeToNs(output.message.target_stamp);
    return a > b ? a : b;
  }
  if (output.topic === '~/answer') return timeToNs(output.message.header.stamp);
  return null;
}

/**
 * Replays `rig` through a fresh {@link SpatialNodeCore}: every camera publishes a frame each
 * 1 / rateHz simulated seconds, handed to the node when the simulated clock (the wall clock times
 * `speed`) reaches its stamp. All cameras of a tick share its stamp (a hardware-triggered rig).
 * Each answer's latency is the simulated clock at publication minus the newest stamp of its
 * frames, so it counts pairing, queueing, decoding, the worker round trip and the model.
 */
export async function runSimReplay(options: SimReplayOptions): Promise<SimReplayResult> {
  const { config, rig, durationS, modelTime } = options;
  const rateHz = options.rateHz ?? 30;
  const speed = options.speed ?? 1;
  const startNs = options.startNs ?? DEFAULT_START_NS;
  if (!(speed > 0)) throw new RangeError(`speed must be > 0, got ${speed}`);
  if (rig.frames.length !== config.cameras.length) {
    throw new RangeError(`the rig has ${rig.frames.length} cameras, the config ${config.cameras.length}`);
  }
  const wallStart = performance.now();
  const simNow = (): bigint => startNs + BigInt(Math.round((performance.now() - wallStart) * speed * 1e6));
  const answers: SimAnswer[] = [];
  const record = (topic: SimAnswer['topic'], stamp: bigint): void => {
    const ageNs = Number(simNow() - stamp);
    answers.push({
      topic,
      stampNs: stamp,
      latencyMs: ageNs / 1e6 / speed,
      frameAgeS: ageNs / 1e9,
      modelMs: modelTime.ms,
      backendMs: modelTime.backendMs,
      engineMs: modelTime.engineMs,
    });
    modelTime.ms = 0;
    modelTime.backendMs = 0;
    modelTime.engineMs = 0;
  };
  const core = await SpatialNodeCore.create({
    config,
    backend: options.backend,
    clock: { now: simNow },
    onOutput: (output) => {
      const stamp = newestStamp(output);
      if (stamp !== null && output.topic !== '/tf') record(output.topic as SimAnswer['topic'], stamp);
    },
  });
  const maxima: SimMaxima = { queued: 0, syncBuffered: 0, history: 0, pendingQueries: 0, workerQueued: 0 };
  const memory: MemorySample[] = [];
  const sample = (simS: number, withMemory: boolean): void => {
    const stats = core.stats();
    const inference = stats.inference;
    maxima.queued = Math.max(maxima.queued, inference.queued);
    maxima.pendingQueries = Math.max(maxima.pendingQueries, inference.pendingQueries);
    const worker = inference.backend as { queued?: unknown } | null;
    if (typeof worker?.queued === 'number')
      maxima.workerQueued = Math.max(maxima.workerQueued, worker.queued);
    for (const pair of stats.pairs) maxima.syncBuffered = Math.max(maxima.syncBuffered, pair.sync.buffered);
    for (const camera of Object.values(stats.cameras))
      maxima.history = Math.max(maxima.history, camera.history);
    if (!withMemory) return;
    options.beforeSample?.();
    const m = process.memoryUsage();
    memory.push({
      simS,
      rss: m.rss,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
    });
  };

  const names = config.cameras;
  const topics = names.map((name) => config.camera[name]?.topic ?? '');
  const frameIds = names.map((name) => config.camera[name]?.optical_frame ?? '');
  const ticks = Math.floor(durationS * rateHz);
  const periodNs = 1e9 / rateHz;
  // Allocated up front, so that the driver's own bookkeeping does not show as heap growth in a soak.
  const feedLagMs = new Float64Array(ticks);
  const queries: Promise<void>[] = [];
  let queryFailures = 0;
  const queryEveryTicks = options.query ? Math.max(1, Math.round(options.query.everyS * rateHz)) : 0;
  const sampleEveryTicks = options.sampleEveryS ? Math.max(1, Math.round(options.sampleEveryS * rateHz)) : 0;
  let framesFed = 0;
  let stats: NodeStats;
  core.start();
  try {
    for (let tick = 0; tick < ticks; tick++) {
      const stamp = startNs + BigInt(Math.round(tick * periodNs));
      const aheadMs = Number(stamp - simNow()) / 1e6 / speed;
      if (aheadMs >= 1) await sleep(aheadMs);
      else await nextTurn();
      feedLagMs[tick] = Math.max(0, -Number(stamp - simNow()) / 1e6 / speed);
      const header = { stamp: nsToTime(stamp), frame_id: '' };
      for (const [c, topic] of topics.entries()) {
        const loop = rig.frames[c] as readonly Uint8Array[];
        const pixels = loop[tick % loop.length] as Uint8Array;
        core.handleMessage(topic, {
          header: { ...header, frame_id: frameIds[c] ?? '' },
          height: rig.height,
          width: rig.width,
          encoding: 'rgb8',
          is_bigendian: 0,
          step: rig.width * 3,
          data: pixels.slice(),
        });
        framesFed += 1;
      }
      core.tick();
      if (queryEveryTicks > 0 && tick > 0 && tick % queryEveryTicks === 0 && options.query) {
        queries.push(
          core.query(options.query.request).then((response) => {
            if (response.success) record('query', timeToNs(response.answer.header.stamp));
            else queryFailures += 1;
          }),
        );
      }
      sample(tick / rateHz, sampleEveryTicks > 0 && tick % sampleEveryTicks === 0);
    }
    await core.whenIdle();
    await Promise.all(queries);
    sample(ticks / rateHz, sampleEveryTicks > 0);
  } finally {
    stats = core.stats();
    await core.close();
  }
  const count = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
  const inference = stats.inference;
  return {
    answers,
    framesFed,
    feedLagMs,
    maxima,
    memory,
    wallS: (performance.now() - wallStart) / 1000,
    failures:
      count(inference.failed) + count(inference.timedOut) + count(inference.cancelled) + queryFailures,
    dropped: inference.dropped,
    lastError: inference.lastError,
    stats,
  };
}

/** Nearest-rank percentile (p in [0, 100]) of a non-empty list. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) throw new RangeError('percentile of an empty list');
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
