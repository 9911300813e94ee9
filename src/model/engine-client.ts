import type {
  AskResult,
  ChoiceOptions,
  ChoiceResult,
  EngineImage,
  GenerationOptions,
  PromptRequest,
  QuestionSetRequest,
  QuestionSetResult,
} from './engine.js';
import type { EngineDescription, EngineHandler, EngineInit } from './engine-handler.js';
import {
  ChoiceError,
  ContextLengthError,
  ModelFolderError,
  ModelLoadError,
  RequestError,
  TokenizerError,
} from './errors.js';
import {
  InferenceWorker,
  type InferenceWorkerLogEntry,
  type InferenceWorkerStats,
  type RemoteErrorInfo,
} from './worker/index.js';

/** Options of {@link EngineClient.create}: the engine's own, plus how the worker host behaves. */
export interface EngineClientOptions extends EngineInit {
  /** Requests that may wait behind the running one (default 16). */
  readonly maxQueue?: number;
  /** Deadline of a request that sets none, queueing included (default: none). */
  readonly defaultTimeoutMs?: number;
  /**
   * How long a cancelled request may take to stop before its worker is replaced; keep it above the
   * longest single model pass (default 15 s).
   */
  readonly abortGraceMs?: number;
  /** Worker lifecycle messages (start, crash, restart). */
  readonly logger?: (entry: InferenceWorkerLogEntry) => void;
}

/** Rebuilds the model layer's own errors from their structured-cloned form. */
export function reviveModelError(remote: RemoteErrorInfo): Error | undefined {
  const data = remote.data ?? {};
  const str = (key: string): string => String(data[key] ?? '');
  switch (remote.name) {
    case 'ModelFolderError':
      return new ModelFolderError(str('file'), remote.message);
    case 'ModelLoadError':
      return new ModelLoadError(str('file'), remote.message);
    case 'TokenizerError':
      return new TokenizerError(remote.message);
    case 'RequestError':
      return new RequestError(remote.message);
    case 'ContextLengthError':
      return new ContextLengthError(Number(data.promptTokens), Number(data.limit));
    case 'ChoiceError':
      return new ChoiceError(data.choice === null ? null : str('choice'), remote.message);
    default:
      return undefined;
  }
}

function split<T extends { readonly signal?: AbortSignal }>(
  request: T,
): [Omit<T, 'signal'>, AbortSignal | undefined] {
  const { signal, ...rest } = request;
  return [rest, signal];
}

/**
 * Pixels of the images sent so far, in shared memory, by the array they copy. A 448x448 image is
 * 4.8 MB of float32: structured cloning copied it twice per request (serialise, deserialise), and
 * the node sends each frame pair twice (both directions). Shared, it crosses once and for free; it
 * cannot be transferred instead, since the caller keeps using its frames. Entries go with the array.
 */
const sharedPixels = new WeakMap<Float32Array, Float32Array>();

function sharePixels(values: Float32Array): Float32Array {
  if (values.buffer instanceof SharedArrayBuffer) return values;
  let shared = sharedPixels.get(values);
  if (shared === undefined) {
    shared = new Float32Array(new SharedArrayBuffer(values.byteLength));
    shared.set(values);
    sharedPixels.set(values, shared);
  }
  return shared;
}

/** The request with its images' pixels in shared memory (see {@link sharePixels}). */
function withSharedImages<T extends { readonly images: readonly EngineImage[] }>(request: T): T {
  return {
    ...request,
    images: request.images.map((entry) => ({
      ...entry,
      image: { ...entry.image, pixelValues: sharePixels(entry.image.pixelValues) },
    })),
  };
}

/**
 * The engine in a worker thread, with the in-process {@link Engine}'s request and result types:
 * onnxruntime's blocking runs never stall the caller's event loop. Requests run one at a time in
 * order; `signal` cancels (between decoder passes), a crashed worker is restarted and its request
 * fails with WorkerCrashedError. An image's `pixelValues` must not be changed once given to a
 * request: the client keeps one shared-memory copy per array (see {@link sharePixels}), so a new
 * image needs a new array.
 */
export class EngineClient {
  readonly #worker: InferenceWorker<EngineHandler>;
  /** Folder, execution provider and limits of the loaded model. */
  readonly description: EngineDescription;

  private constructor(worker: InferenceWorker<EngineHandler>, description: EngineDescription) {
    this.#worker = worker;
    this.description = description;
  }

  /** Starts the worker, loads the model in it (rejects with the load error) and reads what runs. */
  static async create(options: EngineClientOptions): Promise<EngineClient> {
    const { maxQueue, defaultTimeoutMs, abortGraceMs, logger, ...init } = options;
    const worker = await InferenceWorker.create<EngineHandler>({
      module: new URL('./engine-worker.js', import.meta.url),
      name: 'engine',
      init,
      maxQueue: maxQueue ?? 16,
      defaultTimeoutMs: defaultTimeoutMs ?? Infinity,
      abortGraceMs: abortGraceMs ?? 15_000,
      reviveError: reviveModelError,
      ...(logger ? { logger } : {}),
    });
    try {
      return new EngineClient(worker, await worker.call('describe', undefined));
    } catch (error) {
      await worker.close({ cancel: true });
      throw error;
    }
  }

  get executionProvider(): string {
    return this.description.executionProvider;
  }

  /** The graph files and their dtypes. */
  get modelFiles(): string {
    return this.description.modelFiles;
  }

  get fallbackReason(): string | null {
    return this.description.fallbackReason;
  }

  scoreQuestions(request: QuestionSetRequest): Promise<QuestionSetResult> {
    const [params, signal] = split(withSharedImages(request));
    return this.#worker.call('scoreQuestions', params, signal ? { signal } : {});
  }

  scoreChoices(request: PromptRequest & ChoiceOptions): Promise<ChoiceResult> {
    const [params, signal] = split(withSharedImages(request));
    return this.#worker.call('scoreChoices', params, signal ? { signal } : {});
  }

  ask(request: PromptRequest & GenerationOptions & { readonly choices?: ChoiceOptions }): Promise<AskResult> {
    const { onToken, ...rest } = request;
    const [params, signal] = split(withSharedImages(rest));
    return this.#worker.call('ask', params, {
      ...(signal ? { signal } : {}),
      ...(onToken ? { onEvent: onToken } : {}),
    });
  }

  generate(request: PromptRequest & GenerationOptions): Promise<AskResult> {
    return this.ask({ ...request, choices: undefined });
  }

  /** Worker host counters (queue, restarts, latencies). */
  stats(): InferenceWorkerStats {
    return this.#worker.stats();
  }

  /** Cancels what is pending and stops the worker (the engine's sessions are released there). */
  async dispose(): Promise<void> {
    await this.#worker.close({ cancel: true });
  }
}
