import type { ModelImage } from '../image/types.js';
import { ByteLruCache } from './byte-lru.js';
import { ChatTemplate } from './chat-template.js';
import { ChoiceError, ContextLengthError, RequestError, TokenizerError } from './errors.js';
import { checkEngineOptions, type EngineOptions } from './engine-options.js';
import { describeGraphFiles, loadModelFolder, type ModelFolder } from './folder.js';
import {
  expandImagePlaceholders,
  imageTokenCount,
  mropePositions,
  slicePositions,
  type ImageGrid,
  type ImageTokenLayout,
} from './image-tokens.js';
import { LogitsOps } from './logits-ops.js';
import {
  ModelRunner,
  type ForwardInput,
  type ForwardOutput,
  type LogitsOutput,
  type ImageFeatures,
  type FloatData,
  type KvCache,
  logToStderr,
} from './runner.js';
import { softmax, TokenSampler, type SamplingOptions } from './sampling.js';
import { commonPrefixLength, scoredPrefixLength } from './token-prefix.js';
import { TextTokenizer } from './tokenizer.js';

/** An image for the model, and optionally who it is so that its features can be cached. */
export interface EngineImage {
  readonly image: ModelImage;
  /**
   * Identity of the frame, e.g. `camera@stamp`. Keyed images are encoded once per preprocessing
   * (grid and resized size are part of the cache key) and reused while they stay in the cache.
   */
  readonly key?: string;
}

/** A question over images, rendered with the model's chat template. */
export interface PromptRequest {
  /** Images in the order they appear in the prompt. */
  readonly images: readonly EngineImage[];
  /** System prompt; empty or absent: none (the chat template may add its own default). */
  readonly system?: string;
  /** The user's text; the images come before it. */
  readonly question?: string;
  /**
   * Instead of `system`/`question`: the prompt text as already rendered, with one `<|image_pad|>`
   * per image (e.g. `<|vision_start|><|image_pad|><|vision_end|>`) and ending with the assistant header.
   */
  readonly prompt?: string;
  /** Cancels the request between decoder passes; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** Multiple-choice scoring of a question. */
export interface ChoiceOptions {
  /** Answer options, scored as the text that follows `answerPrefix` after the prompt. */
  readonly choices: readonly string[];
  /** Text the answer starts with before the choice, e.g. `<answer>` for the Actial format. */
  readonly answerPrefix?: string;
  /** Refuse (with {@link ChoiceError}) choices that are more than one token. */
  readonly singleToken?: boolean;
  /**
   * Also give each choice's full-vocabulary log-probability (`logProbs`); default true. The
   * probabilities do not need it: without it the log-sum-exp over the vocabulary after the prompt
   * (one pass over 152k logits per question) is skipped and `logProbs` is null.
   */
  readonly logProbs?: boolean;
}

/** Probabilities of the choices of one question. */
export interface ChoiceScores {
  readonly choices: readonly string[];
  /** Softmax over the choices' log-probabilities, in the order given; sums to 1. */
  readonly probabilities: number[];
  /** Index of the most probable choice. */
  readonly choiceIndex: number;
  /** Full-vocabulary log-probability of each choice's tokens, summed; null when not asked for (see ChoiceOptions). */
  readonly logProbs: number[] | null;
  /** The tokens scored for each choice (after the part all choices share). */
  readonly tokenIds: number[][];
}

/** A piece of generated output, given to `onToken` as soon as it is sampled. */
export interface GeneratedPiece {
  readonly tokenId: number;
  /**
   * Text this token completes; '' while a multi-byte character is still incomplete. The pieces
   * concatenate to the answer's `text`, but for an incomplete character right before a stop token.
   */
  readonly text: string;
}

/** How to generate. */
export interface GenerationOptions extends SamplingOptions {
  /** Most tokens to generate (default: the engine's `maxNewTokens`); capped by the context limit. */
  readonly maxNewTokens?: number;
  /** Stop tokens besides generation_config.json `eos_token_id`. */
  readonly stopTokenIds?: readonly number[];
  /** Called with each generated token (not the stop token), in order. */
  readonly onToken?: (piece: GeneratedPiece) => void;
  /** Return the logits each token was chosen from (float32, vocabulary-sized). */
  readonly outputLogits?: boolean;
}

/** Where the time of a request went. */
export interface Timings {
  /** Vision encoder time (0 when every image came from the cache). */
  readonly visionMs: number;
  /** Decoder passes over the prompt and the choices. */
  readonly prefillMs: number;
  /** Decoder steps of generation. */
  readonly decodeMs: number;
  readonly totalMs: number;
  /**
   * Prompt tokens, images expanded. Generation: the prompt. Scoring: the tokens the decoder ran,
   * the choices' own tokens included and shared prefixes counted once.
   */
  readonly promptTokens: number;
  /** Tokens sampled, the stop token included. */
  readonly newTokens: number;
}

/** The result of {@link Engine.ask}. */
export interface AskResult {
  /** The rendered prompt text, one placeholder per image (before expansion). */
  readonly prompt: string;
  /** Generated text, special tokens dropped. */
  readonly text: string;
  /** Generated token ids, without the stop token. */
  readonly tokenIds: number[];
  /** `stop`: a stop token came; `length`: maxNewTokens or the context limit was reached. */
  readonly finishReason: 'stop' | 'length';
  /** With `outputLogits`: the logits of each sampled token. */
  readonly logits?: Float32Array[];
  /** With `choices`: their scores, from the same prompt prefill. */
  readonly scores?: ChoiceScores;
  readonly timings: Timings;
}

/** The result of {@link Engine.scoreChoices}. */
export interface ChoiceResult extends ChoiceScores {
  readonly prompt: string;
  readonly timings: Timings;
}

/** Several multiple-choice questions over the same images. */
export interface QuestionSetRequest {
  readonly images: readonly EngineImage[];
  readonly system?: string;
  readonly questions: readonly ({ readonly question: string } & ChoiceOptions)[];
  readonly signal?: AbortSignal;
}

/** The result of {@link Engine.scoreQuestions}: one score set per question, in order. */
export interface QuestionSetResult {
  readonly results: ChoiceScores[];
  readonly timings: Timings;
}

/** A token sequence ready for the decoder; shared through the sequence cache, so never mutated. */
interface Sequence {
  readonly ids: readonly number[];
  readonly positionIds: BigInt64Array;
  readonly ropeDelta: number;
  /**
   * The text before the first image (system prompt, user header) as a key of the prefix cache, and
   * its length in tokens; null without an image or without text before it.
   */
  readonly textHead: { readonly key: string; readonly length: number } | null;
}

/**
 * Budget of the cache of tokenized prompts (expanded ids and M-RoPE positions, about 22 KB for a
 * 700-token prompt). The node asks the same questions about every new frame pair, so tokenizing
 * and computing positions again each time was most of the engine's own CPU time per request.
 */
const SEQUENCE_CACHE_BYTES = 8 * 1024 * 1024;

/** Images of a request, encoded (or taken from the cache). */
interface EncodedImages {
  readonly grids: ImageGrid[];
  readonly features: ImageFeatures[];
}

/** What every decoder pass of one request needs. */
interface RequestState {
  readonly images: EncodedImages;
  readonly signal: AbortSignal | undefined;
  readonly watch: Stopwatch;
}

/** Decoder state after a prefix, and the logits of its last position. */
interface Prefilled {
  readonly cache: KvCache;
  readonly lastLogits: Float32Array;
}

class Stopwatch {
  visionMs = 0;
  prefillMs = 0;
  decodeMs = 0;
  readonly #start = performance.now();

  async time<T>(field: 'visionMs' | 'prefillMs' | 'decodeMs', work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this[field] += performance.now() - start;
    }
  }

  timings(promptTokens: number, newTokens: number): Timings {
    return {
      visionMs: this.visionMs,
      prefillMs: this.prefillMs,
      decodeMs: this.decodeMs,
      totalMs: performance.now() - this.#start,
      promptTokens,
      newTokens,
    };
  }
}

function validateChoices(choices: readonly string[]): void {
  if (choices.length === 0) throw new ChoiceError(null, 'no answer choices given');
  const seen = new Set<string>();
  for (const choice of choices) {
    if (choice.length === 0) throw new ChoiceError(choice, 'an answer choice is the empty string');
    if (seen.has(choice)) throw new ChoiceError(choice, `answer choice '${choice}' is given twice`);
    seen.add(choice);
  }
}

/**
 * Qwen2.5-VL inference in-process: prompt rendering and tokenization, the vision encoder with a
 * per-frame feature cache, multiple-choice scoring with shared prefixes, and generation with a
 * KV cache. Requests and results are plain data (structured-cloneable) apart from `signal` and
 * `onToken`, so a worker thread can host the engine.
 */
export class Engine {
  readonly folder: ModelFolder;
  readonly tokenizer: TextTokenizer;
  /** Largest prompt + answer in tokens (Infinity when neither the options nor the config limit it). */
  readonly contextLimit: number;
  readonly maxNewTokens: number;
  readonly #runner: ModelRunner;
  readonly #forward: (input: ForwardInput) => Promise<ForwardOutput>;
  readonly #forwardLogits: (input: ForwardInput) => Promise<LogitsOutput>;
  readonly #logitsOps: LogitsOps;
  readonly #template: ChatTemplate;
  readonly #layout: ImageTokenLayout;
  readonly #visionCache: ByteLruCache<ImageFeatures>;
  /** KV caches of prompt text before the first image (system prompt, user header), by token ids. */
  readonly #textHeads: ByteLruCache<KvCache>;
  readonly #sequences = new ByteLruCache<Sequence>(
    SEQUENCE_CACHE_BYTES,
    (s) => s.ids.length * 8 + s.positionIds.byteLength + 2 * (s.textHead?.key.length ?? 0),
  );

  private constructor(
    folder: ModelFolder,
    tokenizer: TextTokenizer,
    runner: ModelRunner,
    logitsOps: LogitsOps,
    template: ChatTemplate,
    options: EngineOptions,
  ) {
    this.folder = folder;
    this.tokenizer = tokenizer;
    this.#runner = runner;
    this.#forward = (input) => runner.forward(input);
    this.#forwardLogits = (input) => runner.forwardLogits(input);
    this.#logitsOps = logitsOps;
    this.#template = template;
    this.#layout = {
      imageTokenId: folder.tokenIds.imageTokenId,
      spatialMergeSize: folder.dims.spatialMergeSize,
    };
    this.contextLimit = options.maxContextTokens || folder.dims.maxPositionEmbeddings || Infinity;
    this.maxNewTokens = options.maxNewTokens ?? 256;
    this.#visionCache = new ByteLruCache(
      (options.visionCacheMib ?? 256) * 1024 * 1024,
      (f) => f.data.byteLength,
    );
    this.#textHeads = new ByteLruCache((options.prefixCacheMib ?? 32) * 1024 * 1024, (cache) =>
      cache.tensors.reduce((bytes, tensor) => bytes + (tensor.data as FloatData).byteLength, 0),
    );
  }

  /**
   * Loads the model folder, checks that the tokenizer has the image tokens config.json names,
   * and opens the ONNX sessions (see {@link ModelRunner.create} for the execution provider).
   */
  static async create(options: EngineOptions): Promise<Engine> {
    checkEngineOptions(options);
    const folder = await loadModelFolder(options.modelDir, {
      dtype: options.dtype,
      graphDtypes: options.graphDtypes,
      device: options.device,
    });
    const tokenizer = TextTokenizer.fromJson(folder.tokenizerJson, folder.tokenizerConfig);
    const imageToken = '<|image_pad|>';
    if (tokenizer.tokenId(imageToken) !== folder.tokenIds.imageTokenId) {
      throw new TokenizerError(
        `tokenizer has no '${imageToken}' token with id ${folder.tokenIds.imageTokenId} (config.json image_token_id); it maps it to ${tokenizer.tokenId(imageToken) ?? 'nothing'}`,
      );
    }
    const template = new ChatTemplate(folder.chatTemplate, tokenizer.specialTokens, folder.dir);
    const log = options.log ?? logToStderr;
    log(`model ${folder.dir}: ${describeGraphFiles(folder)}`);
    const logitsOps = await LogitsOps.create();
    const runner = await ModelRunner.create(folder, { ...options, log }).catch(async (error: unknown) => {
      await logitsOps.dispose();
      throw error;
    });
    return new Engine(folder, tokenizer, runner, logitsOps, template, options);
  }

  /** The graph files and their dtypes (see {@link describeGraphFiles}). */
  get modelFiles(): string {
    return describeGraphFiles(this.folder);
  }

  /** Execution provider the graphs run on. */
  get executionProvider(): ModelRunner['executionProvider'] {
    return this.#runner.executionProvider;
  }

  /** Why `cuda` was asked for but `cpu` runs; null otherwise. */
  get fallbackReason(): string | null {
    return this.#runner.fallbackReason;
  }

  /** The model runner (graphs and tensors), for callers that drive the decoder themselves. */
  get runner(): ModelRunner {
    return this.#runner;
  }

  /** Entries and bytes held by the vision-feature cache. */
  get visionCacheStats(): { readonly entries: number; readonly bytes: number } {
    return { entries: this.#visionCache.size, bytes: this.#visionCache.bytes };
  }

  /** Entries and bytes held by the cache of prompt text before the first image. */
  get prefixCacheStats(): { readonly entries: number; readonly bytes: number } {
    return { entries: this.#textHeads.size, bytes: this.#textHeads.bytes };
  }

  /** The prompt text of a request, with one image placeholder per image, before expansion. */
  renderPrompt(request: Pick<PromptRequest, 'images' | 'system' | 'question' | 'prompt'>): string {
    if (request.prompt !== undefined) {
      if (request.question !== undefined || request.system !== undefined) {
        throw new RequestError('give either prompt, or question (and system), not both');
      }
      // Generation and scoring both need a token to start from.
      if (request.prompt === '') throw new RequestError('the prompt is empty: nothing to answer from');
      return request.prompt;
    }
    if (request.question === undefined) throw new RequestError('a request needs a question or a prompt');
    return this.#template.renderQuestion({
      system: request.system,
      imageCount: request.images.length,
      question: request.question,
    });
  }

  /**
   * Answers a question by generation; with `choices`, also scores them from the same prompt
   * prefill (continuing its KV cache with `answerPrefix` and each choice).
   */
  async ask(
    request: PromptRequest & GenerationOptions & { readonly choices?: ChoiceOptions },
  ): Promise<AskResult> {
    const watch = new Stopwatch();
    const sampler = new TokenSampler(request);
    const maxNewTokens = request.maxNewTokens ?? this.maxNewTokens;
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
      throw new RequestError(`maxNewTokens must be a positive integer, got ${maxNewTokens}`);
    }
    if (request.choices) validateChoices(request.choices.choices);
    const prompt = this.renderPrompt(request);
    request.signal?.throwIfAborted();
    const images = await this.#encodeImages(request.images, watch);
    const state: RequestState = { images, signal: request.signal, watch };
    const generation = this.#sequence(prompt, images.grids);
    if (generation.ids.length + 1 > this.contextLimit) {
      throw new ContextLengthError(generation.ids.length, this.contextLimit);
    }
    const choiceSequences = request.choices
      ? this.#choiceSequences(prompt, request.choices, images.grids)
      : [];
    const shared = Math.min(
      commonPrefixLength([generation.ids, ...choiceSequences.map((s) => s.ids)]),
      ...choiceSequences.map((s) => s.ids.length - 1),
    );
    const prefix = await this.#prefill(state, generation, 0, shared, null);
    const scores = request.choices
      ? (await this.#scoreGroup(state, choiceSequences, request.choices, shared, prefix)).scores
      : undefined;
    const start =
      shared < generation.ids.length
        ? await this.#prefill(state, generation, shared, generation.ids.length, prefix)
        : prefix;
    const generated = await this.#decode(state, generation, start, sampler, maxNewTokens, request);
    return {
      prompt,
      ...generated,
      ...(scores ? { scores } : {}),
      timings: watch.timings(generation.ids.length, generated.newTokens),
    };
  }

  /** Generation only: {@link ask} without choices. */
  async generate(request: PromptRequest & GenerationOptions): Promise<AskResult> {
    return this.ask({ ...request, choices: undefined });
  }

  /** Scores the choices of one question: one prefill of the prompt, then the choices' tokens. */
  async scoreChoices(request: PromptRequest & ChoiceOptions): Promise<ChoiceResult> {
    const watch = new Stopwatch();
    validateChoices(request.choices);
    const prompt = this.renderPrompt(request);
    request.signal?.throwIfAborted();
    const images = await this.#encodeImages(request.images, watch);
    const sequences = this.#choiceSequences(prompt, request, images.grids);
    const state: RequestState = { images, signal: request.signal, watch };
    const { scores, tokensRun } = await this.#scoreGroup(state, sequences, request, 0, null);
    return { prompt, ...scores, timings: watch.timings(tokensRun, 0) };
  }

  /**
   * Scores several questions over the same images: the part of the prompts they share (system,
   * user header, images and any common leading words) is prefilled once, and each question
   * continues from that KV cache. Equal, within float tolerance, to scoring each on its own.
   */
  async scoreQuestions(request: QuestionSetRequest): Promise<QuestionSetResult> {
    const watch = new Stopwatch();
    if (request.questions.length === 0) throw new RequestError('no questions given');
    for (const q of request.questions) validateChoices(q.choices);
    const prompts = request.questions.map((q) =>
      this.renderPrompt({ images: request.images, system: request.system, question: q.question }),
    );
    request.signal?.throwIfAborted();
    const images = await this.#encodeImages(request.images, watch);
    const groups = request.questions.map((q, i) =>
      this.#choiceSequences(prompts[i] as string, q, images.grids),
    );
    const all = groups.flat();
    const shared = scoredPrefixLength(all.map((s) => s.ids));
    const state: RequestState = { images, signal: request.signal, watch };
    const prefix = await this.#prefill(state, all[0] as Sequence, 0, shared, null);
    let prefilled = shared;
    const results: ChoiceScores[] = [];
    for (const [i, group] of groups.entries()) {
      const question = request.questions[i] as ChoiceOptions;
      const { scores, tokensRun } = await this.#scoreGroup(state, group, question, shared, prefix);
      results.push(scores);
      prefilled += tokensRun;
    }
    return { results, timings: watch.timings(prefilled, 0) };
  }

  /**
   * Encodes the keyed images that are not cached yet (e.g. frames as they arrive, before a
   * question needs them); unkeyed images are skipped. Returns how many were encoded and the time.
   */
  async cacheImages(images: readonly EngineImage[]): Promise<{ encoded: number; visionMs: number }> {
    const watch = new Stopwatch();
    const missing = images.filter(({ image, key }) => {
      const cacheKey = this.#cacheKey(image, key);
      return cacheKey !== null && !this.#visionCache.has(cacheKey);
    });
    await this.#encodeImages(missing, watch);
    return { encoded: missing.length, visionMs: watch.visionMs };
  }

  /** Drops every cached vision feature. */
  clearVisionCache(): void {
    this.#visionCache.clear();
  }

  /** Releases the onnxruntime sessions. */
  async dispose(): Promise<void> {
    await Promise.all([this.#runner.dispose(), this.#logitsOps.dispose()]);
  }

  async #encodeImages(images: readonly EngineImage[], watch: Stopwatch): Promise<EncodedImages> {
    const grids: ImageGrid[] = [];
    const features: ImageFeatures[] = [];
    for (const [index, { image, key }] of images.entries()) {
      const grid = image.gridThw;
      const tokens = imageTokenCount(grid, this.#layout.spatialMergeSize);
      const cacheKey = this.#cacheKey(image, key);
      let encoded = cacheKey === null ? undefined : this.#visionCache.get(cacheKey);
      if (!encoded) {
        encoded = await watch.time('visionMs', () => this.#runner.encodeImage(image));
        if (encoded.tokens !== tokens) {
          throw new RequestError(
            `image ${index}: the vision encoder gave ${encoded.tokens} features for grid [${grid.join(', ')}], ${tokens} expected`,
          );
        }
        if (cacheKey !== null) this.#visionCache.set(cacheKey, encoded);
      }
      grids.push(grid);
      features.push(encoded);
    }
    return { grids, features };
  }

  #cacheKey(image: ModelImage, key: string | undefined): string | null {
    if (key === undefined) return null;
    return `${key}|${image.gridThw.join('x')}|${image.resizedWidth}x${image.resizedHeight}`;
  }

  /** The sequence for `key` from the cache, else made by `make` and cached. */
  #cachedSequence(key: string, make: () => readonly number[], grids: readonly ImageGrid[]): Sequence {
    const cached = this.#sequences.get(key);
    if (cached) return cached;
    const ids = expandImagePlaceholders(make(), grids, this.#layout);
    const headLength = ids.indexOf(this.#layout.imageTokenId);
    const sequence = {
      ids,
      ...mropePositions(ids, grids, this.#layout),
      textHead: headLength >= 1 ? { key: ids.slice(0, headLength).join(','), length: headLength } : null,
    };
    this.#sequences.set(key, sequence);
    return sequence;
  }

  #sequence(text: string, grids: readonly ImageGrid[]): Sequence {
    return this.#cachedSequence(`g${grids.join(';')}\u0000${text}`, () => this.tokenizer.encode(text), grids);
  }

  /** prompt + answerPrefix + choice, tokenized as one text (so BPE merges as the model saw them). */
  #choiceSequences(prompt: string, options: ChoiceOptions, grids: readonly ImageGrid[]): Sequence[] {
    // Special tokens split the text into independently tokenized pieces, so the part of the prompt
    // before its last `<|im_start|>` is tokenized once for all choices.
    const cut = Math.max(0, prompt.lastIndexOf('<|im_start|>'));
    let head: number[] | undefined;
    const tail = prompt.slice(cut) + (options.answerPrefix ?? '');
    // JSON keeps the parts apart whatever they contain; the choice follows the closing bracket.
    const keyPrefix = `c${JSON.stringify([grids.join(';'), prompt, options.answerPrefix ?? ''])}`;
    const sequences = options.choices.map((choice) =>
      this.#cachedSequence(
        keyPrefix + choice,
        () => [
          ...(head ??= this.tokenizer.encode(prompt.slice(0, cut))),
          ...this.tokenizer.encode(tail + choice),
        ],
        grids,
      ),
    );
    for (const s of sequences) {
      if (s.ids.length > this.contextLimit) throw new ContextLengthError(s.ids.length, this.contextLimit);
    }
    return sequences;
  }

  /**
   * Runs tokens [start, end) of `sequence` after `cache` through `pass` (the runner's `forward`, or
   * its `forwardLogits` for a pass nothing continues from), keeping the logits of the last
   * `logitsToKeep`.
   */
  async #run<Output>(
    pass: (input: ForwardInput) => Promise<Output>,
    state: RequestState,
    sequence: Sequence,
    start: number,
    end: number,
    cache: KvCache,
    logitsToKeep: number,
  ): Promise<Output> {
    state.signal?.throwIfAborted();
    if (start === 0 && cache.length === 0) {
      const head = this.#textHeadOf(sequence, end);
      const cached = head && this.#textHeads.get(head.key);
      if (head && cached) {
        start = head.length;
        cache = cached;
      }
    }
    return state.watch.time('prefillMs', () =>
      pass({
        ids: sequence.ids,
        positionIds: slicePositions(sequence.positionIds, start, end),
        images: state.images.features,
        start,
        end,
        cache,
        logitsToKeep,
      }),
    );
  }

  /** Prefills tokens [start, end) of `sequence` after `from` (null: the empty cache). */
  async #prefill(
    state: RequestState,
    sequence: Sequence,
    start: number,
    end: number,
    from: Prefilled | null,
  ): Promise<Prefilled> {
    const head = from === null && start === 0 ? this.#textHeadOf(sequence, end) : null;
    const output = await this.#run(
      this.#forward,
      state,
      sequence,
      start,
      end,
      from?.cache ?? this.#runner.emptyCache(),
      1,
    );
    if (head && !this.#textHeads.has(head.key)) {
      this.#textHeads.set(head.key, this.#runner.cachePrefix(output.cache, head.length));
    }
    return { cache: output.cache, lastLogits: output.logits };
  }

  /**
   * The text before the first image of `sequence` (system prompt, user header), as a key of
   * {@link #textHeads}: the same in every request with that text, so its KV cache is kept across
   * requests and a pass from the start of a sequence begins after it. Null when there is no image,
   * nothing before it, the pass ends within it or the cache is off.
   */
  #textHeadOf(sequence: Sequence, end: number): Sequence['textHead'] {
    const head = sequence.textHead;
    return this.#textHeads.maxBytes > 0 && head && head.length < end ? head : null;
  }

  /** Whether a pass over [0, end) of `sequence` would compute a text head that is not kept yet. */
  #textHeadMissing(sequence: Sequence, end: number): boolean {
    const head = this.#textHeadOf(sequence, end);
    return head !== null && !this.#textHeads.has(head.key);
  }

  /**
   * Scores choice sequences that all continue `from` (the state after `start` tokens): the tokens
   * they still share are prefilled once, then each choice's own tokens are scored.
   */
  async #scoreGroup(
    state: RequestState,
    sequences: readonly Sequence[],
    options: ChoiceOptions,
    start: number,
    from: Prefilled | null,
  ): Promise<{ scores: ChoiceScores; tokensRun: number }> {
    const shared = Math.max(start, scoredPrefixLength(sequences.map((s) => s.ids)));
    const tokenIds = sequences.map((s) => s.ids.slice(shared));
    if (options.singleToken) {
      for (const [i, ids] of tokenIds.entries()) {
        if (ids.length !== 1) {
          const choice = options.choices[i] as string;
          throw new ChoiceError(
            choice,
            `answer choice '${choice}' is ${ids.length} tokens (${ids.join(', ')}) after the prompt, but single-token scoring was asked`,
          );
        }
      }
    }
    let tokensRun = shared - start;
    // Only choices of several tokens continue past the shared part, and a pass from the start keeps
    // its text head when that is new; otherwise the pass's cache is not fetched.
    const continued = tokenIds.some((ids) => ids.length > 1);
    const first = sequences[0] as Sequence;
    const base =
      shared === start && from !== null
        ? from
        : continued || (from === null && this.#textHeadMissing(first, shared))
          ? await this.#prefill(state, first, start, shared, from)
          : null;
    const lastLogits =
      base?.lastLogits ??
      (
        await this.#run(
          this.#forwardLogits,
          state,
          first,
          start,
          shared,
          from?.cache ?? this.#runner.emptyCache(),
          1,
        )
      ).logits;
    // The log-sum-exp of the row after the prompt is common to every choice: the softmax cancels it.
    const wantLogProbs = options.logProbs ?? true;
    const [lse = NaN] = wantLogProbs ? await this.#logitsOps.logSumExp(lastLogits, 1) : [0];
    const logProbs: number[] = [];
    for (const [i, sequence] of sequences.entries()) {
      const ids = tokenIds[i] as number[];
      let logProb = (lastLogits[ids[0] as number] as number) - lse;
      if (ids.length > 1) {
        if (!base) throw new Error(`choice ${i} continues a pass whose KV cache was not fetched`);
        const rows = ids.length - 1;
        const output = await this.#run(
          this.#forwardLogits,
          state,
          sequence,
          shared,
          shared + rows,
          base.cache,
          rows,
        );
        tokensRun += rows;
        const vocab = output.logits.length / output.rows;
        const rowLse = await this.#logitsOps.logSumExp(output.logits, rows);
        for (let r = 0; r < rows; r++) {
          logProb += (output.logits[r * vocab + (ids[r + 1] as number)] as number) - (rowLse[r] as number);
        }
      }
      logProbs.push(logProb);
    }
    const probabilities = softmax(logProbs);
    const choiceIndex = probabilities.indexOf(Math.max(...probabilities));
    return {
      scores: {
        choices: [...options.choices],
        probabilities,
        choiceIndex,
        logProbs: wantLogProbs ? logProbs : null,
        tokenIds,
      },
      tokensRun,
    };
  }

  async #decode(
    state: RequestState,
    prompt: Sequence,
    start: Prefilled,
    sampler: TokenSampler,
    maxNewTokens: number,
    options: GenerationOptions,
  ): Promise<Pick<AskResult, 'text' | 'tokenIds' | 'finishReason' | 'logits'> & { newTokens: number }> {
    const stop = new Set([...this.folder.eosTokenIds, ...(options.stopTokenIds ?? [])]);
    const limit = Math.min(maxNewTokens, this.contextLimit - prompt.ids.length);
    const stream = options.onToken ? this.tokenizer.streamDecoder() : null;
    const tokenIds: number[] = [];
    const logits: Float32Array[] = [];
    const ids = [...prompt.ids];
    let cache = start.cache;
    let current = start.lastLogits;
    let finishReason: 'stop' | 'length' = 'length';
    let newTokens = 0;
    for (;;) {
      if (options.outputLogits) logits.push(current.slice());
      const token = sampler.greedy ? await this.#logitsOps.argmax(current) : sampler.next(current);
      newTokens++;
      if (stop.has(token)) {
        finishReason = 'stop';
        break;
      }
      tokenIds.push(token);
      const full = tokenIds.length >= limit;
      if (stream && options.onToken) {
        // The last token allowed also gives out what is held back (an incomplete character).
        options.onToken({ tokenId: token, text: stream.push(token) + (full ? stream.flush() : '') });
      }
      if (full) break;
      state.signal?.throwIfAborted();
      ids.push(token);
      // A text token at index i sits at position i + ropeDelta on all three M-RoPE rows.
      const position = new BigInt64Array(3).fill(BigInt(ids.length - 1 + prompt.ropeDelta));
      const input = {
        ids,
        positionIds: position,
        images: [],
        start: ids.length - 1,
        end: ids.length,
        cache,
        logitsToKeep: 1,
      };
      // The pass that predicts the last token allowed leaves a cache nobody continues: not fetched.
      const last = tokenIds.length + 1 >= limit;
      current = await state.watch.time('decodeMs', async () => {
        if (last) return (await this.#runner.forwardLogits(input)).logits;
        const output = await this.#runner.forward(input);
        cache = output.cache;
        return output.logits;
      });
    }
    return {
      text: this.tokenizer.decode(tokenIds),
      tokenIds,
      finishReason,
      ...(options.outputLogits ? { logits } : {}),
      newTokens,
    };
  }
}
