/**
 * The model for the ROS node: the engine in a worker thread (EngineClient), so inference never
 * blocks rclnodejs's executor; subscriptions, services and diagnostics keep flowing meanwhile.
 */
import { existsSync } from 'node:fs';
import type { NodeConfig } from '../config/schema.js';
import { ImagePreparePool } from '../image/prepare-pool.js';
import { bundledModelDir } from '../model/bundled.js';
import { EngineClient } from '../model/engine-client.js';
import { engineOptionsFromConfig } from '../model/engine-options.js';
import { warmUpBackend } from '../node/warm-up.js';
import type { RosBackend } from './adapter.js';

/** `model.path` is empty (the bundled model) and no bundled model is installed. */
export class ModelPathError extends Error {
  override readonly name = 'ModelPathError';
  constructor(readonly bundledDir: string) {
    super(
      `model.path is empty and the bundled model is missing at ${bundledDir}: set model.path to an ONNX ` +
        'model folder (transformers.js layout), e.g. `--ros-args -p model.path:=/models/actial-7b-onnx`',
    );
  }
}

/** The model folder `model.path` names: itself, or the bundled model when empty (which must exist). */
export function resolveModelPath(path: string, bundledDir: string = bundledModelDir()): string {
  if (path !== '') return path;
  if (!existsSync(bundledDir)) throw new ModelPathError(bundledDir);
  return bundledDir;
}

/** A model that loaded but failed its first requests (see `model.warm_up`). */
export class ModelWarmUpError extends Error {
  override readonly name = 'ModelWarmUpError';
  constructor(cause: unknown) {
    super(`model warm-up failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * Loads `model.*` of the config into an {@link EngineClient} (worker thread), and starts
 * `image.prepare_threads` threads that decode and preprocess frames (none for 0), then warms the
 * model up (`model.warm_up`, see {@link warmUpBackend}); `close` stops both.
 */
export async function createWorkerBackend(
  config: NodeConfig,
  log: (line: string) => void = () => undefined,
): Promise<RosBackend> {
  const model = { ...config.model, path: resolveModelPath(config.model.path) };
  const threads = config.image.prepare_threads;
  const pool =
    threads > 0
      ? await ImagePreparePool.create({
          threads,
          logger: (entry) => log(`image threads: ${entry.message}`),
        })
      : undefined;
  let engine: EngineClient;
  try {
    engine = await EngineClient.create({
      ...engineOptionsFromConfig(model),
      logger: (entry) => log(`engine worker: ${entry.message}`),
    });
  } catch (error) {
    await pool?.close();
    throw error;
  }
  if (model.warm_up) {
    try {
      const { scoringMs, generationMs } = await warmUpBackend(engine, config);
      log(`model warm-up: scoring ${scoringMs.toFixed(0)} ms, generation ${generationMs.toFixed(0)} ms`);
    } catch (error) {
      await Promise.all([engine.dispose(), pool?.close()]);
      throw new ModelWarmUpError(error);
    }
  }
  return {
    scoreQuestions: (request) => engine.scoreQuestions(request),
    generate: (request) => engine.generate(request),
    executionProvider: engine.executionProvider,
    fallbackReason: engine.fallbackReason,
    modelFiles: engine.modelFiles,
    sharedImageMemory: true,
    ...(pool ? { prepareImage: pool.prepare } : {}),
    stats: () => {
      const prepare = pool?.stats();
      return {
        ...engine.stats(),
        prepareThreads: prepare?.threads ?? 0,
        prepareThreadRestarts: prepare?.restarts ?? 0,
      };
    },
    close: async () => {
      await Promise.all([engine.dispose(), pool?.close()]);
    },
  };
}
