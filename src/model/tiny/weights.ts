import type { TinyModelDimensions } from './config.js';
import { TINY_MODEL_DIMENSIONS, patchEmbedInputSize } from './config.js';

/** A weight matrix or vector; matrices are stored [in, out] so that y = x W (ONNX MatMul). */
export interface Weight {
  /** HF parameter name; matrices are the transpose of HF's [out, in] layout. */
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

/** Weights of one decoder layer (HF Qwen2 naming, without the `model.layers.{i}.` prefix). */
export interface TinyDecoderLayerWeights {
  readonly inputLayernorm: Weight;
  readonly qProj: Weight;
  readonly qBias: Weight;
  readonly kProj: Weight;
  readonly kBias: Weight;
  readonly vProj: Weight;
  readonly vBias: Weight;
  readonly oProj: Weight;
  readonly postAttentionLayernorm: Weight;
  readonly gateProj: Weight;
  readonly upProj: Weight;
  readonly downProj: Weight;
}

/** Every weight of the tiny model. */
export interface TinyModelWeights {
  readonly dimensions: TinyModelDimensions;
  readonly vision: {
    readonly patchEmbed: Weight;
    readonly patchEmbedBias: Weight;
    readonly mlpFc1: Weight;
    readonly mlpFc1Bias: Weight;
    readonly mlpFc2: Weight;
    readonly mlpFc2Bias: Weight;
    readonly norm: Weight;
    /** [4 * visionHidden, 4 * visionHidden]; rows grouped by position in the 2x2 window. */
    readonly mergerFc1: Weight;
    readonly mergerFc1Bias: Weight;
    readonly mergerFc2: Weight;
    readonly mergerFc2Bias: Weight;
    /** [2, 4 * visionHidden]: merge-window offset per unit of merged-token x and y (with `visionPositions`). */
    readonly posEmbed?: Weight;
  };
  /** [vocab, hidden]; with a compact vocabulary [K + 1, hidden], the last row for every other id. */
  readonly embedTokens: Weight;
  readonly layers: readonly TinyDecoderLayerWeights[];
  readonly norm: Weight;
  /** [hidden, vocab] (untied from embedTokens); with a compact vocabulary [hidden, K]. */
  readonly lmHead: Weight;
  /**
   * The K token ids (sorted, distinct) that have their own embedding row and lm_head column. Absent:
   * the full vocabulary. Other ids embed as the shared last row and get the logit
   * {@link OTHER_TOKEN_LOGIT}, which keeps a model that uses a few hundred of Qwen's 151,936 ids small.
   */
  readonly vocabularyIds?: readonly number[];
}

/** Logit of every id outside a compact vocabulary: far below any trained logit, finite in fp16. */
export const OTHER_TOKEN_LOGIT = -1e4;

/** Raised for a seed that is not a 32-bit unsigned integer. */
export class TinyModelSeedError extends Error {
  override readonly name = 'TinyModelSeedError';
}

// Module-local: global lookups inside hot loops are slow in vm contexts (jest).
const { imul } = Math;

/** mulberry32: a small, fast, well-distributed 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string, so each tensor draws from its own stream (adding one changes no other). */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** How a tensor's values are drawn: uniformly from center +- halfWidth. */
export interface WeightInit {
  readonly center?: number;
  readonly halfWidth: number;
}

/** Supplies the weight called `name` with shape `dims` (drawn at random, or read from a file). */
export type WeightSource = (name: string, dims: readonly number[], init: WeightInit) => Weight;

/** Uniform half-width for standard deviation `std`. */
const uniformStd = (std: number): number => std * Math.sqrt(3);

/** Random weights from `seed`; each tensor has its own stream, keyed by its name. */
export function randomWeightSource(seed: number): WeightSource {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new TinyModelSeedError(`seed must be an integer in [0, 4294967295], got ${seed}`);
  }
  return (name, dims, init) => {
    const random = mulberry32((seed ^ hashName(name)) >>> 0);
    const size = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const center = init.center ?? 0;
    for (let i = 0; i < size; i++) data[i] = center + (2 * random() - 1) * init.halfWidth;
    return { name, dims, data };
  };
}

/**
 * Names, shapes and scales of every weight, filled from `source`. Scales keep activations O(1):
 * matrices have standard deviation gain/sqrt(fan_in), norm weights sit near 1, and lm_head gives
 * logits with a spread of a few units, so the next-token distribution is neither flat nor one-hot.
 */
export function assembleTinyWeights(
  source: WeightSource,
  dimensions: TinyModelDimensions = TINY_MODEL_DIMENSIONS,
  vocabularyIds?: readonly number[],
): TinyModelWeights {
  const d = dimensions;
  if (vocabularyIds) checkVocabularyIds(vocabularyIds, d.vocabSize);
  const embedRows = vocabularyIds ? vocabularyIds.length + 1 : d.vocabSize;
  const logitColumns = vocabularyIds ? vocabularyIds.length : d.vocabSize;
  const matrix = (name: string, fanIn: number, fanOut: number, gain = 1): Weight =>
    source(name, [fanIn, fanOut], { halfWidth: uniformStd(gain / Math.sqrt(fanIn)) });
  const bias = (name: string, size: number, std = 0.2): Weight =>
    source(name, [size], { halfWidth: uniformStd(std) });
  const normWeight = (name: string, size: number): Weight =>
    source(name, [size], { center: 1, halfWidth: 0.25 });

  const dv = d.visionHiddenSize;
  const window = d.spatialMergeSize * d.spatialMergeSize;
  const qDim = d.numHeads * d.headDim;
  const kvDim = d.numKvHeads * d.headDim;
  const layers = Array.from({ length: d.numLayers }, (_, i): TinyDecoderLayerWeights => {
    const p = `model.layers.${i}`;
    return {
      inputLayernorm: normWeight(`${p}.input_layernorm.weight`, d.hiddenSize),
      // A larger q/k gain makes attention peaky, so positions and masks move the output.
      qProj: matrix(`${p}.self_attn.q_proj.weight`, d.hiddenSize, qDim, 1.5),
      qBias: bias(`${p}.self_attn.q_proj.bias`, qDim),
      kProj: matrix(`${p}.self_attn.k_proj.weight`, d.hiddenSize, kvDim, 1.5),
      kBias: bias(`${p}.self_attn.k_proj.bias`, kvDim),
      vProj: matrix(`${p}.self_attn.v_proj.weight`, d.hiddenSize, kvDim),
      vBias: bias(`${p}.self_attn.v_proj.bias`, kvDim),
      oProj: matrix(`${p}.self_attn.o_proj.weight`, qDim, d.hiddenSize),
      postAttentionLayernorm: normWeight(`${p}.post_attention_layernorm.weight`, d.hiddenSize),
      gateProj: matrix(`${p}.mlp.gate_proj.weight`, d.hiddenSize, d.intermediateSize),
      upProj: matrix(`${p}.mlp.up_proj.weight`, d.hiddenSize, d.intermediateSize),
      downProj: matrix(`${p}.mlp.down_proj.weight`, d.intermediateSize, d.hiddenSize),
    };
  });
  return {
    dimensions,
    vision: {
      patchEmbed: matrix('visual.patch_embed.proj.weight', patchEmbedInputSize(d), dv, 2),
      patchEmbedBias: bias('visual.patch_embed.proj.bias', dv),
      mlpFc1: matrix('visual.blocks.0.mlp.fc1.weight', dv, d.visionIntermediateSize),
      mlpFc1Bias: bias('visual.blocks.0.mlp.fc1.bias', d.visionIntermediateSize),
      mlpFc2: matrix('visual.blocks.0.mlp.fc2.weight', d.visionIntermediateSize, dv),
      mlpFc2Bias: bias('visual.blocks.0.mlp.fc2.bias', dv),
      norm: normWeight('visual.merger.ln_q.weight', dv),
      mergerFc1: matrix('visual.merger.mlp.0.weight', window * dv, window * dv),
      mergerFc1Bias: bias('visual.merger.mlp.0.bias', window * dv),
      mergerFc2: matrix('visual.merger.mlp.2.weight', window * dv, d.hiddenSize),
      mergerFc2Bias: bias('visual.merger.mlp.2.bias', d.hiddenSize),
      ...(d.visionPositions ? { posEmbed: matrix('visual.pos_embed.weight', 2, window * dv) } : {}),
    },
    embedTokens: source('model.embed_tokens.weight', [embedRows, d.hiddenSize], {
      halfWidth: uniformStd(1),
    }),
    layers,
    norm: normWeight('model.norm.weight', d.hiddenSize),
    lmHead: matrix('lm_head.weight', d.hiddenSize, logitColumns, 3),
    ...(vocabularyIds ? { vocabularyIds: [...vocabularyIds] } : {}),
  };
}

/** Refuses vocabulary ids that are not sorted, distinct integers in [0, vocabSize). */
export function checkVocabularyIds(ids: readonly number[], vocabSize: number): void {
  if (ids.length === 0) throw new RangeError('a compact vocabulary needs at least one token id');
  ids.forEach((id, i) => {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize || (i > 0 && id <= (ids[i - 1] as number))) {
      throw new RangeError(
        `vocabulary ids must be sorted distinct integers in [0, ${vocabSize}); entry ${i} is ${id}`,
      );
    }
  });
}

/** Draws all weights of the tiny model from `seed` (same seed, same bits). */
export function generateTinyWeights(
  seed: number,
  dimensions: TinyModelDimensions = TINY_MODEL_DIMENSIONS,
): TinyModelWeights {
  return assembleTinyWeights(randomWeightSource(seed), dimensions);
}
