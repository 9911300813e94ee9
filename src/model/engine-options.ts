import type { ModelConfig } from '../config/schema.js';
import { RequestError } from './errors.js';
import type { GraphName, ModelDtype } from './folder.js';
import type { ModelRunnerOptions } from './runner.js';

/** Options of `Engine.create`. */
export interface EngineOptions extends ModelRunnerOptions {
  /** Model folder in the transformers.js v4 layout. */
  readonly modelDir: string;
  /** Which ONNX files to load: a dtype, or `auto` (default; see `LoadModelFolderOptions.dtype`). */
  readonly dtype?: ModelDtype | 'auto';
  /** The dtype of single graphs, over `dtype`. */
  readonly graphDtypes?: Partial<Record<GraphName, ModelDtype>>;
  /** Largest prompt + answer in tokens; 0 or absent: config.json `max_position_embeddings`. */
  readonly maxContextTokens?: number;
  /** Budget of the vision-feature cache in MiB (default 256; 0 disables it). */
  readonly visionCacheMib?: number;
  /**
   * Budget in MiB (default 32; 0 disables it) of the KV caches of prompt text before the first
   * image (system prompt, user header), kept across requests so that their prefill starts after it.
   */
  readonly prefixCacheMib?: number;
  /** Generation length when a request does not say (default 256). */
  readonly maxNewTokens?: number;
}

/** Refuses option values the engine cannot use, naming the option and the value. */
export function checkEngineOptions(options: EngineOptions): void {
  const whole = (name: keyof EngineOptions, min: number): void => {
    const value = options[name];
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= min)) {
      throw new RequestError(`${name} must be a whole number >= ${min}, got ${String(value)}`);
    }
  };
  whole('maxContextTokens', 0);
  whole('visionCacheMib', 0);
  whole('prefixCacheMib', 0);
  whole('maxNewTokens', 1);
}

/**
 * Engine options from the node's `model` parameters (`max_pixels`/`min_pixels` go to image
 * preprocessing and `timeout_s` to the worker host, not here). `path` must be set.
 */
export function engineOptionsFromConfig(config: ModelConfig): EngineOptions {
  if (!config.path) throw new RequestError('model.path is empty: give the ONNX model folder');
  return {
    modelDir: config.path,
    dtype: config.dtype,
    graphDtypes: setGraphDtypes({
      visionEncoder: config.vision_dtype,
      embedTokens: config.embed_dtype,
      decoder: config.decoder_dtype,
    }),
    device: config.device,
    deviceId: config.device_id,
    maxContextTokens: config.max_context_tokens,
    visionCacheMib: config.vision_cache_mib,
    prefixCacheMib: config.prefix_cache_mib,
    maxNewTokens: config.max_new_tokens,
  };
}

/**
 * The graph dtypes that are set ('' or absent: not set; the `model.*_dtype` parameters, the CLI's
 * `--*-dtype` options), as {@link EngineOptions.graphDtypes}.
 */
export function setGraphDtypes(
  dtypes: Readonly<Record<GraphName, ModelDtype | '' | undefined>>,
): Partial<Record<GraphName, ModelDtype>> {
  const set: Partial<Record<GraphName, ModelDtype>> = {};
  for (const [graph, dtype] of Object.entries(dtypes) as [GraphName, ModelDtype | '' | undefined][]) {
    if (dtype) set[graph] = dtype;
  }
  return set;
}
