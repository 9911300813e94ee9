// sharp's shared libraries must stay loaded in the main thread, or a worker thread that exits
// unloads them under the others (sharp's documentation, "worker threads").
import 'sharp';

import {
  InferenceWorker,
  type InferenceWorkerLogEntry,
  type RemoteErrorInfo,
} from '../model/worker/index.js';
import { ImageDecodeError, type ImageErrorCode } from './errors.js';
import type { ImageSource, PrepareOptions } from './prepare.js';
import type { PrepareHandler, PrepareRequest, PrepareWorkerInit } from './prepare-worker.js';
import type { ModelImage } from './types.js';

/** Options of {@link ImagePreparePool.create}. */
export interface ImagePreparePoolOptions {
  /** Worker threads, at least 1. Two frames of a pair are prepared in parallel with 2. */
  readonly threads: number;
  /** Requests that may wait behind the running one, per thread; further ones are refused. Default 16. */
  readonly maxQueuePerThread?: number;
  /**
   * Prepare a few synthetic 640x480 frames in each thread at start (about 0.1 to 0.3 s), so that
   * the first real frames run compiled code, not the interpreter. Default true.
   */
  readonly warmUp?: boolean;
  /** Receives the threads' lifecycle messages (start, crash, restart). */
  readonly logger?: (entry: InferenceWorkerLogEntry) => void;
}

/** Counters of an {@link ImagePreparePool}, summed over its threads. */
export interface ImagePreparePoolStats {
  readonly threads: number;
  readonly queued: number;
  readonly inFlight: number;
  readonly completed: number;
  readonly failed: number;
  /** Threads started again after a crash. */
  readonly restarts: number;
}

function reviveImageError(remote: RemoteErrorInfo): Error | undefined {
  if (remote.name !== 'ImageDecodeError') return undefined;
  return new ImageDecodeError(remote.code as ImageErrorCode, remote.message);
}

/**
 * The message's fields that decoding reads, with `data` copied into a buffer of its own: a view
 * into a larger buffer (a bag chunk, a middleware pool) would otherwise be cloned whole, and
 * transferring the caller's buffer would take it away from the caller.
 */
function requestFor(source: ImageSource, options: PrepareOptions): [PrepareRequest, ArrayBuffer] {
  const data = new Uint8Array(source.message.data);
  const owned: ImageSource =
    source.kind === 'raw'
      ? {
          kind: 'raw',
          message: {
            height: source.message.height,
            width: source.message.width,
            encoding: source.message.encoding,
            is_bigendian: source.message.is_bigendian,
            step: source.message.step,
            data,
          },
        }
      : { kind: 'compressed', message: { format: source.message.format, data } };
  return [{ source: owned, options }, data.buffer];
}

/**
 * Decodes and preprocesses images in a pool of worker threads, so that the frames of a pair are
 * prepared in parallel and off the caller's event loop. Results are byte for byte those of
 * {@link prepareImage}; a bad image rejects with the same ImageDecodeError (code and message). A
 * crashed thread is restarted and its request rejects with WorkerCrashedError.
 */
export class ImagePreparePool {
  readonly threads: number;
  readonly #workers: readonly InferenceWorker<PrepareHandler>[];
  #next = 0;

  private constructor(workers: readonly InferenceWorker<PrepareHandler>[]) {
    this.#workers = workers;
    this.threads = workers.length;
  }

  static async create(options: ImagePreparePoolOptions): Promise<ImagePreparePool> {
    const { threads } = options;
    if (!Number.isSafeInteger(threads) || threads < 1) {
      throw new RangeError(`image preparation threads must be an integer >= 1, got ${threads}`);
    }
    const started = await Promise.allSettled(
      Array.from({ length: threads }, (_, i) =>
        InferenceWorker.create<PrepareHandler>({
          module: new URL('./prepare-worker.js', import.meta.url),
          name: `image-${i}`,
          init: { warmUp: options.warmUp ?? true } satisfies PrepareWorkerInit,
          maxQueue: options.maxQueuePerThread ?? 16,
          reviveError: reviveImageError,
          ...(options.logger ? { logger: options.logger } : {}),
        }),
      ),
    );
    const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(workers.map((w) => w.close({ cancel: true })));
      throw failed.reason;
    }
    return new ImagePreparePool(workers);
  }

  /**
   * Decodes and preprocesses one image in the least busy thread (see prepareImage). An arrow
   * property, so that it can be handed on as a function (the node core's `prepareImage`).
   */
  readonly prepare = (source: ImageSource, options: PrepareOptions): Promise<ModelImage> => {
    const [request, buffer] = requestFor(source, options);
    return this.#pick().call('prepare', request, { transfer: [buffer] });
  };

  #pick(): InferenceWorker<PrepareHandler> {
    const count = this.#workers.length;
    let best = this.#workers[this.#next % count] as InferenceWorker<PrepareHandler>;
    let bestLoad = Infinity;
    for (let i = 0; i < count; i++) {
      const worker = this.#workers[(this.#next + i) % count] as InferenceWorker<PrepareHandler>;
      const { queued, inFlight } = worker.stats();
      if (queued + inFlight < bestLoad) {
        best = worker;
        bestLoad = queued + inFlight;
      }
    }
    this.#next = (this.#next + 1) % count;
    return best;
  }

  stats(): ImagePreparePoolStats {
    const all = this.#workers.map((w) => w.stats());
    const sum = (key: 'queued' | 'inFlight' | 'completed' | 'failed' | 'restarts'): number =>
      all.reduce((total, s) => total + s[key], 0);
    return {
      threads: this.threads,
      queued: sum('queued'),
      inFlight: sum('inFlight'),
      completed: sum('completed'),
      failed: sum('failed'),
      restarts: sum('restarts'),
    };
  }

  /** Stops the threads; waiting and running requests reject with WorkerClosedError. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.close({ cancel: true })));
  }
}
