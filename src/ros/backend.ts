/**
 * The model for the ROS node: the engine in a worker thread (EngineClient), so inference never
 * blocks rclnodejs's executor; subscriptions, services and diagnostics keep flowing meanwhile.
 */
import type { NodeConfig } from '../config/schema.js';
import { EngineClient } from '../model/engine-client.js';
import type { RosBackend } from './adapter.js';

/** A configuration that names no model this factory can load. */
export class ModelPathError extends Error {
  override readonly name = 'ModelPathError';
  constructor(readonly path: string) {
    super(
      `model.path is ${path === '' ? 'empty' : `'${path}'`}: set it to an ONNX model folder ` +
        '(transformers.js layout), e.g. `--ros-args -p model.path:=/models/actial-7b-onnx`',
    );
  }
}

/** Loads `model.*` of the config into an {@link EngineClient} (worker thread); `close` stops it. */
export async function createWorkerBackend(
  config: NodeConfig,
  log: (line: string) => void = () => undefined,
): Promise<RosBackend> {
  const model = config.model;
  if (model.path === '') throw new ModelPathError(model.path);
  const engine = await EngineClient.create({
    modelDir: model.path,
    dtype: model.dtype,
    device: model.device,
    deviceId: model.device_id,
    maxContextTokens: model.max_context_tokens,
    visionCacheMib: model.vision_cache_mib,
    maxNewTokens: model.max_new_tokens,
    logger: (entry) => log(`engine worker: ${entry.message}`),
  });
  return {
    scoreQuestions: (request) => engine.scoreQuestions(request),
    generate: (request) => engine.generate(request),
    executionProvider: engine.executionProvider,
    fallbackReason: engine.fallbackReason,
    sharedImageMemory: true,
    stats: () => engine.stats(),
    close: () => engine.dispose(),
  };
}
