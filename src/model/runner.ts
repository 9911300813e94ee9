import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelImage } from '../image/types.js';
import { ByteLruCache } from './byte-lru.js';
import { ModelLoadError, RequestError } from './errors.js';
import { float16ToFloat32, float32ToFloat16 } from './float16.js';
import type { ModelFolder } from './folder.js';

/** Where onnxruntime runs the graphs. */
export type ExecutionProvider = 'cpu' | 'cuda';

/** Options of {@link ModelRunner.create}. */
export interface ModelRunnerOptions {
  /** Execution provider to use; `cuda` falls back to `cpu` when unavailable (default `cpu`). */
  readonly device?: ExecutionProvider;
  /** CUDA device index (default 0). */
  readonly deviceId?: number;
  /** Threads per onnxruntime operator; 0 or absent: onnxruntime's default (one per physical core). */
  readonly intraOpThreads?: number;
  /**
   * Let onnxruntime's idle worker threads spin instead of sleeping (its own default). Off by
   * default: on a robot's shared CPU, spinning threads starve other nodes and, when cores are
   * oversubscribed, slow onnxruntime itself.
   */
  readonly spinWait?: boolean;
  /** Receives the one line saying which execution provider runs and why (default: stderr). */
  readonly log?: (line: string) => void;
}

/** Float tensor contents as a graph takes them: float32, or float16 as raw bits. */
export type FloatData = Float32Array | Uint16Array;

/** Vision encoder output for one image: `tokens` rows of `hidden` values (structured-cloneable). */
export interface ImageFeatures {
  readonly data: FloatData;
  readonly tokens: number;
  readonly hidden: number;
}

/** Key/value cache of the decoder after `length` tokens; tensors in the decoder's past-input order. */
export interface KvCache {
  readonly length: number;
  readonly tensors: readonly ort.Tensor[];
}

/** One decoder pass over tokens [start, end) of a sequence, continuing `cache` (which holds [0, start)). */
export interface ForwardInput {
  /** The whole expanded sequence (image placeholders already repeated). */
  readonly ids: readonly number[];
  /** M-RoPE positions of the segment [start, end), [3, end - start] row-major. */
  readonly positionIds: BigInt64Array;
  /** Features of every image of `ids`, in order (only those with tokens in [start, end) are read). */
  readonly images: readonly ImageFeatures[];
  readonly start: number;
  readonly end: number;
  readonly cache: KvCache;
  /** Logit rows wanted, for the last positions of the segment; 0 = every position. */
  readonly logitsToKeep: number;
}

/** Logits of the last `rows` positions of the segment ([rows, vocab], float32). */
export interface LogitsOutput {
  readonly logits: Float32Array;
  readonly rows: number;
}

/** The logits and the extended cache. */
export interface ForwardOutput extends LogitsOutput {
  readonly cache: KvCache;
}

type FloatType = 'float32' | 'float16';

function floatType(metadata: ort.InferenceSession.ValueMetadata | undefined, what: string, file: string) {
  const type = metadata?.isTensor ? metadata.type : undefined;
  if (type !== 'float32' && type !== 'float16') {
    throw new ModelLoadError(file, `${file}: ${what} must be float32 or float16, found ${type ?? 'none'}`);
  }
  return type as FloatType;
}

/** The default log of the engine and the runner: one line to stderr. */
export function logToStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * A float tensor's contents as FloatData. Where the runtime has `Float16Array` (Node >= 24),
 * onnxruntime-common hands float16 outputs over as one; they are read as their raw bits instead.
 */
export function floatData(tensor: ort.Tensor): FloatData {
  const data = tensor.data as ArrayBufferView & { readonly length: number };
  if (data instanceof Float32Array || data instanceof Uint16Array) return data;
  if (tensor.type === 'float16' && data.byteLength === data.length * 2) {
    return new Uint16Array(data.buffer, data.byteOffset, data.length);
  }
  throw new TypeError(`a ${tensor.type} tensor holds ${data.constructor.name}, not float32 or float16 data`);
}

function toType(data: FloatData, type: FloatType): FloatData {
  if (type === 'float32') return data instanceof Float32Array ? data : float16ToFloat32(data);
  return data instanceof Uint16Array ? data : float32ToFloat16(data);
}

function floatTensor(type: FloatType, data: FloatData, dims: readonly number[]): ort.Tensor {
  const typed = toType(data, type);
  // onnxruntime-node refuses views of a SharedArrayBuffer (EngineClient sends pixels in one): copy those.
  if (!(typed.buffer instanceof SharedArrayBuffer)) return new ort.Tensor(type, typed, dims);
  return typed instanceof Float32Array
    ? new ort.Tensor('float32', typed.slice(), dims)
    : new ort.Tensor('float16', typed.slice(), dims);
}

function tensorFloat32(tensor: ort.Tensor): Float32Array {
  return toType(floatData(tensor), 'float32') as Float32Array;
}

/** Why the CUDA execution provider cannot run here, or null when it may. */
function cudaUnavailableReason(): string | null {
  if (!ort.listSupportedBackends().some((backend) => backend.name === 'cuda')) {
    return `onnxruntime-node ${ort.env.versions.common} on ${process.platform}-${process.arch} has no CUDA execution provider`;
  }
  if (process.platform === 'linux') {
    const require = createRequire(import.meta.url);
    const binDir = join(
      dirname(require.resolve('onnxruntime-node')),
      '..',
      'bin',
      'napi-v6',
      process.platform,
      process.arch,
    );
    const library = join(binDir, 'libonnxruntime_providers_cuda.so');
    if (!existsSync(library)) return `CUDA provider library not installed (${library} missing)`;
  }
  return null;
}

interface Sessions {
  readonly vision: ort.InferenceSession;
  readonly embed: ort.InferenceSession;
  readonly decoder: ort.InferenceSession;
}

async function createSession(file: string, options: ort.InferenceSession.SessionOptions) {
  try {
    // By path, so onnxruntime finds external data (`*.onnx_data`) next to the graph.
    return await ort.InferenceSession.create(file, options);
  } catch (error) {
    throw new ModelLoadError(file, `cannot load ONNX graph ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function createSessions(folder: ModelFolder, options: ort.InferenceSession.SessionOptions) {
  const created: ort.InferenceSession[] = [];
  try {
    for (const file of [folder.graphs.visionEncoder, folder.graphs.embedTokens, folder.graphs.decoder]) {
      created.push(await createSession(file, options));
    }
  } catch (error) {
    await Promise.all(created.map((s) => s.release()));
    throw error;
  }
  const [vision, embed, decoder] = created as [
    ort.InferenceSession,
    ort.InferenceSession,
    ort.InferenceSession,
  ];
  return { vision, embed, decoder } satisfies Sessions;
}

/** Budget of the embedding rows kept for single-token decode steps (saves one session run per token). */
const EMBED_ROW_CACHE_BYTES = 8 * 1024 * 1024;

/**
 * The three ONNX graphs of a Qwen2.5-VL model on onnxruntime-node: vision encoder, token
 * embedding and decoder with KV cache. Knows tensors and graph contracts, not prompts.
 */
export class ModelRunner {
  readonly folder: ModelFolder;
  /** Execution provider the sessions run on. */
  readonly executionProvider: ExecutionProvider;
  /** Why `cuda` was asked for but `cpu` runs; null otherwise. */
  readonly fallbackReason: string | null;
  /** Whether the decoder takes `num_logits_to_keep` (logits only for the last positions). */
  readonly hasLogitsToKeep: boolean;
  readonly vocabSize: number;
  readonly #sessions: Sessions;
  readonly #pixelType: FloatType;
  readonly #gridInput: string;
  readonly #featuresOutput: string;
  readonly #embedType: FloatType;
  /** The decoder's `inputs_embeds` type: the embedding's, unless the graphs have different dtypes. */
  readonly #decoderEmbedType: FloatType;
  readonly #hidden: number;
  readonly #pastInputs: readonly string[];
  readonly #presentOutputs: readonly string[];
  readonly #emptyCache: KvCache;
  readonly #hasCacheBranch: boolean;
  readonly #embedRows = new ByteLruCache<FloatData>(EMBED_ROW_CACHE_BYTES, (row) => row.byteLength);
  #onesMask = new BigInt64Array(0);

  private constructor(
    folder: ModelFolder,
    sessions: Sessions,
    provider: ExecutionProvider,
    reason: string | null,
  ) {
    this.folder = folder;
    this.#sessions = sessions;
    this.executionProvider = provider;
    this.fallbackReason = reason;
    const { vision, embed, decoder } = sessions;
    const { graphs, dims } = folder;

    const visionInputs = new Map(vision.inputMetadata.map((m) => [m.name, m]));
    this.#pixelType = floatType(
      visionInputs.get('pixel_values'),
      "input 'pixel_values'",
      graphs.visionEncoder,
    );
    const gridInput = ['image_grid_thw', 'grid_thw'].find((name) => visionInputs.has(name));
    if (!gridInput)
      throw new ModelLoadError(graphs.visionEncoder, `${graphs.visionEncoder}: no 'image_grid_thw' input`);
    this.#gridInput = gridInput;
    this.#featuresOutput = vision.outputNames.includes('image_features')
      ? 'image_features'
      : (vision.outputNames[0] as string);

    if (!embed.inputNames.includes('input_ids')) {
      throw new ModelLoadError(graphs.embedTokens, `${graphs.embedTokens}: no 'input_ids' input`);
    }
    this.#embedType = floatType(embed.outputMetadata[0], 'its output', graphs.embedTokens);
    this.#hidden = dims.hiddenSize;

    for (const name of ['inputs_embeds', 'attention_mask', 'position_ids']) {
      if (!decoder.inputNames.includes(name)) {
        throw new ModelLoadError(
          graphs.decoder,
          `${graphs.decoder}: no '${name}' input${name === 'position_ids' ? ' (M-RoPE needs it)' : ''}`,
        );
      }
    }
    this.#decoderEmbedType = floatType(
      decoder.inputMetadata.find((m) => m.name === 'inputs_embeds'),
      "input 'inputs_embeds'",
      graphs.decoder,
    );
    if (!decoder.outputNames.includes('logits')) {
      throw new ModelLoadError(graphs.decoder, `${graphs.decoder}: no 'logits' output`);
    }
    const pastMeta = decoder.inputMetadata.filter((m) => m.name.startsWith('past_key_values.'));
    if (pastMeta.length !== 2 * dims.numLayers) {
      throw new ModelLoadError(
        graphs.decoder,
        `${graphs.decoder}: has ${pastMeta.length} past_key_values inputs, config.json says ${dims.numLayers} layers (${2 * dims.numLayers} expected)`,
      );
    }
    this.#pastInputs = pastMeta.map((m) => m.name);
    this.#presentOutputs = this.#pastInputs.map((name) => {
      const present = name.replace(/^past_key_values\./, 'present.');
      if (!decoder.outputNames.includes(present)) {
        throw new ModelLoadError(
          graphs.decoder,
          `${graphs.decoder}: no '${present}' output for input '${name}'`,
        );
      }
      return present;
    });
    this.#emptyCache = {
      length: 0,
      tensors: pastMeta.map((m) => {
        const type = floatType(m, `input '${m.name}'`, graphs.decoder);
        const shape = m.isTensor ? m.shape : [];
        const heads = typeof shape[1] === 'number' ? shape[1] : dims.numKvHeads;
        const headDim = typeof shape[3] === 'number' ? shape[3] : dims.headDim;
        const data = type === 'float32' ? new Float32Array(0) : new Uint16Array(0);
        return new ort.Tensor(type, data, [1, heads, 0, headDim]);
      }),
    };
    this.hasLogitsToKeep = decoder.inputNames.includes('num_logits_to_keep');
    this.#hasCacheBranch = decoder.inputNames.includes('use_cache_branch');
    const logitsShape = decoder.outputMetadata.find((m) => m.name === 'logits');
    const vocab = logitsShape?.isTensor ? logitsShape.shape[2] : undefined;
    this.vocabSize = typeof vocab === 'number' ? vocab : dims.vocabSize;
  }

  /**
   * Opens the three graphs of `folder`. With `device: 'cuda'` it tries the CUDA execution
   * provider and falls back to CPU (logging why) when the provider is missing or session
   * creation fails. Throws {@link ModelLoadError} naming a graph onnxruntime cannot load.
   */
  static async create(folder: ModelFolder, options: ModelRunnerOptions = {}): Promise<ModelRunner> {
    const log = options.log ?? logToStderr;
    const base: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
      ...(options.spinWait ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
    };
    let reason: string | null = null;
    let cuda: Sessions | null = null;
    const deviceId = options.deviceId ?? 0;
    if (options.device === 'cuda') {
      reason = cudaUnavailableReason();
      if (reason === null) {
        try {
          cuda = await createSessions(folder, { ...base, executionProviders: [{ name: 'cuda', deviceId }] });
        } catch (error) {
          reason = `CUDA session creation failed: ${(error as Error).message}`;
        }
      }
    }
    if (cuda) log(`onnxruntime: running on CUDA device ${deviceId} (device cuda requested)`);
    else if (reason) log(`onnxruntime: running on CPU although device cuda was requested: ${reason}`);
    else log('onnxruntime: running on CPU (device cpu requested)');
    const sessions = cuda ?? (await createSessions(folder, { ...base, executionProviders: ['cpu'] }));
    try {
      return new ModelRunner(folder, sessions, cuda ? 'cuda' : 'cpu', reason);
    } catch (error) {
      await Promise.all(Object.values(sessions).map((s: ort.InferenceSession) => s.release()));
      throw error;
    }
  }

  /** The cache before the first token. */
  emptyCache(): KvCache {
    return this.#emptyCache;
  }

  /**
   * The first `length` positions of `cache`, copied: a causal decoder's keys and values at a
   * position depend only on the tokens up to it, so this is the cache of that prefix.
   */
  cachePrefix(cache: KvCache, length: number): KvCache {
    if (!Number.isInteger(length) || length < 0 || length > cache.length) {
      throw new RangeError(`cache prefix of ${length} tokens asked from a cache of ${cache.length}`);
    }
    return {
      length,
      tensors: cache.tensors.map((tensor) => {
        const [batch = 1, heads = 0, total = 0, headDim = 0] = tensor.dims;
        const data = floatData(tensor);
        const out =
          data instanceof Float32Array
            ? new Float32Array(batch * heads * length * headDim)
            : new Uint16Array(batch * heads * length * headDim);
        for (let row = 0; row < batch * heads; row++) {
          out.set(
            data.subarray(row * total * headDim, (row * total + length) * headDim),
            row * length * headDim,
          );
        }
        return floatTensor(tensor.type as FloatType, out, [batch, heads, length, headDim]);
      }),
    };
  }

  /** Runs the vision encoder on one image; features are in the embedding's float type. */
  async encodeImage(image: ModelImage): Promise<ImageFeatures> {
    const [t, h, w] = image.gridThw;
    const patches = t * h * w;
    const rowLength = image.pixelValues.length / patches;
    if (!Number.isInteger(rowLength) || rowLength <= 0) {
      throw new RequestError(
        `image pixelValues has ${image.pixelValues.length} values, not a whole number of rows for grid [${t}, ${h}, ${w}]`,
      );
    }
    const outputs = await this.#sessions.vision.run({
      pixel_values: floatTensor(this.#pixelType, image.pixelValues, [patches, rowLength]),
      [this.#gridInput]: new ort.Tensor('int64', BigInt64Array.from([t, h, w], BigInt), [1, 3]),
    });
    const features = outputs[this.#featuresOutput] as ort.Tensor;
    const [tokens = 0, hidden = 0] = features.dims;
    return { data: toType(floatData(features), this.#embedType), tokens, hidden };
  }

  /** One decoder pass; see {@link ForwardInput}. */
  async forward(input: ForwardInput): Promise<ForwardOutput> {
    const { outputs, logits } = await this.#pass(input, null);
    return {
      ...logits,
      cache: { length: input.end, tensors: this.#presentOutputs.map((name) => outputs[name] as ort.Tensor) },
    };
  }

  /**
   * One decoder pass that fetches only the logits, for a pass whose KV cache nobody continues (the
   * last pass of option scoring): the `present.*` outputs are not copied out of onnxruntime, which
   * on CUDA saves moving the whole cache to host memory.
   */
  async forwardLogits(input: ForwardInput): Promise<LogitsOutput> {
    return (await this.#pass(input, ['logits'])).logits;
  }

  async #pass(
    input: ForwardInput,
    fetches: readonly string[] | null,
  ): Promise<{ outputs: ort.InferenceSession.ReturnType; logits: LogitsOutput }> {
    const { start, end, cache } = input;
    if (cache.length !== start) {
      throw new RangeError(`forward from ${start} needs a cache of ${start} tokens, got ${cache.length}`);
    }
    const length = end - start;
    if (length <= 0) throw new RangeError(`forward over an empty segment [${start}, ${end})`);
    if (input.positionIds.length !== 3 * length) {
      throw new RangeError(
        `forward over ${length} tokens needs ${3 * length} position ids, got ${input.positionIds.length}`,
      );
    }
    const total = end;
    const embeds = await this.#embed(input);
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: floatTensor(this.#decoderEmbedType, embeds, [1, length, this.#hidden]),
      attention_mask: new ort.Tensor('int64', this.#ones(total), [1, total]),
      position_ids: new ort.Tensor('int64', input.positionIds, [3, 1, length]),
    };
    this.#pastInputs.forEach((name, i) => (feeds[name] = cache.tensors[i] as ort.Tensor));
    const keep = input.logitsToKeep > 0 ? Math.min(input.logitsToKeep, length) : length;
    if (this.hasLogitsToKeep) {
      feeds.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.of(BigInt(keep)), []);
    }
    if (this.#hasCacheBranch) feeds.use_cache_branch = new ort.Tensor('bool', [start > 0], [1]);

    const outputs = await (fetches
      ? this.#sessions.decoder.run(feeds, [...fetches])
      : this.#sessions.decoder.run(feeds));
    const logitsTensor = outputs.logits as ort.Tensor;
    const rowsOut = logitsTensor.dims[1] ?? 0;
    const vocab = logitsTensor.dims[2] ?? this.vocabSize;
    let logits = tensorFloat32(logitsTensor);
    if (rowsOut > keep) logits = logits.subarray((rowsOut - keep) * vocab);
    return { outputs, logits: { logits, rows: Math.min(rowsOut, keep) } };
  }

  /** Releases the onnxruntime sessions. */
  async dispose(): Promise<void> {
    await Promise.all(Object.values(this.#sessions).map((s: ort.InferenceSession) => s.release()));
  }

  #ones(length: number): BigInt64Array {
    if (this.#onesMask.length < length)
      this.#onesMask = new BigInt64Array(Math.max(length, 2 * this.#onesMask.length)).fill(1n);
    return this.#onesMask.subarray(0, length);
  }

  /** Embeddings of ids[start, end) with image features written over the image tokens. */
  async #embed({ ids, images, start, end }: ForwardInput): Promise<FloatData> {
    const imageTokenId = this.folder.tokenIds.imageTokenId;
    const hidden = this.#hidden;
    if (end - start === 1 && ids[start] !== imageTokenId) {
      const id = ids[start] as number;
      const key = String(id);
      const cached = this.#embedRows.get(key);
      if (cached) return cached;
      const row = await this.#runEmbed(ids, start, end);
      this.#embedRows.set(key, row);
      return row;
    }
    const embeds = await this.#runEmbed(ids, start, end);
    let ordinal = 0;
    for (let i = 0; i < start; i++) if (ids[i] === imageTokenId) ordinal++;
    let image = 0;
    let imageStart = 0;
    for (let i = start; i < end; i++) {
      if (ids[i] !== imageTokenId) continue;
      while (image < images.length && ordinal >= imageStart + (images[image] as ImageFeatures).tokens) {
        imageStart += (images[image] as ImageFeatures).tokens;
        image++;
      }
      const features = images[image];
      if (!features) throw new RequestError(`image token ${ordinal} at index ${i} has no image features`);
      if (features.hidden !== hidden) {
        throw new RequestError(`image features have width ${features.hidden}, the language model ${hidden}`);
      }
      const row = ordinal - imageStart;
      embeds.set(features.data.subarray(row * hidden, (row + 1) * hidden), (i - start) * hidden);
      ordinal++;
    }
    return embeds;
  }

  async #runEmbed(ids: readonly number[], start: number, end: number): Promise<FloatData> {
    const inputIds = new BigInt64Array(end - start);
    for (let i = start; i < end; i++) inputIds[i - start] = BigInt(ids[i] as number);
    const outputs = await this.#sessions.embed.run({
      input_ids: new ort.Tensor('int64', inputIds, [1, end - start]),
    });
    return floatData(outputs[this.#sessions.embed.outputNames[0] as string] as ort.Tensor);
  }
}
