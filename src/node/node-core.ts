import type { NodeConfig, CameraConfig } from '../config/schema.js';
import type { ResizeMethod } from '../image/index.js';
import type { EngineImage } from '../model/engine.js';
import {
  BoundedQueue,
  createSynchronizer,
  formatNs,
  nsToTime,
  secondsToNs,
  selectCameraPairs,
  type SyncSet,
  type SynchronizerCallbacks,
  type SyncWarning,
  type Synchronizer,
} from '../pairing/index.js';
import {
  defaultOptionOrders,
  engineOptionScorer,
  estimateViewpoint,
  readSpatialAnswer,
  resolveSystemPrompt,
  toViewpointEstimateMessage,
  type OptionScorer,
  type PromptOptions,
} from '../spatial/index.js';
import type { BackendStats, InferenceBackend } from './backend.js';
import { systemClock, type Clock } from './clock.js';
import { buildDiagnostics } from './diagnostics.js';
import { CameraFrame, FrameHistory, matchAt, matchLatest, type FramePreparation } from './frames.js';
import {
  checkCameraInfo,
  checkImageMessage,
  checkTfMessage,
  NodeInputError,
  type InputRejectReason,
} from './input.js';
import { planConfigUpdate, type ConfigUpdateResult } from './live-config.js';
import { checkQueryRequest, type QuestionSpec } from './query-request.js';
import {
  emptySpatialAnswer,
  type AskFeedback,
  type DiagnosticArrayMessage,
  type NodeOutput,
  type SpatialAnswerMessage,
  type SpatialQueryRequest,
  type SpatialQueryResponse,
} from './messages.js';
import { SampleWindow, type Percentiles } from './percentiles.js';
import type { CameraStats, JobKind, NodeState, NodeStats, QuestionStats } from './stats.js';
import { TfFrameGuard } from './tf.js';

/** Where the core reports what it does; the ROS adapter passes the node's logger. */
export interface NodeLogger {
  debug?(message: string): void;
  info?(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const silentLogger: NodeLogger = { warn: () => undefined, error: () => undefined };

/** Options of {@link SpatialNodeCore.create}. */
export interface SpatialNodeCoreOptions {
  /** Validated parameters (`parseConfig`). */
  readonly config: NodeConfig;
  /** The model; the caller owns it (the core never disposes it). */
  readonly backend: InferenceBackend;
  /** Receives every message to publish, synchronously. A throw is counted and logged, never propagated. */
  readonly onOutput?: (output: NodeOutput) => void;
  /** Time in nanoseconds for rates, staleness and queue ages. Default: the wall clock. */
  readonly clock?: Clock;
  readonly logger?: NodeLogger;
  /** Node name in diagnostic status names (`<node>: <task>`). Default `actial`. */
  readonly nodeName?: string;
  /** The `model` field of outputs. Default: the last segment of `model.path`, or `bundled`. */
  readonly modelName?: string;
  /** Queries accepted and not yet answered, at most; further ones are refused at once. Default 8. */
  readonly maxPendingQueries?: number;
  /** Frames kept per camera for queries (latest and by stamp). Default 32. */
  readonly historySize?: number;
  /** Time span kept per camera, seconds. Default 2. */
  readonly historyDurationS?: number;
  /** How far from a query's stamp a frame may lie, seconds. Default 0.1. */
  readonly stampToleranceS?: number;
  /** A stamp this much older than the previous one of its camera is a time jump, seconds. Default 1. */
  readonly timeJumpThresholdS?: number;
  /** Resampling of model input (see image/preprocess). Default `pillow` (as the model was trained). */
  readonly resize?: ResizeMethod;
  /** Text a scored choice follows. Default `<answer>` for prompt.answer_format `actial`, '' for `plain`. */
  readonly answerPrefix?: string;
}

/** What became of an input message. */
export type MessageOutcome =
  | { readonly accepted: true }
  | { readonly accepted: false; readonly reason: InputRejectReason; readonly message: string };

/** Options of {@link SpatialNodeCore.query}. */
export interface QueryOptions {
  /** Cancels the query, queued or running (the answer is success=false, `cancelled`). */
  readonly signal?: AbortSignal;
  /** Receives the generated text so far after each token (free-form questions only). */
  readonly onFeedback?: (feedback: AskFeedback) => void;
}

/** A lifecycle call the core's state does not allow (e.g. `start()` after `close()`). */
export class NodeStateError extends Error {
  override readonly name = 'NodeStateError';
  constructor(
    readonly state: NodeState,
    message: string,
  ) {
    super(message);
  }
}

/** Abort reasons: why a job stopped. */
class JobTimeoutError extends Error {
  override readonly name = 'JobTimeoutError';
  constructor(readonly seconds: number) {
    // timeout_s is a float32 in the message: 0.05 arrives as 0.0500000007.
    super(`timed out after ${Number(seconds.toPrecision(6))} s`);
  }
}
class JobCancelledError extends Error {
  override readonly name = 'JobCancelledError';
}

/** At most one event per `period` of stamps; 0 Hz = never. */
class StampRate {
  #period: bigint | null;
  #last: bigint | undefined;

  constructor(
    rateHz: number,
    readonly jumpNs: bigint,
  ) {
    this.#period = StampRate.#periodOf(rateHz);
  }

  static #periodOf(rateHz: number): bigint | null {
    return rateHz > 0 ? BigInt(Math.round(1e9 / rateHz)) : null;
  }

  setRate(rateHz: number): void {
    this.#period = StampRate.#periodOf(rateHz);
  }

  due(stamp: bigint): boolean {
    if (this.#period === null) return false;
    const last = this.#last;
    return last === undefined || stamp - last >= this.#period || last - stamp > this.jumpNs;
  }

  commit(stamp: bigint): void {
    this.#last = stamp;
  }

  reset(): void {
    this.#last = undefined;
  }
}

interface CameraState {
  readonly name: string;
  readonly config: CameraConfig;
  readonly history: FrameHistory;
  /** Pair synchronisers fed by this camera, and the camera's topic index in each. */
  readonly feeds: { pair: PairState; topic: number }[];
  frameId: string;
  received: number;
  rejected: Partial<Record<InputRejectReason, number>>;
  rejectedTotal: number;
  rejectedAtDecode: number;
  timeJumps: number;
  cameraInfos: number;
  lastStamp: bigint | undefined;
  lastReceivedAt: bigint | undefined;
  /** Reasons already logged (each is logged once, then only counted). */
  readonly logged: Set<InputRejectReason>;
}

interface PairState {
  readonly source: string;
  readonly target: string;
  readonly sync: Synchronizer<CameraFrame>;
  readonly rate: StampRate;
  scheduled: number;
  published: number;
  failed: number;
  timedOut: number;
  dropped: number;
  lastSetStamp: bigint | undefined;
  tfRefused: string | null;
}

interface QuestionState {
  readonly name: string;
  config: NodeConfig['question'][string];
  readonly rate: StampRate;
  /** Stamps of the frames last asked about, to skip asking about the same frames twice. */
  lastFrames: string;
  scheduled: number;
  published: number;
  failed: number;
  timedOut: number;
  dropped: number;
}

interface JobBase {
  readonly frames: readonly CameraFrame[];
  /** Newest stamp among the frames. */
  readonly stamp: bigint;
  readonly enqueuedAt: bigint;
  /** Time spent in the backend, ms (accumulated while running). */
  backendMs: number;
  prepareMs: number;
}

interface ViewpointJob extends JobBase {
  readonly kind: 'viewpoint';
  readonly pair: PairState;
}

interface QuestionJob extends JobBase {
  readonly kind: 'question';
  readonly state: QuestionState;
  readonly spec: QuestionSpec;
}

interface QueryJob extends JobBase {
  readonly kind: 'query';
  readonly spec: QuestionSpec;
  readonly controller: AbortController;
  readonly onFeedback: ((feedback: AskFeedback) => void) | undefined;
  started: boolean;
  /** Answers the query (once) and releases its timer and listeners. */
  settle(response: SpatialQueryResponse): void;
}

type PeriodicJob = ViewpointJob | QuestionJob;
type Job = PeriodicJob | QueryJob;

const JOB_KINDS: readonly JobKind[] = ['viewpoint', 'question', 'query'];
const perKind = (): Record<JobKind, number> => ({ viewpoint: 0, question: 0, query: 0 });

let instanceCounter = 0;

function failure(error: string): SpatialQueryResponse {
  return { success: false, error, answer: emptySpatialAnswer() };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** setTimeout's delay for a timeout in seconds (it fires at once beyond 2^31 - 1 ms). */
function timerMs(seconds: number): number {
  return Math.min(seconds * 1000, 2_147_483_647);
}

function maxStamp(frames: readonly CameraFrame[]): bigint {
  return frames.reduce((max, f) => (f.stamp > max ? f.stamp : max), 0n);
}

/** Resolves or rejects with `work`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

/**
 * The transport-agnostic core of the Actial node. Drivers (the rclnodejs adapter, bag replay)
 * feed it messages by topic with {@link handleMessage}, call {@link tick} for periodic work, pass
 * service and action requests to {@link query}, and publish what it gives to `onOutput`.
 *
 * Each configured camera pair has its own synchroniser (`pairing.policy`), so a silent camera
 * stops only its own pairs. Synchronised sets are rate-limited per pair by their stamps
 * (`viewpoint.rate_hz`) and queued (`queue.size`, `queue.policy`) for the model; standing
 * questions are asked about the latest matched frames of their cameras at their own rates. One
 * job runs at a time, on the backend (which runs the model off the caller's thread); queries take
 * turns with queued periodic jobs and are bounded by `maxPendingQueries`.
 */
export class SpatialNodeCore {
  /** Node name used in diagnostics. */
  readonly nodeName: string;
  /** The `model` field of outputs. */
  readonly modelName: string;
  readonly maxPendingQueries: number;
  readonly #backend: InferenceBackend;
  readonly #clock: Clock;
  readonly #logger: NodeLogger;
  readonly #onOutput: ((output: NodeOutput) => void) | undefined;
  readonly #options: SpatialNodeCoreOptions;
  readonly #instance = (++instanceCounter).toString(36);
  readonly #historyDurationNs: bigint;
  readonly #stampToleranceNs: bigint;
  readonly #jumpNs: bigint;
  readonly #cameras = new Map<string, CameraState>();
  readonly #histories = new Map<string, FrameHistory>();
  readonly #byTopic = new Map<string, CameraState[]>();
  readonly #byInfoTopic = new Map<string, CameraState[]>();
  readonly #pairs: PairState[] = [];
  readonly #questions = new Map<string, QuestionState>();
  readonly #tf = new TfFrameGuard();
  readonly #tfWarned = new Set<string>();
  #config: NodeConfig;
  #state: NodeState = 'inactive';
  #frameSequence = 0;
  // Inference lane.
  #queue: BoundedQueue<PeriodicJob>;
  readonly #waiting = new Set<PeriodicJob>();
  readonly #queries: QueryJob[] = [];
  #pendingQueries = 0;
  #current: { job: Job; controller: AbortController } | undefined;
  #lastWasQuery = false;
  #pumpScheduled = false;
  #idleWaiters: (() => void)[] = [];
  // Counters.
  readonly #scheduled = perKind();
  readonly #completed = perKind();
  readonly #failed = perKind();
  readonly #timedOut = perKind();
  readonly #cancelled = perKind();
  #dropped = 0;
  #rejectedQueries = 0;
  #invalidQueries = 0;
  readonly #latency: Record<JobKind, SampleWindow> = {
    viewpoint: new SampleWindow(256),
    question: new SampleWindow(256),
    query: new SampleWindow(256),
  };
  readonly #overheadMs = new SampleWindow(256);
  readonly #prepareMs = new SampleWindow(256);
  readonly #frameAgeS = new SampleWindow(256);
  #lastError: string | null = null;
  #unknownTopic = 0;
  readonly #unknownTopics = new Set<string>();
  #tfMessages = 0;
  #tfRejected = 0;
  #cameraInfoRejected = 0;
  #outputErrors = 0;
  readonly #countedFailures = new WeakSet<CameraFrame>();
  #lastDiagnosticsAt: bigint | undefined;
  #previousStats: NodeStats | undefined;
  #previousStatsAt: bigint | undefined;

  private constructor(options: SpatialNodeCoreOptions) {
    this.#options = options;
    this.#config = options.config;
    this.#backend = options.backend;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#onOutput = options.onOutput;
    this.nodeName = options.nodeName ?? 'actial';
    this.modelName =
      options.modelName ?? (options.config.model.path.split(/[\\/]/).filter(Boolean).pop() || 'bundled');
    this.maxPendingQueries = SpatialNodeCore.#positiveInteger(
      'maxPendingQueries',
      options.maxPendingQueries,
      8,
    );
    const historySize = SpatialNodeCore.#positiveInteger('historySize', options.historySize, 32);
    this.#historyDurationNs = secondsToNs(options.historyDurationS ?? 2, 'historyDurationS');
    this.#stampToleranceNs = secondsToNs(options.stampToleranceS ?? 0.1, 'stampToleranceS');
    this.#jumpNs = secondsToNs(options.timeJumpThresholdS ?? 1, 'timeJumpThresholdS');
    const config = this.#config;

    for (const name of config.cameras) {
      const cameraConfig = config.camera[name] as CameraConfig;
      const history = new FrameHistory({ size: historySize, durationNs: this.#historyDurationNs });
      const state: CameraState = {
        name,
        config: cameraConfig,
        history,
        feeds: [],
        frameId: cameraConfig.optical_frame,
        received: 0,
        rejected: {},
        rejectedTotal: 0,
        rejectedAtDecode: 0,
        timeJumps: 0,
        cameraInfos: 0,
        lastStamp: undefined,
        lastReceivedAt: undefined,
        logged: new Set(),
      };
      this.#cameras.set(name, state);
      this.#histories.set(name, history);
      const onTopic = this.#byTopic.get(cameraConfig.topic) ?? [];
      onTopic.push(state);
      this.#byTopic.set(cameraConfig.topic, onTopic);
      if (cameraConfig.camera_info_topic) {
        const onInfo = this.#byInfoTopic.get(cameraConfig.camera_info_topic) ?? [];
        onInfo.push(state);
        this.#byInfoTopic.set(cameraConfig.camera_info_topic, onInfo);
      }
    }
    this.#tf.reserve(config.cameras.map((name) => config.camera[name]?.optical_frame ?? ''));
    this.#buildPairs();
    this.#syncQuestions();
    this.#queue = this.#newQueue();
  }

  /**
   * Builds the core for a validated configuration: one synchroniser per camera pair, the frame
   * histories, the inference queue. The core starts `inactive`; call {@link start}.
   * @throws PairingOptionError, PairSpecError or RangeError for options out of range.
   */
  static async create(options: SpatialNodeCoreOptions): Promise<SpatialNodeCore> {
    return Promise.resolve(new SpatialNodeCore(options));
  }

  static #positiveInteger(name: string, value: number | undefined, fallback: number): number {
    const v = value ?? fallback;
    if (!Number.isSafeInteger(v) || v < 1)
      throw new RangeError(`${name} must be a positive integer, got ${v}`);
    return v;
  }

  /** Lifecycle state. */
  get state(): NodeState {
    return this.#state;
  }

  /** The configuration in force (after live updates). */
  get config(): NodeConfig {
    return this.#config;
  }

  /** Camera pairs estimated, `[source, target]` (a camera with itself under the temporal policy). */
  get pairs(): readonly (readonly [string, string])[] {
    return this.#pairs.map((p) => [p.source, p.target] as const);
  }

  /**
   * Starts scheduling viewpoints, standing questions and serving queries (lifecycle activate).
   * @throws NodeStateError after {@link close}.
   */
  start(): void {
    if (this.#state === 'closed') {
      throw new NodeStateError(this.#state, 'SpatialNodeCore.start: the core is closed; create a new one');
    }
    this.#state = 'active';
    this.#schedulePump();
  }

  /**
   * Stops scheduling (lifecycle deactivate): waiting periodic jobs are dropped, waiting queries
   * answered `success=false`; frames, counters and configuration stay. Resolves when the running
   * job (which completes normally) is done.
   */
  async stop(): Promise<void> {
    if (this.#state !== 'active') return this.whenIdle();
    this.#state = 'inactive';
    this.#queue.clear();
    for (const query of this.#queries.splice(0)) {
      this.#cancelled.query += 1;
      query.settle(failure('the node was deactivated before the query ran'));
    }
    return this.whenIdle();
  }

  /**
   * Releases the core: aborts the running job, answers every pending query `success=false`, drops
   * all frames. Further input is ignored and queries are refused. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#state === 'closed') return this.whenIdle();
    this.#state = 'closed';
    this.#queue.clear();
    for (const query of this.#queries.splice(0)) {
      this.#cancelled.query += 1;
      query.settle(failure('the node is shutting down'));
    }
    this.#current?.controller.abort(new JobCancelledError('the node is shutting down'));
    await this.whenIdle();
    for (const camera of this.#cameras.values()) camera.history.clear();
    for (const pair of this.#pairs) pair.sync.reset();
  }

  /** Resolves once no job runs and none waits (or the core is not active and nothing runs). */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Feeds one received message. `topic` is a camera's image topic (sensor_msgs/Image, or
   * CompressedImage for transport `compressed`), a camera_info topic, `/tf` or `/tf_static`.
   * `receivedAt` is the clock time of arrival (default now). Never throws: bad input is counted
   * per camera and reason and reported in the outcome.
   */
  handleMessage(topic: string, message: unknown, receivedAt?: bigint): MessageOutcome {
    if (this.#state === 'closed') {
      return { accepted: false, reason: 'closed', message: 'the node is closed' };
    }
    try {
      const at = receivedAt ?? this.#clock.now();
      const cameras = this.#byTopic.get(topic);
      if (cameras) {
        let outcome: MessageOutcome = { accepted: true };
        for (const camera of cameras) {
          const result = this.#handleImage(camera, message, at);
          if (!result.accepted) outcome = result;
        }
        return outcome;
      }
      const infos = this.#byInfoTopic.get(topic);
      if (infos) return this.#handleCameraInfo(infos, message, topic);
      if (topic === '/tf' || topic === '/tf_static') return this.#handleTf(message, topic);
      this.#unknownTopic += 1;
      if (this.#unknownTopics.size < 16 && !this.#unknownTopics.has(topic)) {
        this.#unknownTopics.add(topic);
        this.#logger.warn(`ignoring messages on topic '${topic}': no camera, camera_info or tf topic`);
      }
      return { accepted: false, reason: 'unknown_topic', message: `no camera subscribes to '${topic}'` };
    } catch (error) {
      // Nothing above should throw; if it does, the message is lost but the node lives on.
      const text = `internal error handling a message on '${topic}': ${errorText(error)}`;
      this.#lastError = text;
      this.#logger.error(text);
      return { accepted: false, reason: 'bad_message', message: text };
    }
  }

  /**
   * Periodic work the driver calls (e.g. at 10 Hz on a wall or ROS timer, or per message in bag
   * replay): publishes /diagnostics at `diagnostics.rate_hz` of `now` (default: the clock).
   */
  tick(now: bigint = this.#clock.now()): void {
    if (this.#state === 'closed') return;
    const period = BigInt(Math.round(1e9 / this.#config.diagnostics.rate_hz));
    const last = this.#lastDiagnosticsAt;
    if (last !== undefined && now >= last && now - last < period) return;
    this.#lastDiagnosticsAt = now;
    this.#emit({ topic: '/diagnostics', message: this.diagnostics(now) });
  }

  /**
   * The diagnostics at `now`: one status per camera, camera pair and standing question, one for the
   * inference lane and one for other input. Levels compare with the previous call (its window):
   * e.g. a camera is WARN when it had bad images since then.
   */
  diagnostics(now: bigint = this.#clock.now()): DiagnosticArrayMessage {
    const stats = this.stats(now);
    const message = buildDiagnostics({
      nodeName: this.nodeName,
      now,
      stats,
      previous: this.#previousStats,
      previousAt: this.#previousStatsAt,
      staleAfterNs: secondsToNs(this.#config.diagnostics.stale_after_s, 'diagnostics.stale_after_s'),
    });
    this.#previousStats = stats;
    this.#previousStatsAt = now;
    return message;
  }

  /** A snapshot of every counter; queue ages are taken at `now` (default: the clock). */
  stats(now: bigint = this.#clock.now()): NodeStats {
    const cameras: Record<string, CameraStats> = {};
    for (const c of this.#cameras.values()) {
      cameras[c.name] = {
        topic: c.config.topic,
        transport: c.config.transport,
        frameId: c.frameId,
        received: c.received,
        rejected: { ...c.rejected },
        rejectedTotal: c.rejectedTotal,
        rejectedAtDecode: c.rejectedAtDecode,
        timeJumps: c.timeJumps,
        cameraInfos: c.cameraInfos,
        lastStamp: c.lastStamp ?? null,
        lastReceivedAt: c.lastReceivedAt ?? null,
        history: c.history.size,
      };
    }
    const questions: Record<string, QuestionStats> = {};
    for (const q of this.#questions.values()) {
      questions[q.name] = {
        cameras: [...q.config.cameras],
        scheduled: q.scheduled,
        published: q.published,
        failed: q.failed,
        timedOut: q.timedOut,
        dropped: q.dropped,
      };
    }
    let oldest: bigint | undefined;
    for (const job of this.#waiting)
      if (oldest === undefined || job.enqueuedAt < oldest) oldest = job.enqueuedAt;
    const latency = {} as Record<JobKind, Percentiles | null>;
    for (const kind of JOB_KINDS) latency[kind] = this.#latency[kind].percentiles();
    return {
      state: this.#state,
      cameras,
      pairs: this.#pairs.map((p) => ({
        source: p.source,
        target: p.target,
        sync: p.sync.stats(),
        scheduled: p.scheduled,
        published: p.published,
        failed: p.failed,
        timedOut: p.timedOut,
        dropped: p.dropped,
        lastSetStamp: p.lastSetStamp ?? null,
        tfRefused: p.tfRefused,
      })),
      questions,
      inference: {
        model: this.modelName,
        executionProvider: this.#backend.executionProvider ?? 'unknown',
        fallbackReason: this.#backend.fallbackReason ?? null,
        modelFiles: this.#backend.modelFiles ?? '',
        backend: this.#backendStats(),
        running: this.#current?.job.kind ?? null,
        queued: this.#queue.size,
        queueCapacity: this.#queue.capacity,
        queuePolicy: this.#queue.policy,
        oldestQueuedS: oldest === undefined || now < oldest ? 0 : Number(now - oldest) / 1e9,
        pendingQueries: this.#pendingQueries,
        maxPendingQueries: this.maxPendingQueries,
        scheduled: { ...this.#scheduled },
        completed: { ...this.#completed },
        failed: { ...this.#failed },
        timedOut: { ...this.#timedOut },
        cancelled: { ...this.#cancelled },
        dropped: this.#dropped,
        rejectedQueries: this.#rejectedQueries,
        invalidQueries: this.#invalidQueries,
        latencyMs: latency,
        overheadMs: this.#overheadMs.percentiles(),
        prepareMs: this.#prepareMs.percentiles(),
        frameAgeS: this.#frameAgeS.percentiles(),
        lastError: this.#lastError,
      },
      input: {
        unknownTopic: this.#unknownTopic,
        unknownTopics: [...this.#unknownTopics],
        tfMessages: this.#tfMessages,
        tfRejected: this.#tfRejected,
        cameraInfoRejected: this.#cameraInfoRejected,
        outputErrors: this.#outputErrors,
      },
    };
  }

  /**
   * Answers a SpatialQuery (service) or an Ask goal (action, with `onFeedback`): about the latest
   * synchronised frames of the named cameras, or those nearest `request.stamp` from the history.
   * With choices the answer is scored, else generated. Never rejects: every failure (unknown
   * camera, no frames, queue full, timeout, cancel, model error) is `success=false` with the reason.
   */
  query(request: SpatialQueryRequest, options: QueryOptions = {}): Promise<SpatialQueryResponse> {
    if (this.#state !== 'active') {
      this.#rejectedQueries += 1;
      return Promise.resolve(
        failure(
          this.#state === 'closed'
            ? 'the node is closed'
            : 'the node is not active (lifecycle state inactive)',
        ),
      );
    }
    let checked: ReturnType<typeof checkQueryRequest>;
    try {
      checked = checkQueryRequest(request, {
        cameras: this.#config.cameras,
        maxNewTokens: this.#config.model.max_new_tokens,
        timeoutS: this.#config.model.timeout_s,
      });
    } catch (error) {
      // checkQueryRequest returns its reasons; a throw is a bug, but the caller still gets an answer.
      checked = { error: `the request could not be read: ${errorText(error)}` };
    }
    if ('error' in checked) {
      this.#invalidQueries += 1;
      return Promise.resolve(failure(checked.error));
    }
    if (this.#pendingQueries >= this.maxPendingQueries) {
      this.#rejectedQueries += 1;
      return Promise.resolve(
        failure(
          `too many queries pending (${this.#pendingQueries} of at most ${this.maxPendingQueries}); try again later`,
        ),
      );
    }
    const { spec, stamp, timeoutS } = checked;
    const match =
      stamp === 0n
        ? matchLatest(spec.cameras, this.#histories, this.#maxSpreadNs())
        : matchAt(spec.cameras, this.#histories, stamp, this.#stampToleranceNs);
    if ('error' in match) {
      this.#invalidQueries += 1;
      return Promise.resolve(failure(match.error));
    }
    if (options.signal?.aborted) {
      this.#scheduled.query += 1;
      this.#cancelled.query += 1;
      return Promise.resolve(failure('cancelled before it was queued'));
    }
    return new Promise<SpatialQueryResponse>((resolve) => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new JobTimeoutError(timeoutS)), timerMs(timeoutS));
      timer.unref?.();
      const onCancel = (): void => controller.abort(new JobCancelledError('cancelled'));
      options.signal?.addEventListener('abort', onCancel, { once: true });
      this.#pendingQueries += 1;
      let settled = false;
      const job: QueryJob = {
        kind: 'query',
        spec,
        frames: match.frames,
        stamp: maxStamp(match.frames),
        enqueuedAt: this.#clock.now(),
        backendMs: 0,
        prepareMs: 0,
        controller,
        onFeedback: options.onFeedback,
        started: false,
        settle: (response) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onCancel);
          this.#pendingQueries -= 1;
          resolve(response);
        },
      };
      controller.signal.addEventListener(
        'abort',
        () => {
          if (job.started) return; // the running job reports it
          const index = this.#queries.indexOf(job);
          if (index !== -1) this.#queries.splice(index, 1);
          this.#countAbort(job, controller.signal.reason);
          job.settle(failure(errorText(controller.signal.reason)));
          this.#schedulePump();
        },
        { once: true },
      );
      this.#scheduled.query += 1;
      this.#queries.push(job);
      this.#schedulePump();
    });
  }

  /**
   * Applies parameter changes (nested `{viewpoint: {rate_hz: 2}}` or dotted `{'viewpoint.rate_hz': 2}`)
   * that can change live: rates, standing questions, viewpoint options, prompt, generation length and
   * timeout, queue, image checks, tf output, diagnostics. Other keys are refused with the reason.
   */
  updateConfig(update: Record<string, unknown>): ConfigUpdateResult {
    if (this.#state === 'closed') {
      return {
        applied: [],
        refused: Object.keys(update).map((key) => ({ key, reason: 'the node is closed' })),
      };
    }
    const plan = planConfigUpdate(this.#config, update);
    if (plan.applied.length > 0) {
      const before = this.#config;
      this.#config = plan.config;
      for (const pair of this.#pairs) pair.rate.setRate(this.#config.viewpoint.rate_hz);
      this.#syncQuestions();
      // Waiting jobs of standing questions removed now are dropped (and counted).
      const current = (job: PeriodicJob): boolean =>
        job.kind !== 'question' || this.#questions.get(job.state.name) === job.state;
      if (
        before.queue.size !== this.#config.queue.size ||
        before.queue.policy !== this.#config.queue.policy ||
        [...this.#waiting].some((job) => !current(job))
      ) {
        this.#rebuildQueue(current);
      }
      // A refused /tf child frame is a standing condition until the name changes or output stops.
      if (before.tf.child_frame_suffix !== this.#config.tf.child_frame_suffix || !this.#config.tf.publish) {
        for (const pair of this.#pairs) pair.tfRefused = null;
      }
      this.#logger.info?.(`parameters updated: ${plan.applied.join(', ')}`);
    }
    return { applied: plan.applied, refused: plan.refused };
  }

  // ---------------------------------------------------------------------------------------------
  // Input

  #reject(camera: CameraState, error: NodeInputError): MessageOutcome {
    camera.rejected[error.code] = (camera.rejected[error.code] ?? 0) + 1;
    camera.rejectedTotal += 1;
    if (!camera.logged.has(error.code)) {
      camera.logged.add(error.code);
      this.#logger.warn(`${error.message} (further '${error.code}' images are only counted)`);
    }
    return { accepted: false, reason: error.code, message: error.message };
  }

  #handleImage(camera: CameraState, message: unknown, receivedAt: bigint): MessageOutcome {
    camera.lastReceivedAt = receivedAt;
    let checked;
    try {
      const image = this.#config.image;
      checked = checkImageMessage(
        message,
        camera.config.transport,
        { maxInputPixels: image.max_input_pixels, allowDepthAsImage: image.allow_depth_as_image },
        `camera ${camera.name} (${camera.config.topic})`,
      );
    } catch (error) {
      if (error instanceof NodeInputError) return this.#reject(camera, error);
      throw error;
    }
    const { stamp } = checked;
    if (camera.lastStamp !== undefined && camera.lastStamp - stamp > this.#jumpNs) {
      this.#timeJump(camera, camera.lastStamp, stamp);
    }
    const frameId = camera.config.optical_frame || checked.frameId;
    if (frameId !== camera.frameId) {
      camera.frameId = frameId;
      this.#tf.reserve([frameId]);
    }
    const frame = new CameraFrame({
      camera: camera.name,
      stamp,
      frameId,
      receivedAt,
      source: checked.source,
      uniqueSuffix: `${this.#instance}.${(++this.#frameSequence).toString(36)}`,
    });
    if (!camera.history.add(frame)) {
      return this.#reject(
        camera,
        new NodeInputError(
          'duplicate_stamp',
          `camera ${camera.name}: a second image with stamp ${formatNs(stamp)} (the first one is kept)`,
        ),
      );
    }
    camera.received += 1;
    camera.lastStamp = stamp;
    for (const { pair, topic } of camera.feeds) pair.sync.add(topic, stamp, frame);
    if (this.#state === 'active') this.#considerQuestions(camera, stamp);
    return { accepted: true };
  }

  #handleCameraInfo(cameras: readonly CameraState[], message: unknown, topic: string): MessageOutcome {
    try {
      checkCameraInfo(message, `camera_info on ${topic}`);
    } catch (error) {
      if (!(error instanceof NodeInputError)) throw error;
      this.#cameraInfoRejected += 1;
      return { accepted: false, reason: error.code, message: error.message };
    }
    for (const camera of cameras) camera.cameraInfos += 1;
    return { accepted: true };
  }

  #handleTf(message: unknown, topic: string): MessageOutcome {
    let transforms;
    try {
      transforms = checkTfMessage(message, topic);
    } catch (error) {
      if (!(error instanceof NodeInputError)) throw error;
      this.#tfRejected += 1;
      return { accepted: false, reason: error.code, message: error.message };
    }
    this.#tfMessages += 1;
    this.#tf.observe(transforms);
    return { accepted: true };
  }

  /** A camera's stamps went back by more than the threshold: forget its frames and its pairs' timing. */
  #timeJump(camera: CameraState, previous: bigint, stamp: bigint): void {
    camera.timeJumps += 1;
    this.#logger.warn(
      `camera ${camera.name}: stamp ${formatNs(stamp)} s is ${formatNs(previous - stamp)} s before the previous one; time jumped backwards, resetting its frames and pairs`,
    );
    camera.history.clear();
    for (const { pair } of camera.feeds) {
      pair.rate.reset();
      pair.lastSetStamp = undefined;
    }
    for (const q of this.#questions.values()) {
      if (q.config.cameras.includes(camera.name)) {
        q.rate.reset();
        q.lastFrames = '';
      }
    }
    this.#rebuildQueue((job) => !job.frames.some((f) => f.camera === camera.name));
  }

  // ---------------------------------------------------------------------------------------------
  // Scheduling

  #maxSpreadNs(): bigint | null {
    const s = this.#config.pairing.max_interval_s;
    return s > 0 ? secondsToNs(s, 'pairing.max_interval_s') : null;
  }

  #buildPairs(): void {
    const config = this.#config;
    const pairing = config.pairing;
    const bounds = pairing.inter_message_lower_bound_s;
    const add = (
      source: string,
      target: string,
      makeSync: (callbacks: SynchronizerCallbacks<CameraFrame>) => Synchronizer<CameraFrame>,
    ): PairState => {
      const pair: PairState = {
        source,
        target,
        sync: makeSync({
          onSet: (set) => this.#onSet(pair, set),
          onWarning: (warning: SyncWarning) => {
            if (warning.kind !== 'time_jump')
              this.#logger.debug?.(`pair ${source}:${target}: ${warning.message}`);
          },
          timeJumpThresholdNs: this.#jumpNs,
        }),
        rate: new StampRate(config.viewpoint.rate_hz, this.#jumpNs),
        scheduled: 0,
        published: 0,
        failed: 0,
        timedOut: 0,
        dropped: 0,
        lastSetStamp: undefined,
        tfRefused: null,
      };
      this.#pairs.push(pair);
      return pair;
    };
    if (pairing.policy === 'temporal') {
      // Each camera is paired with itself dt earlier (ego-motion); pair_mode does not apply.
      for (const name of config.cameras) {
        const pair = add(name, name, (callbacks) =>
          createSynchronizer<CameraFrame>(
            {
              policy: 'temporal',
              topicCount: 1,
              temporalDtS: pairing.temporal_dt_s,
              maxIntervalS: pairing.max_interval_s,
            },
            callbacks,
          ),
        );
        this.#cameras.get(name)?.feeds.push({ pair, topic: 0 });
      }
      return;
    }
    for (const selected of selectCameraPairs(config.cameras, pairing.pair_mode, pairing.pairs)) {
      const driver = [selected.sourceName, selected.targetName].indexOf(pairing.latest_driver);
      const pair = add(selected.sourceName, selected.targetName, (callbacks) =>
        createSynchronizer<CameraFrame>(
          {
            policy: pairing.policy,
            topicCount: 2,
            queueSize: pairing.queue_size,
            agePenalty: pairing.age_penalty,
            maxIntervalS: pairing.max_interval_s,
            interMessageLowerBoundS:
              bounds.length === 0 ? [] : [bounds[selected.source] ?? 0, bounds[selected.target] ?? 0],
            latestDriver: driver === -1 ? 0 : driver,
          },
          callbacks,
        ),
      );
      this.#cameras.get(selected.sourceName)?.feeds.push({ pair, topic: 0 });
      this.#cameras.get(selected.targetName)?.feeds.push({ pair, topic: 1 });
    }
  }

  #onSet(pair: PairState, set: SyncSet<CameraFrame>): void {
    const frames = set.map((member) => member.message);
    const stamp = maxStamp(frames);
    pair.lastSetStamp = stamp;
    if (this.#state !== 'active' || !this.#config.viewpoint.enabled || !pair.rate.due(stamp)) return;
    pair.rate.commit(stamp);
    pair.scheduled += 1;
    this.#enqueue({
      kind: 'viewpoint',
      pair,
      frames,
      stamp,
      enqueuedAt: this.#clock.now(),
      backendMs: 0,
      prepareMs: 0,
    });
  }

  #syncQuestions(): void {
    const config = this.#config;
    const names = new Set(config.questions);
    for (const name of [...this.#questions.keys()]) if (!names.has(name)) this.#questions.delete(name);
    for (const name of config.questions) {
      const questionConfig = config.question[name];
      if (!questionConfig) continue;
      const existing = this.#questions.get(name);
      if (existing) {
        existing.config = questionConfig;
        existing.rate.setRate(questionConfig.rate_hz);
        continue;
      }
      this.#questions.set(name, {
        name,
        config: questionConfig,
        rate: new StampRate(questionConfig.rate_hz, this.#jumpNs),
        lastFrames: '',
        scheduled: 0,
        published: 0,
        failed: 0,
        timedOut: 0,
        dropped: 0,
      });
    }
  }

  /** After a frame of `camera` arrived: queue the standing questions about it that are due. */
  #considerQuestions(camera: CameraState, stamp: bigint): void {
    for (const q of this.#questions.values()) {
      if (!q.config.cameras.includes(camera.name) || !q.rate.due(stamp)) continue;
      const match = matchLatest(q.config.cameras, this.#histories, this.#maxSpreadNs());
      if ('error' in match) continue;
      const setStamp = maxStamp(match.frames);
      const id = match.frames.map((f) => f.key).join(',');
      if (id === q.lastFrames || !q.rate.due(setStamp)) continue;
      q.lastFrames = id;
      q.rate.commit(setStamp);
      q.scheduled += 1;
      this.#enqueue({
        kind: 'question',
        state: q,
        spec: {
          question: q.config.text,
          cameras: q.config.cameras,
          choices: q.config.choices,
          maxNewTokens: this.#config.model.max_new_tokens,
        },
        frames: match.frames,
        stamp: setStamp,
        enqueuedAt: this.#clock.now(),
        backendMs: 0,
        prepareMs: 0,
      });
    }
  }

  #newQueue(): BoundedQueue<PeriodicJob> {
    return new BoundedQueue<PeriodicJob>({
      capacity: this.#config.queue.size,
      policy: this.#config.queue.policy,
      stampOf: (job) => job.stamp,
      now: () => this.#clock.now(),
      onDrop: (job) => this.#dropJob(job),
    });
  }

  #dropJob(job: PeriodicJob): void {
    this.#waiting.delete(job);
    this.#dropped += 1;
    if (job.kind === 'viewpoint') job.pair.dropped += 1;
    else job.state.dropped += 1;
  }

  /** Replaces the queue (new size or policy), keeping the waiting jobs `keep` accepts, in order. */
  #rebuildQueue(keep: (job: PeriodicJob) => boolean): void {
    const old = this.#queue;
    const jobs: PeriodicJob[] = [];
    for (let taken = old.take(); taken; taken = old.take()) jobs.push(taken.item);
    this.#queue = this.#newQueue();
    for (const job of jobs) {
      if (!keep(job)) {
        this.#dropJob(job);
        continue;
      }
      this.#queue.push(job);
    }
  }

  #enqueue(job: PeriodicJob): void {
    this.#scheduled[job.kind] += 1;
    this.#waiting.add(job);
    this.#queue.push(job);
    this.#schedulePump();
  }

  #isIdle(): boolean {
    if (this.#current) return false;
    return this.#state !== 'active' || (this.#queue.size === 0 && this.#queries.length === 0);
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (!this.#current && this.#state === 'active') {
      const job = this.#nextJob();
      if (job) {
        const controller = job.kind === 'query' ? job.controller : new AbortController();
        this.#current = { job, controller };
        void this.#run(job, controller).finally(() => {
          this.#current = undefined;
          this.#pump();
        });
        return;
      }
    }
    if (this.#isIdle()) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /** Queries and queued periodic jobs take turns when both wait. */
  #nextJob(): Job | undefined {
    const query = this.#queries[0];
    if (query && (this.#queue.size === 0 || !this.#lastWasQuery)) {
      this.#queries.shift();
      this.#lastWasQuery = true;
      return query;
    }
    const taken = this.#queue.take();
    if (!taken) return undefined;
    this.#waiting.delete(taken.item);
    this.#lastWasQuery = false;
    this.#frameAgeS.record(Number(taken.ageNs) / 1e9);
    return taken.item;
  }

  // ---------------------------------------------------------------------------------------------
  // Inference

  async #run(job: Job, controller: AbortController): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (job.kind === 'query') {
      job.started = true;
      if (controller.signal.aborted) {
        this.#countAbort(job, controller.signal.reason);
        job.settle(failure(errorText(controller.signal.reason)));
        return;
      }
    } else {
      const timeoutS = this.#config.model.timeout_s;
      timer = setTimeout(() => controller.abort(new JobTimeoutError(timeoutS)), timerMs(timeoutS));
      timer.unref?.();
    }
    const started = performance.now();
    const work = this.#execute(job, controller.signal);
    try {
      const answer = await untilAborted(work, controller.signal);
      const elapsed = performance.now() - started;
      this.#completed[job.kind] += 1;
      this.#latency[job.kind].record(elapsed);
      this.#overheadMs.record(elapsed - job.backendMs);
      this.#prepareMs.record(job.prepareMs);
      if (job.kind === 'query' && answer) job.settle({ success: true, error: '', answer });
    } catch (error) {
      this.#jobFailed(job, error, controller.signal);
    } finally {
      clearTimeout(timer);
      // The backend may still be stopping after an abort: the next job waits for it.
      await work.catch(() => undefined);
    }
  }

  #countAbort(job: Job, reason: unknown): void {
    if (!(reason instanceof JobTimeoutError)) {
      this.#cancelled[job.kind] += 1;
      return;
    }
    this.#timedOut[job.kind] += 1;
    if (job.kind === 'viewpoint') job.pair.timedOut += 1;
    if (job.kind === 'question') job.state.timedOut += 1;
  }

  #jobFailed(job: Job, error: unknown, signal: AbortSignal): void {
    if (signal.aborted) {
      this.#countAbort(job, signal.reason);
      if (job.kind === 'query') job.settle(failure(errorText(signal.reason)));
      else if (signal.reason instanceof JobTimeoutError) this.#logFailure(job, errorText(signal.reason));
      return;
    }
    this.#failed[job.kind] += 1;
    const text =
      error instanceof NodeInputError
        ? `bad image: ${error.message}`
        : `inference failed: ${errorText(error)}`;
    if (job.kind === 'viewpoint') job.pair.failed += 1;
    if (job.kind === 'question') job.state.failed += 1;
    if (job.kind === 'query') {
      this.#lastError = text;
      job.settle(failure(text));
    } else {
      this.#logFailure(job, text);
    }
  }

  #logFailure(job: PeriodicJob, text: string): void {
    const what =
      job.kind === 'viewpoint'
        ? `viewpoint ${job.pair.source}:${job.pair.target}`
        : `question ${job.state.name}`;
    const line = `${what} at ${formatNs(job.stamp)}: ${text}`;
    if (text !== this.#lastError) this.#logger.warn(line);
    this.#lastError = text;
  }

  #preparation(): FramePreparation {
    const { model, image } = this.#config;
    return {
      maxPixels: model.max_pixels,
      minPixels: model.min_pixels,
      resize: this.#options.resize,
      maxInputPixels: image.max_input_pixels,
      allowDepthAsImage: image.allow_depth_as_image,
      sharedMemory: this.#backend.sharedImageMemory ?? false,
    };
  }

  async #prepare(job: Job): Promise<EngineImage[]> {
    const started = performance.now();
    const preparation = this.#preparation();
    const prepare = this.#backend.prepareImage;
    // Every frame settles before a failure is reported, so that each bad frame of the job is counted.
    const settled = await Promise.allSettled(job.frames.map((frame) => frame.prepare(preparation, prepare)));
    job.prepareMs = performance.now() - started;
    const images: EngineImage[] = [];
    let firstError: { reason: unknown } | undefined;
    settled.forEach((result, i) => {
      const frame = job.frames[i] as CameraFrame;
      if (result.status === 'fulfilled') {
        images.push({ image: result.value, key: frame.key });
        return;
      }
      firstError ??= { reason: result.reason };
      if (frame.failure && !this.#countedFailures.has(frame)) {
        this.#countedFailures.add(frame);
        const camera = this.#cameras.get(frame.camera);
        if (camera) {
          camera.rejectedAtDecode += 1;
          this.#reject(camera, frame.failure);
        }
      }
    });
    if (firstError) throw firstError.reason;
    return images;
  }

  #promptOptions(): PromptOptions {
    return { answerFormat: this.#config.prompt.answer_format, system: this.#config.prompt.system };
  }

  #answerPrefix(): string {
    return this.#options.answerPrefix ?? (this.#config.prompt.answer_format === 'actial' ? '<answer>' : '');
  }

  async #timed<T>(job: Job, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await call();
    } finally {
      job.backendMs += performance.now() - started;
    }
  }

  /** Runs a job and publishes its output; returns the answer of a query (answered by the caller). */
  async #execute(job: Job, signal: AbortSignal): Promise<SpatialAnswerMessage | null> {
    const images = await this.#prepare(job);
    signal.throwIfAborted();
    if (job.kind === 'viewpoint') {
      await this.#estimate(job, images, signal);
      return null;
    }
    const answer = await this.#answer(job, job.spec, images, signal);
    signal.throwIfAborted();
    if (job.kind === 'query') return answer;
    job.state.published += 1;
    this.#emit({ topic: '~/answer', message: answer });
    return null;
  }

  async #estimate(job: ViewpointJob, images: EngineImage[], signal: AbortSignal): Promise<void> {
    const { viewpoint } = this.#config;
    const answerPrefix = this.#answerPrefix();
    const backend = this.#backend;
    const engineScorer = engineOptionScorer(backend, answerPrefix);
    const scorer: OptionScorer<EngineImage> = {
      scoreQuestions: (request) => this.#timed(job, () => engineScorer.scoreQuestions(request)),
    };
    const [source, target] = job.frames as [CameraFrame, CameraFrame];
    const estimate = await estimateViewpoint(scorer, images[0] as EngineImage, images[1] as EngineImage, {
      optionOrders: defaultOptionOrders(viewpoint.option_orders),
      bothDirections: viewpoint.both_directions,
      yawProbe: viewpoint.yaw ? {} : null,
      consistencyThreshold: viewpoint.consistency_threshold,
      system: resolveSystemPrompt(this.#promptOptions()),
      signal,
    });
    signal.throwIfAborted();
    const message = toViewpointEstimateMessage(estimate, {
      sourceCamera: job.pair.source,
      targetCamera: job.pair.target,
      sourceStamp: nsToTime(source.stamp),
      targetStamp: nsToTime(target.stamp),
      sourceFrameId: source.frameId,
      model: this.modelName,
    });
    job.pair.published += 1;
    this.#emit({ topic: '~/viewpoint', message });
    if (this.#config.tf.publish) this.#publishTf(job.pair, source, target, message.rotation);
  }

  async #answer(
    job: QuestionJob | QueryJob,
    spec: QuestionSpec,
    images: EngineImage[],
    signal: AbortSignal,
  ): Promise<SpatialAnswerMessage> {
    const started = performance.now();
    const promptOptions = this.#promptOptions();
    const system = resolveSystemPrompt(promptOptions);
    let answer: string;
    let reasoning = '';
    let probabilities: number[] = [];
    let choiceIndex = -1;
    let text: string;
    if (spec.choices.length > 0) {
      const { results } = await this.#timed(job, () =>
        this.#backend.scoreQuestions({
          images,
          system,
          questions: [
            {
              question: spec.question,
              choices: spec.choices,
              answerPrefix: this.#answerPrefix(),
              logProbs: false,
            },
          ],
          signal,
        }),
      );
      const scores = results[0];
      if (!scores || scores.probabilities.length !== spec.choices.length) {
        throw new Error(
          `the backend scored ${scores?.probabilities.length ?? 0} choices, ${spec.choices.length} were asked`,
        );
      }
      probabilities = [...scores.probabilities];
      choiceIndex = scores.choiceIndex;
      answer = spec.choices[choiceIndex] ?? '';
      text = answer;
    } else {
      let partial = '';
      let tokens = 0;
      const onFeedback = job.kind === 'query' ? job.onFeedback : undefined;
      const result = await this.#timed(job, () =>
        this.#backend.generate({
          images,
          system,
          question: spec.question,
          maxNewTokens: spec.maxNewTokens,
          signal,
          onToken: onFeedback
            ? (piece) => {
                partial += piece.text;
                tokens += 1;
                try {
                  onFeedback({ partial_text: partial, tokens });
                } catch (error) {
                  this.#logger.warn(`query feedback callback threw: ${errorText(error)}`);
                }
              }
            : undefined,
        }),
      );
      text = result.text;
      const read = readSpatialAnswer(text, promptOptions);
      answer = read.answer;
      reasoning = read.reasoning;
    }
    return {
      header: { stamp: nsToTime(job.stamp), frame_id: job.frames[0]?.frameId ?? '' },
      question: spec.question,
      cameras: [...spec.cameras],
      stamps: job.frames.map((f) => nsToTime(f.stamp)),
      answer,
      reasoning,
      choices: [...spec.choices],
      probabilities,
      choice_index: choiceIndex,
      text,
      model: this.modelName,
      inference_ms: performance.now() - started,
    };
  }

  #publishTf(
    pair: PairState,
    source: CameraFrame,
    target: CameraFrame,
    rotation: { x: number; y: number; z: number; w: number },
  ): void {
    const parent = source.frameId;
    if (!parent) {
      this.#warnTf(
        `no-frame:${pair.source}`,
        `camera ${pair.source} has no optical frame (set camera.${pair.source}.optical_frame); no /tf estimate for ${pair.source}:${pair.target}`,
      );
      return;
    }
    const suffix = this.#config.tf.child_frame_suffix;
    const shared = this.#pairs.filter((p) => p.source === pair.source).length > 1;
    const child = `${parent}${suffix}${shared ? `_${pair.target}` : ''}`;
    if (this.#tf.isTaken(child)) {
      pair.tfRefused = child;
      this.#warnTf(
        `taken:${child}`,
        `not publishing the ${pair.source}:${pair.target} estimate on /tf: frame '${child}' already exists on /tf or /tf_static (change tf.child_frame_suffix)`,
      );
      return;
    }
    pair.tfRefused = null;
    this.#tf.published(parent, child, target.stamp);
    this.#emit({
      topic: '/tf',
      message: {
        transforms: [
          {
            header: { stamp: nsToTime(target.stamp), frame_id: parent },
            child_frame_id: child,
            transform: { translation: { x: 0, y: 0, z: 0 }, rotation: { ...rotation } },
          },
        ],
      },
    });
  }

  #warnTf(id: string, message: string): void {
    if (this.#tfWarned.has(id)) return;
    this.#tfWarned.add(id);
    this.#logger.warn(message);
  }

  #emit(output: NodeOutput): void {
    if (!this.#onOutput) return;
    try {
      this.#onOutput(output);
    } catch (error) {
      this.#outputErrors += 1;
      this.#logger.error(`publishing on ${output.topic} failed: ${errorText(error)}`);
    }
  }

  #backendStats(): BackendStats | null {
    try {
      return this.#backend.stats?.() ?? null;
    } catch (error) {
      return { state: `stats failed: ${errorText(error)}` };
    }
  }
}
