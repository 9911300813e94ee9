import type {
  AskResult,
  ChoiceScores,
  GenerationOptions,
  PromptRequest,
  QuestionSetRequest,
  Timings,
} from '../model/engine.js';
import type { PrepareImage } from './frames.js';

/** What a host of the model reports for diagnostics (a worker-thread client fills more than an in-process engine). */
export interface BackendStats {
  /** e.g. `ready`, `restarting`, `failed`. */
  readonly state?: string;
  /** Model hosts started after the first (crashes, stuck requests). */
  readonly restarts?: number;
  readonly lastRestartReason?: string | null;
  /** Threads preparing frames (see `prepareImage`); absent or 0: the node's own thread. */
  readonly prepareThreads?: number;
  /** Frame-preparation threads started again after a crash. */
  readonly prepareThreadRestarts?: number;
}

/**
 * The model as the node core uses it. `Engine` (src/model/engine.ts) satisfies it structurally, and
 * so does an engine client running the engine in a worker thread. Every method must honour
 * `signal` (reject with its reason once aborted) and must not block the caller's thread for long.
 */
export interface InferenceBackend {
  /** Multiple-choice scoring of several questions over the same images. */
  scoreQuestions(request: QuestionSetRequest): Promise<{
    readonly results: readonly Pick<ChoiceScores, 'probabilities' | 'choiceIndex'>[];
    /** Where the model's time went (the engine gives it; optional for other backends). */
    readonly timings?: Timings;
  }>;
  /** Free-form generation; `onToken` streams the pieces. */
  generate(
    request: PromptRequest & GenerationOptions,
  ): Promise<Pick<AskResult, 'text' | 'finishReason'> & { readonly timings?: Timings }>;
  /** Execution provider the model runs on (`cpu`, `cuda`); absent: reported as `unknown`. */
  readonly executionProvider?: string;
  /** Why a GPU was asked for but another provider runs; null or absent: none. */
  readonly fallbackReason?: string | null;
  /** The model's files and their dtypes, for diagnostics; absent: not known. */
  readonly modelFiles?: string;
  /**
   * The model runs in another thread and takes image pixels in shared memory without copying them
   * (EngineClient): the node then preprocesses frames straight into a SharedArrayBuffer.
   */
  readonly sharedImageMemory?: boolean;
  /**
   * Decodes and preprocesses frames off the node's thread (a pool of worker threads, see
   * ImagePreparePool); absent: the node core does it on its own thread.
   */
  readonly prepareImage?: PrepareImage;
  /** Host counters for diagnostics; absent for an in-process engine. */
  stats?(): BackendStats;
}
