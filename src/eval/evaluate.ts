import sharp from 'sharp';
import type { McapBagWriter } from '../bag/mcap-writer.js';
import { BagTruncatedError, type BagReader, type BagTopic } from '../bag/reader.js';
import { TfBuffer } from '../bag/tf-buffer.js';
import type { NodeConfig } from '../config/schema.js';
import {
  decodeCompressedImage,
  decodeImage,
  type CompressedImageMessage,
  type ImageMessage,
} from '../image/index.js';
import {
  ManualClock,
  SpatialNodeCore,
  type InferenceBackend,
  type NodeLogger,
  type NodeOutput,
  type NodeStats,
} from '../node/index.js';
import { timeToNs } from '../pairing/time.js';
import type { DirectionLabel } from '../spatial/direction.js';
import type { LabelOptions } from '../spatial/labels.js';
import { VIEWPOINT_DIRECTION, type ViewpointEstimateMessage } from '../spatial/message.js';
import { pairScore, type PredictionLabels, type ScoredPair } from './metrics.js';
import { truthFromTf, type SkipReason, type TruthLabels } from './truth.js';

/** Topics and types of the evaluation's outputs in predictions.mcap. */
export const PREDICTION_TOPICS = {
  viewpoint: { topic: '/actial/viewpoint', type: 'actial_ros/msg/ViewpointEstimate' },
  answer: { topic: '/actial/answer', type: 'actial_ros/msg/SpatialAnswer' },
  truth: { topic: '/actial/ground_truth', type: 'actial_ros/msg/ViewpointEstimate' },
  tf: { topic: '/tf', type: 'tf2_msgs/msg/TFMessage' },
  diagnostics: { topic: '/diagnostics', type: 'diagnostic_msgs/msg/DiagnosticArray' },
} as const;

/** A bag that cannot be evaluated with a config (missing topics, no tf at all...). */
export class EvalError extends Error {
  override readonly name = 'EvalError';
  constructor(
    readonly code: 'missing_topic' | 'wrong_type' | 'no_tf',
    message: string,
  ) {
    super(message);
  }
}

/** One pair the node estimated and that was scored. */
export interface EvaluatedPair extends ScoredPair {
  readonly cameras: readonly [string, string];
  readonly stamps: readonly [bigint, bigint];
  readonly frames: readonly [string, string];
}

/** One pair the node estimated but that has no ground truth. */
export interface SkippedPair {
  readonly cameras: readonly [string, string];
  readonly stamps: readonly [bigint, bigint];
  readonly reason: SkipReason;
  readonly message: string;
}

/** An evaluated pair shown in the HTML report, with small JPEG thumbnails. */
export interface ExamplePair {
  readonly pair: EvaluatedPair;
  /** `data:image/jpeg;base64,...` of the source and target images. */
  readonly thumbnails: readonly [string, string];
}

/** Progress of {@link evaluateBag}. */
export interface EvalProgress {
  /** `tf`: reading /tf and /tf_static; `replay`: feeding the node. */
  readonly phase: 'tf' | 'replay';
  readonly messages: number;
  /** Messages of the phase's topics in the bag, when the bag says. */
  readonly totalMessages: number | undefined;
  readonly evaluated: number;
  readonly skipped: number;
}

/** Options of {@link evaluateBag}. */
export interface EvaluateOptions {
  /** The bag, opened (see `openBag`); the caller closes it. */
  readonly bag: BagReader;
  /** Validated node parameters: cameras, topics, optical frames, pairing, viewpoint options. */
  readonly config: NodeConfig;
  /** The model (an `Engine` or `EngineClient`); the caller disposes it. */
  readonly backend: InferenceBackend;
  /** The `model` field of the outputs. */
  readonly modelName: string;
  /** Dead zones of the ground-truth labels (default: object-centric). */
  readonly labels?: LabelOptions;
  /** tf frame fixed in the world, for pairs of frames at different stamps (default: the tree root). */
  readonly fixedFrame?: string;
  /** Stop after this many estimated pairs (scored or skipped). */
  readonly limit?: number;
  /** Receives every output of the node, the ground truth and diagnostics. */
  readonly predictions?: McapBagWriter;
  /** Pairs shown with thumbnails: up to half correct and half with a wrong answer (default 6). */
  readonly examples?: number;
  readonly onProgress?: (progress: EvalProgress) => void;
  readonly logger?: NodeLogger;
  /**
   * Stops the replay early (SIGINT/SIGTERM in `actial eval`): no further message is read, the job
   * running is cancelled, the outputs made so far are kept and scored, and the result says
   * `interrupted` (the abort reason). Resolves normally, it does not reject.
   */
  readonly signal?: AbortSignal;
}

/** Everything {@link evaluateBag} measured. */
export interface EvalResult {
  readonly pairs: readonly EvaluatedPair[];
  readonly skipped: readonly SkippedPair[];
  readonly examples: readonly ExamplePair[];
  /** The node's counters at the end of the replay. */
  readonly stats: NodeStats;
  /** Messages fed to the node. */
  readonly messages: number;
  /** Whether `limit` stopped the replay before the end of the bag. */
  readonly limited: boolean;
  /** The bag's BagTruncatedError message when it ended early; null otherwise. */
  readonly truncated: string | null;
  /** Stamps with nanosec >= 1e9 (carried into sec) in the messages replayed, each message once. */
  readonly normalizedStamps: number;
  /** Why the replay was stopped through `signal` (e.g. `SIGINT`); null when it was not. */
  readonly interrupted: string | null;
  readonly tf: {
    readonly frames: number;
    readonly samples: number;
    readonly rejected: number;
    /** Configured optical frames that no transform names (their pairs are skipped). */
    readonly missingFrames: readonly string[];
  };
  /** Wall time of the tf pass and of the replay, ms. */
  readonly tfMs: number;
  readonly replayMs: number;
  readonly executionProvider: string;
  readonly fallbackReason: string | null;
  /** The model's files and their dtypes, as the backend reports them (empty: not known). */
  readonly modelFiles: string;
}

const IMAGE_TYPES: Readonly<Record<'raw' | 'compressed', string>> = {
  raw: 'sensor_msgs/msg/Image',
  compressed: 'sensor_msgs/msg/CompressedImage',
};
const TF_TOPICS = ['/tf', '/tf_static'] as const;
const RECENT_FRAMES = 64;
const THUMBNAIL_WIDTH = 160;

const normaliseType = (type: string): string => type.replace(/^(\w+)\/(?!msg\/)/, '$1/msg/');

function labelOf(value: number): DirectionLabel {
  return value === VIEWPOINT_DIRECTION.LEFT ? 'left' : value === VIEWPOINT_DIRECTION.RIGHT ? 'right' : 'none';
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function predictionOf(message: ViewpointEstimateMessage): PredictionLabels {
  return {
    egoTranslation: labelOf(message.ego_translation),
    objectTranslation: labelOf(message.object_translation),
    yawRotation: labelOf(message.yaw_rotation),
    egoTranslationProbs: [...message.ego_translation_probs],
    objectTranslationProbs: [...message.object_translation_probs],
    yawRotationProbs: [...message.yaw_rotation_probs],
    yawDegrees: finiteOrNull(message.yaw_degrees),
    consistency: finiteOrNull(message.consistency),
    inconsistent: message.inconsistent,
  };
}

function truthMessage(
  estimate: ViewpointEstimateMessage,
  truth: TruthLabels,
  rotation: { x: number; y: number; z: number; w: number },
): ViewpointEstimateMessage {
  const oneHot = (label: DirectionLabel): number[] =>
    ['left', 'none', 'right'].map((l) => (l === label ? 1 : 0));
  const value = (label: DirectionLabel): -1 | 0 | 1 =>
    label === 'left'
      ? VIEWPOINT_DIRECTION.LEFT
      : label === 'right'
        ? VIEWPOINT_DIRECTION.RIGHT
        : VIEWPOINT_DIRECTION.NONE;
  return {
    ...estimate,
    ego_translation: value(truth.egoTranslation),
    ego_translation_probs: oneHot(truth.egoTranslation),
    object_translation: value(truth.objectTranslation),
    object_translation_probs: oneHot(truth.objectTranslation),
    yaw_rotation: value(truth.yawRotation),
    yaw_rotation_probs: oneHot(truth.yawRotation),
    yaw_degrees: truth.yawDegrees,
    consistency: Number.NaN,
    inconsistent: false,
    rotation,
    model: 'ground truth (tf)',
    inference_ms: 0,
  };
}

/** Checks that every camera's topic is in the bag with the type its transport needs. */
function checkTopics(config: NodeConfig, topics: readonly BagTopic[], path: string): void {
  const list = topics.map((t) => `${t.name} (${t.schemaName})`).join(', ') || 'none';
  for (const name of config.cameras) {
    const camera = config.camera[name];
    if (!camera) continue;
    const topic = topics.find((t) => t.name === camera.topic);
    if (!topic) {
      throw new EvalError(
        'missing_topic',
        `camera ${name}: topic ${camera.topic} is not in ${path}; its topics: ${list}`,
      );
    }
    const expected = IMAGE_TYPES[camera.transport];
    if (normaliseType(topic.schemaName) !== expected) {
      throw new EvalError(
        'wrong_type',
        `camera ${name}: topic ${camera.topic} is ${topic.schemaName}, but transport ${camera.transport} needs ${expected}`,
      );
    }
  }
  if (!topics.some((t) => (TF_TOPICS as readonly string[]).includes(t.name))) {
    throw new EvalError(
      'no_tf',
      `${path} has no /tf or /tf_static topic: there is no ground truth to score against; its topics: ${list}`,
    );
  }
}

async function thumbnail(message: unknown, transport: 'raw' | 'compressed'): Promise<string> {
  const rgb =
    transport === 'raw'
      ? decodeImage(message as ImageMessage)
      : await decodeCompressedImage(message as CompressedImageMessage);
  const jpeg = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
    .resize({ width: Math.min(THUMBNAIL_WIDTH, rgb.width) })
    .jpeg({ quality: 80 })
    .toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}

/** The text of an abort reason: a signal name, an error's message. */
function reasonText(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (typeof reason === 'string') return reason;
  if (reason instanceof Error) return reason.message;
  return 'aborted';
}

function countTotal(topics: readonly BagTopic[], names: readonly string[]): number | undefined {
  let total = 0;
  for (const name of names) {
    const topic = topics.find((t) => t.name === name);
    if (!topic) continue;
    if (topic.messageCount === undefined) return undefined;
    total += topic.messageCount;
  }
  return total;
}

/**
 * Replays a bag through the node core (the live node's pairing, engine and spatial layer) and
 * scores each viewpoint it publishes against ground truth from the bag's tf. Two passes: the
 * first reads /tf and /tf_static into a {@link TfBuffer} (truth needs transforms recorded after
 * an image too); the second feeds cameras, camera_info and tf to the core with a ManualClock at
 * each message's log time, and waits for the core to go idle after each message, so no pair is
 * dropped for speed: the scores measure the model, not the machine.
 */
export async function evaluateBag(options: EvaluateOptions): Promise<EvalResult> {
  const { bag, config } = options;
  const topics = await bag.topics();
  checkTopics(config, topics, bag.path);
  const progress = options.onProgress ?? (() => undefined);
  const examplesWanted = options.examples ?? 6;
  const limit = options.limit ?? Infinity;
  const signal = options.signal;
  let truncated: string | null = null;
  const aborted = new Promise<void>((resolve) => {
    if (!signal || signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });

  // Pass 1: the tf tree.
  const tfStarted = performance.now();
  const tf = new TfBuffer();
  let tfRejected = 0;
  let tfMessages = 0;
  const tfTopics = TF_TOPICS.filter((t) => topics.some((bt) => bt.name === t));
  const tfTotal = countTotal(topics, tfTopics);
  try {
    for await (const record of bag.messages({ topics: tfTopics })) {
      if (signal?.aborted) break;
      tfRejected += tf.addTfMessage(record.message, record.topic === '/tf_static').rejected.length;
      tfMessages += 1;
      if (tfMessages % 500 === 0) {
        progress({ phase: 'tf', messages: tfMessages, totalMessages: tfTotal, evaluated: 0, skipped: 0 });
      }
    }
  } catch (error) {
    if (!(error instanceof BagTruncatedError)) throw error;
    truncated = error.message;
  }
  progress({ phase: 'tf', messages: tfMessages, totalMessages: tfTotal, evaluated: 0, skipped: 0 });
  const tfMs = performance.now() - tfStarted;
  const missingFrames = config.cameras
    .map((name) => config.camera[name]?.optical_frame ?? '')
    .filter((frame) => frame !== '' && !tf.hasFrame(frame));

  // Pass 2: the replay. It reads the tf topics again, so the reader's count starts over here.
  const replayStarted = performance.now();
  const normalizedBeforeReplay = bag.normalizedStamps;
  const clock = new ManualClock();
  const outputs: { output: NodeOutput; at: bigint }[] = [];
  const core = await SpatialNodeCore.create({
    config,
    backend: options.backend,
    clock,
    modelName: options.modelName,
    onOutput: (output) => outputs.push({ output, at: clock.now() }),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const cameraByTopic = new Map<string, string[]>();
  for (const name of config.cameras) {
    const topic = config.camera[name]?.topic ?? '';
    cameraByTopic.set(topic, [...(cameraByTopic.get(topic) ?? []), name]);
  }
  const infoTopics = config.cameras
    .map((name) => config.camera[name]?.camera_info_topic ?? '')
    .filter((t) => t !== '' && topics.some((bt) => bt.name === t));
  const replayTopics = [...new Set([...cameraByTopic.keys(), ...infoTopics, ...tfTopics])];
  const replayTotal = countTotal(topics, replayTopics);
  const recent = new Map<string, Map<bigint, unknown>>();
  const headerFrame = new Map<string, string>();
  const pairs: EvaluatedPair[] = [];
  const skipped: SkippedPair[] = [];
  const examples: ExamplePair[] = [];
  let goodExamples = 0;
  let badExamples = 0;
  let messages = 0;
  let limited = false;
  let lastProgress = 0;

  const frameOf = (camera: string): string =>
    config.camera[camera]?.optical_frame || (headerFrame.get(camera) ?? '');

  const handleViewpoint = async (message: ViewpointEstimateMessage, at: bigint): Promise<void> => {
    const cameras = [message.source_camera, message.target_camera] as const;
    const stamps = [timeToNs(message.source_stamp), timeToNs(message.target_stamp)] as const;
    const frames = [message.header.frame_id || frameOf(cameras[0]), frameOf(cameras[1])] as const;
    const truth = truthFromTf(tf, {
      sourceFrame: frames[0],
      targetFrame: frames[1],
      sourceStampNs: stamps[0],
      targetStampNs: stamps[1],
      ...(options.fixedFrame ? { fixedFrame: options.fixedFrame } : {}),
      ...(options.labels ? { labels: options.labels } : {}),
    });
    if (!truth.ok) {
      skipped.push({ cameras, stamps, reason: truth.reason, message: truth.message });
      return;
    }
    const pair: EvaluatedPair = {
      cameras,
      stamps,
      frames,
      truth: truth.labels,
      prediction: predictionOf(message),
      inferenceMs: message.inference_ms,
      stampNs: stamps[1],
    };
    pairs.push(pair);
    if (options.predictions) {
      const { rotation } = truth.sourceFromTarget;
      await options.predictions.write(
        PREDICTION_TOPICS.truth.topic,
        PREDICTION_TOPICS.truth.type,
        truthMessage(message, truth.labels, { x: rotation.x, y: rotation.y, z: rotation.z, w: rotation.w }),
        { logTimeNs: at },
      );
    }
    const correct = pairScore(pair) === 1;
    const half = Math.ceil(examplesWanted / 2);
    if (correct ? goodExamples >= half : badExamples >= examplesWanted - half) return;
    const images = cameras.map((camera, i) => recent.get(camera)?.get(stamps[i] as bigint));
    if (images.some((image) => image === undefined)) return;
    try {
      const thumbnails = await Promise.all(
        images.map((image, i) => thumbnail(image, config.camera[cameras[i] as string]?.transport ?? 'raw')),
      );
      examples.push({ pair, thumbnails: [thumbnails[0] as string, thumbnails[1] as string] });
      if (correct) goodExamples += 1;
      else badExamples += 1;
    } catch (error) {
      options.logger?.warn(`no thumbnail for the pair at ${stamps[1]}: ${(error as Error).message}`);
    }
  };

  const flush = async (): Promise<void> => {
    for (const { output, at } of outputs.splice(0)) {
      if (output.topic === '~/viewpoint') await handleViewpoint(output.message, at);
      const writer = options.predictions;
      if (!writer) continue;
      const target =
        output.topic === '~/viewpoint'
          ? PREDICTION_TOPICS.viewpoint
          : output.topic === '~/answer'
            ? PREDICTION_TOPICS.answer
            : output.topic === '/tf'
              ? PREDICTION_TOPICS.tf
              : PREDICTION_TOPICS.diagnostics;
      await writer.write(target.topic, target.type, output.message, { logTimeNs: at });
    }
  };

  core.start();
  try {
    for await (const record of signal?.aborted ? [] : bag.messages({ topics: replayTopics })) {
      messages += 1;
      clock.set(record.logTimeNs);
      const cameras = cameraByTopic.get(record.topic);
      if (cameras) {
        const header = (record.message as { header?: { stamp?: unknown; frame_id?: unknown } }).header;
        const stamp = header?.stamp as { sec: number; nanosec: number } | undefined;
        for (const camera of cameras) {
          if (typeof header?.frame_id === 'string' && header.frame_id)
            headerFrame.set(camera, header.frame_id);
          if (stamp === undefined || examples.length >= examplesWanted) continue;
          let frames = recent.get(camera);
          if (!frames) recent.set(camera, (frames = new Map()));
          try {
            frames.set(timeToNs(stamp), record.message);
          } catch {
            continue; // a bad stamp: the core counts it
          }
          if (frames.size > RECENT_FRAMES) frames.delete(frames.keys().next().value as bigint);
        }
      }
      core.handleMessage(record.topic, record.message, record.logTimeNs);
      core.tick(record.logTimeNs);
      // An interruption does not wait for the job running: it is cancelled below.
      await (signal ? Promise.race([core.whenIdle(), aborted]) : core.whenIdle());
      if (signal?.aborted) break;
      await flush();
      const now = performance.now();
      if (now - lastProgress > 200) {
        lastProgress = now;
        progress({
          phase: 'replay',
          messages,
          totalMessages: replayTotal,
          evaluated: pairs.length,
          skipped: skipped.length,
        });
      }
      if (pairs.length + skipped.length >= limit) {
        limited = true;
        break;
      }
    }
  } catch (error) {
    if (!(error instanceof BagTruncatedError)) {
      await core.close();
      throw error;
    }
    truncated ??= error.message;
  }
  const interrupted = signal?.aborted ? reasonText(signal) : null;
  // Interrupted: cancel the job running (the engine stops between two passes), keep what is done.
  if (interrupted !== null) await core.close();
  await core.whenIdle();
  await flush();
  const stats = core.stats();
  if (options.predictions) {
    // The final diagnostics, stamped at the last message.
    await options.predictions.write(
      PREDICTION_TOPICS.diagnostics.topic,
      PREDICTION_TOPICS.diagnostics.type,
      core.diagnostics(clock.now()),
      { logTimeNs: clock.now() },
    );
  }
  await core.close();
  progress({
    phase: 'replay',
    messages,
    totalMessages: replayTotal,
    evaluated: pairs.length,
    skipped: skipped.length,
  });
  return {
    pairs,
    skipped,
    examples,
    stats,
    messages,
    limited,
    truncated,
    normalizedStamps: bag.normalizedStamps - normalizedBeforeReplay,
    interrupted,
    tf: { frames: tf.frames.length, samples: tf.sampleCount, rejected: tfRejected, missingFrames },
    tfMs,
    replayMs: performance.now() - replayStarted,
    executionProvider: stats.inference.executionProvider,
    fallbackReason: stats.inference.fallbackReason,
    modelFiles: stats.inference.modelFiles,
  };
}
