import { ELEMENT_TYPES, GraphBuilder } from '../onnx-builder/graph-builder.js';
import { ropeInverseFrequencies, type TinyModelDimensions } from './config.js';
import { OTHER_TOKEN_LOGIT, type TinyModelWeights, type Weight } from './weights.js';

/** Symbolic dimension names; transformers.js sizes empty caches by them (`batch_size` -> batch, others 0). */
export const DIM = {
  batch: 'batch_size',
  sequence: 'sequence_length',
  totalSequence: 'total_sequence_length',
  pastSequence: 'past_sequence_length',
  logits: 'num_logits',
  patches: 'num_patches',
  mergedPatches: 'num_merged_patches',
  images: 'num_images',
} as const;

/** Softmax-safe stand-in for -inf (float32 lowest, as HF masks): a fully masked row stays finite. */
export const MASKED_SCORE = -3.4028234663852886e38;

const MODEL_OPTIONS = { irVersion: 8, opsetVersion: 14, producerName: 'actial-ros tiny-model' } as const;

function init(b: GraphBuilder, weight: Weight): string {
  return b.initializer(weight.name, weight.data, weight.dims);
}

/** x W + bias. */
function linear(b: GraphBuilder, x: string, weight: Weight, bias?: Weight): string {
  const y = b.node('MatMul', [x, init(b, weight)]);
  return bias ? b.node('Add', [y, init(b, bias)]) : y;
}

function silu(b: GraphBuilder, x: string): string {
  return b.node('Mul', [x, b.node('Sigmoid', [x])]);
}

/**
 * Qwen2RMSNorm over the last axis: weight * x / sqrt(mean(x^2) + eps). From opset 18 on,
 * ReduceMean takes its axes as an input instead of an attribute.
 */
function rmsNorm(
  b: GraphBuilder,
  x: string,
  weight: Weight,
  eps: number,
  opset: number = MODEL_OPTIONS.opsetVersion,
): string {
  const square = b.node('Mul', [x, x]);
  const meanSquare =
    opset >= 18
      ? b.node('ReduceMean', [square, b.constInt([-1])], { attributes: { keepdims: 1 } })
      : b.node('ReduceMean', [square], { attributes: { axes: [-1], keepdims: 1 } });
  const rms = b.node('Sqrt', [b.node('Add', [meanSquare, b.constFloat(eps)])]);
  return b.node('Mul', [b.node('Div', [x, rms]), init(b, weight)]);
}

/** A scalar dimension of a value's shape, as int64. */
function dimOf(b: GraphBuilder, x: string, axis: number): string {
  return b.node('Gather', [b.node('Shape', [x]), b.constInt(axis)], { attributes: { axis: 0 } });
}

/**
 * (x, y) in [-1, 1] of the centre of each merged token, [num_merged_patches, 2], for images of any
 * grids given together: merged token m belongs to the first image whose cumulative token count
 * exceeds m, and sits at (m - start) in that image's raster order of (h / merge) x (w / merge).
 */
function mergedCoordinates(b: GraphBuilder, grid: string, features: string, merge: number): string {
  const int64 = ELEMENT_TYPES.int64;
  const float = (x: string): string => b.node('Cast', [x], { attributes: { to: ELEMENT_TYPES.float32 } });
  const column = (i: number): string => b.node('Gather', [grid, b.constInt(i)], { attributes: { axis: 1 } });
  const blocksH = b.node('Div', [column(1), b.constInt(merge)]);
  const blocksW = b.node('Div', [column(2), b.constInt(merge)]);
  const tokens = b.node('Mul', [b.node('Mul', [column(0), blocksH]), blocksW]);
  const ends = b.node('CumSum', [tokens, b.constInt(0)]);
  const starts = b.node('Sub', [ends, tokens]);
  const m = b.node('Range', [b.constInt(0), dimOf(b, features, 0), b.constInt(1)]);
  const passed = b.node('GreaterOrEqual', [
    b.node('Unsqueeze', [m, b.constInt([1])]),
    b.node('Unsqueeze', [ends, b.constInt([0])]),
  ]);
  const image = b.node(
    'ReduceSum',
    [b.node('Cast', [passed], { attributes: { to: int64 } }), b.constInt([1])],
    {
      attributes: { keepdims: 0 },
    },
  );
  const local = b.node('Sub', [m, b.node('Gather', [starts, image], { attributes: { axis: 0 } })]);
  const width = b.node('Gather', [blocksW, image], { attributes: { axis: 0 } });
  const height = b.node('Gather', [blocksH, image], { attributes: { axis: 0 } });
  const col = b.node('Mod', [local, width]);
  const row = b.node('Mod', [b.node('Div', [local, width]), height]);
  const centre = (index: string, size: string): string =>
    b.node('Unsqueeze', [
      b.node('Sub', [
        b.node('Div', [
          b.node('Add', [b.node('Mul', [float(index), b.constFloat(2)]), b.constFloat(1)]),
          float(size),
        ]),
        b.constFloat(1),
      ]),
      b.constInt([1]),
    ]);
  return b.node('Concat', [centre(col, width), centre(row, height)], { attributes: { axis: 1 } });
}

/**
 * Vision encoder: pixel_values [num_patches, 1176] -> image_features [num_patches / 4, hidden].
 * Optionally the mean over the 2 frames and patchPool^2 pixel blocks first; then the patch
 * embedding, one residual SiLU MLP per patch, RMSNorm, then the 2x2 merge: every 4 consecutive
 * rows (one merge window) are concatenated and mapped by an MLP whose weights differ per window
 * position, so the row order inside a window matters. With `visionPositions` the merged tokens'
 * centres, computed from image_grid_thw, enter the merger MLP through visual.pos_embed; without,
 * the tower has no positional terms and image_grid_thw is declared (as transformers.js feeds it)
 * but unread.
 */
export function buildVisionEncoder(weights: TinyModelWeights): Uint8Array {
  const d = weights.dimensions;
  const v = weights.vision;
  const window = d.spatialMergeSize * d.spatialMergeSize;
  const b = new GraphBuilder('tiny_qwen2_5_vl_vision_encoder');
  const pixels = b.input('pixel_values', 'float32', [DIM.patches, d.patchInputSize]);
  const grid = b.input('image_grid_thw', 'int64', [DIM.images, 3]);

  const pool = d.patchPool ?? 1;
  let patchInput = pixels;
  if (pool > 1) {
    // Row element ((c * 2 + frame) * 14 + y) * 14 + x; y = yb * pool + ys, x = xb * pool + xs.
    const side = 14 / pool;
    const blocks = b.node('Reshape', [pixels, b.constInt([-1, 3, 2, side, pool, side, pool])]);
    const mean = b.node('ReduceMean', [blocks], { attributes: { axes: [2, 4, 6], keepdims: 0 } });
    patchInput = b.node('Reshape', [mean, b.constInt([-1, 3 * side * side])]);
  }
  const embedded = linear(b, patchInput, v.patchEmbed, v.patchEmbedBias);
  const mlp = linear(b, silu(b, linear(b, embedded, v.mlpFc1, v.mlpFc1Bias)), v.mlpFc2, v.mlpFc2Bias);
  const patches = rmsNorm(b, b.node('Add', [embedded, mlp]), v.norm, 1e-6);
  let windows = b.node('Reshape', [patches, b.constInt([-1, window * d.visionHiddenSize])]);
  if (v.posEmbed) {
    const coordinates = mergedCoordinates(b, grid, windows, d.spatialMergeSize);
    windows = b.node('Add', [windows, b.node('MatMul', [coordinates, init(b, v.posEmbed)])]);
  }
  const merged = silu(b, linear(b, windows, v.mergerFc1, v.mergerFc1Bias));
  b.node('Add', [b.node('MatMul', [merged, init(b, v.mergerFc2)]), init(b, v.mergerFc2Bias)], {
    output: 'image_features',
  });
  b.output('image_features', 'float32', [DIM.mergedPatches, d.hiddenSize]);
  return b.toModel({ ...MODEL_OPTIONS, docString: 'tiny deterministic Qwen2.5-VL-layout vision encoder' });
}

/**
 * [vocab] int64: the compact row of each token id (its index in `vocabularyIds`), K for the rest.
 * Built from the K ids (ScatterElements into a constant), so the file holds K ids, not 151,936.
 */
function vocabularyIndex(b: GraphBuilder, weights: TinyModelWeights, ids: readonly number[]): string {
  const k = ids.length;
  const tokenIds = b.initializer(
    'model.vocabulary.token_ids',
    BigInt64Array.from(ids, (id) => BigInt(id)),
    [k],
  );
  const others = b.node('Expand', [b.constInt(k), b.constInt([weights.dimensions.vocabSize])]);
  const rows = b.node('Range', [b.constInt(0), b.constInt(k), b.constInt(1)]);
  return b.node('ScatterElements', [others, tokenIds, rows], {
    attributes: { axis: 0 },
    output: 'vocabulary.index',
  });
}

/**
 * Token embedding: input_ids [batch, seq] -> inputs_embeds [batch, seq, hidden]. With a compact
 * vocabulary each id is first mapped to its row (ids outside it share the last row).
 */
export function buildEmbedTokens(weights: TinyModelWeights): Uint8Array {
  const d = weights.dimensions;
  const b = new GraphBuilder('tiny_qwen2_5_vl_embed_tokens');
  const ids = b.input('input_ids', 'int64', [DIM.batch, DIM.sequence]);
  const rows = weights.vocabularyIds
    ? b.node('Gather', [vocabularyIndex(b, weights, weights.vocabularyIds), ids], { attributes: { axis: 0 } })
    : ids;
  b.node('Gather', [init(b, weights.embedTokens), rows], {
    attributes: { axis: 0 },
    output: 'inputs_embeds',
  });
  b.output('inputs_embeds', 'float32', [DIM.batch, DIM.sequence, d.hiddenSize]);
  return b.toModel({ ...MODEL_OPTIONS, docString: 'tiny deterministic Qwen2.5-VL-layout token embedding' });
}

/**
 * M-RoPE frequency table [3, head_dim]: entry (row, j) is inv_freq[j mod head_dim/2] when
 * frequency j mod head_dim/2 belongs to that row's mrope section, else 0. Positions [.., 3]
 * times this table give HF's angles after its split of the duplicated cos/sin by
 * mrope_section * 2 (chunk i takes row i % 3): both halves of a frequency use the same row.
 */
export function mropeFrequencyTable(d: TinyModelDimensions): Float32Array {
  const half = d.headDim / 2;
  const table = new Float32Array(3 * d.headDim);
  const inverseFrequencies = ropeInverseFrequencies(d);
  for (let j = 0; j < d.headDim; j++) {
    const f = j % half;
    const invFreq = inverseFrequencies[f] ?? 0;
    let row = 0;
    let end = d.mropeSection[0];
    while (f >= end) end += d.mropeSection[++row] ?? Infinity;
    table[row * d.headDim + j] = invFreq;
  }
  return table;
}

/** The first default-domain opset with the `Attention` operator. */
const FUSED_ATTENTION_OPSET = 23;

/** How the decoder graph computes attention; both give the same logits. */
export type DecoderAttention = 'fused' | 'explicit';

/** Options for `buildDecoder`. */
export interface DecoderOptions {
  /**
   * 'fused' (default): one ONNX `Attention` node per layer (opset 23) with grouped KV heads, an
   * additive mask and the cache concatenated inside, as real exports run attention.
   * 'explicit': MatMul, Where, Softmax and MatMul nodes (opset 14).
   */
  readonly attention?: DecoderAttention;
}

/**
 * Decoder with KV cache (the `decoder_model_merged` contract): inputs_embeds, attention_mask,
 * position_ids [3, batch, seq], past_key_values.{i}.key|value, num_logits_to_keep (0 = all)
 * -> logits for the last num_logits_to_keep positions, present.{i}.key|value.
 * Query i sits at absolute position past + i and attends key j iff j <= past + i and
 * attention_mask[j] == 1.
 */
export function buildDecoder(weights: TinyModelWeights, options: DecoderOptions = {}): Uint8Array {
  const d = weights.dimensions;
  const attention: string = options.attention ?? 'fused';
  if (attention !== 'fused' && attention !== 'explicit') {
    throw new RangeError(`attention must be 'fused' or 'explicit', got ${JSON.stringify(attention)}`);
  }
  const fused = attention === 'fused';
  const opset = fused ? FUSED_ATTENTION_OPSET : MODEL_OPTIONS.opsetVersion;
  const b = new GraphBuilder('tiny_qwen2_5_vl_decoder');
  const groups = d.numHeads / d.numKvHeads;
  const kvDims = [DIM.batch, d.numKvHeads, DIM.pastSequence, d.headDim];
  const presentDims = [DIM.batch, d.numKvHeads, DIM.totalSequence, d.headDim];

  let x = b.input('inputs_embeds', 'float32', [DIM.batch, DIM.sequence, d.hiddenSize]);
  const attentionMask = b.input('attention_mask', 'int64', [DIM.batch, DIM.totalSequence]);
  const positionIds = b.input('position_ids', 'int64', [3, DIM.batch, DIM.sequence]);
  const past = Array.from({ length: d.numLayers }, (_, i) => ({
    key: b.input(`past_key_values.${i}.key`, 'float32', kvDims),
    value: b.input(`past_key_values.${i}.value`, 'float32', kvDims),
  }));
  const numLogitsToKeep = b.input('num_logits_to_keep', 'int64', []);

  // Rotary tables, [batch, 1, seq, head_dim], shared by all layers and heads.
  const positions = b.node(
    'Transpose',
    [b.node('Cast', [positionIds], { attributes: { to: ELEMENT_TYPES.float32 } })],
    {
      attributes: { perm: [1, 2, 0] },
    },
  );
  const table = b.initializer('rotary.mrope_inv_freq_by_row', mropeFrequencyTable(d), [3, d.headDim]);
  const angles = b.node('Unsqueeze', [b.node('MatMul', [positions, table]), b.constInt([1])]);
  const cos = b.node('Cos', [angles], { output: 'rotary.cos' });
  const sin = b.node('Sin', [angles], { output: 'rotary.sin' });
  const applyRotary = (t: string): string => {
    const half = d.headDim / 2;
    const [t1, t2] = b.nodeOutputs('Split', [t, b.constInt([half, half])], 2, { attributes: { axis: -1 } });
    const rotated = b.node('Concat', [b.node('Neg', [t2 as string]), t1 as string], {
      attributes: { axis: -1 },
    });
    return b.node('Add', [b.node('Mul', [t, cos]), b.node('Mul', [rotated, sin])]);
  };

  // allowed: causal from absolute query positions, and not padding.
  const sequenceLength = dimOf(b, x, 1);
  const firstPastKey = past[0]?.key;
  if (!firstPastKey) throw new RangeError(`numLayers must be at least 1, got ${d.numLayers}`);
  const pastLength = dimOf(b, firstPastKey, 2);
  const totalLength = b.node('Add', [pastLength, sequenceLength]);
  const keyIndex = b.node('Range', [b.constInt(0), totalLength, b.constInt(1)]);
  const queryIndex = b.node('Range', [pastLength, totalLength, b.constInt(1)]);
  const causal = b.node('LessOrEqual', [
    b.node('Unsqueeze', [keyIndex, b.constInt([0])]),
    b.node('Unsqueeze', [queryIndex, b.constInt([1])]),
  ]);
  // [batch, 1, seq, total] for the Attention node, [batch, 1, 1, seq, total] for grouped MatMuls.
  const notPadding = b.node('Unsqueeze', [
    b.node('Equal', [attentionMask, b.constInt(1)]),
    b.constInt(fused ? [1, 2] : [1, 2, 3]),
  ]);
  const allowed = b.node('And', [causal, notPadding], { output: 'attention.allowed' });
  const masked = b.constFloat(MASKED_SCORE);
  const scale = 1 / Math.sqrt(d.headDim);

  const heads = (t: string, count: number): string =>
    b.node('Transpose', [b.node('Reshape', [t, b.constInt([0, 0, count, d.headDim])])], {
      attributes: { perm: [0, 2, 1, 3] },
    });

  type Cache = { readonly key: string; readonly value: string };
  /** Attention of layer i: context [batch, heads, seq, head_dim]; writes present.{i}.key|value. */
  type Attend = (q: string, k: string, v: string, cache: Cache, i: number) => string;

  /** One Attention node per layer: cache concatenation, grouped heads, mask and softmax inside. */
  const fusedAttention =
    (additiveMask: string): Attend =>
    (q, k, v, cache, i) => {
      const [context] = b.nodeOutputs('Attention', [q, k, v, additiveMask, cache.key, cache.value], 3, {
        attributes: {
          q_num_heads: d.numHeads,
          kv_num_heads: d.numKvHeads,
          scale: { float: scale },
          is_causal: 0,
        },
        moreOutputs: [`present.${i}.key`, `present.${i}.value`],
      });
      return context as string;
    };

  /** The same attention from Concat, MatMul, Where and Softmax nodes. */
  const explicitAttention: Attend = (q, k, v, cache, i) => {
    const keys = b.node('Concat', [cache.key, k], { attributes: { axis: 2 }, output: `present.${i}.key` });
    const values = b.node('Concat', [cache.value, v], {
      attributes: { axis: 2 },
      output: `present.${i}.value`,
    });

    // Grouped-query attention without copying K/V: query head g * groups + r reads KV head g.
    const grouped = b.node('Reshape', [q, b.constInt([0, d.numKvHeads, groups, -1, d.headDim])]);
    const keys5 = b.node('Unsqueeze', [keys, b.constInt([2])]);
    const values5 = b.node('Unsqueeze', [values, b.constInt([2])]);
    const scores = b.node('Mul', [
      b.node('MatMul', [grouped, b.node('Transpose', [keys5], { attributes: { perm: [0, 1, 2, 4, 3] } })]),
      b.constFloat(scale),
    ]);
    const probabilities = b.node('Softmax', [b.node('Where', [allowed, scores, masked])], {
      attributes: { axis: -1 },
    });
    return b.node('Reshape', [
      b.node('MatMul', [probabilities, values5]),
      b.constInt([0, d.numHeads, -1, d.headDim]),
    ]);
  };

  const attend = fused
    ? fusedAttention(
        b.node('Where', [allowed, b.constFloat(0), masked], { output: 'attention.additive_mask' }),
      )
    : explicitAttention;

  weights.layers.forEach((layer, i) => {
    const cache = past[i];
    if (!cache) throw new Error(`missing cache inputs of layer ${i}`);
    const h = rmsNorm(b, x, layer.inputLayernorm, d.rmsNormEps, opset);
    const q = applyRotary(heads(linear(b, h, layer.qProj, layer.qBias), d.numHeads));
    const k = applyRotary(heads(linear(b, h, layer.kProj, layer.kBias), d.numKvHeads));
    const v = heads(linear(b, h, layer.vProj, layer.vBias), d.numKvHeads);
    const context = attend(q, k, v, cache, i);
    const merged = b.node('Reshape', [
      b.node('Transpose', [context], { attributes: { perm: [0, 2, 1, 3] } }),
      b.constInt([0, 0, d.numHeads * d.headDim]),
    ]);
    x = b.node('Add', [x, linear(b, merged, layer.oProj)]);

    const m = rmsNorm(b, x, layer.postAttentionLayernorm, d.rmsNormEps, opset);
    const gated = b.node('Mul', [silu(b, linear(b, m, layer.gateProj)), linear(b, m, layer.upProj)]);
    x = b.node('Add', [x, linear(b, gated, layer.downProj)], { output: `hidden_states.${i + 1}` });
  });
  // Keep the last num_logits_to_keep positions (all of them for 0), then the untied lm_head.
  const normed = rmsNorm(b, x, weights.norm, d.rmsNormEps, opset);
  const zero = b.constInt(0);
  const start = b.node('Where', [
    b.node('Equal', [numLogitsToKeep, zero]),
    zero,
    b.node('Max', [b.node('Sub', [sequenceLength, numLogitsToKeep]), zero]),
  ]);
  const kept = b.node('Slice', [
    normed,
    b.node('Unsqueeze', [start, b.constInt([0])]),
    b.constInt([Number.MAX_SAFE_INTEGER]),
    b.constInt([1]),
  ]);
  if (weights.vocabularyIds) {
    // Compact logits [.., K], one more column of OTHER_TOKEN_LOGIT, then each id picks its column.
    const compact = b.node('MatMul', [kept, init(b, weights.lmHead)]);
    const padded = b.node('Pad', [compact, b.constInt([0, 0, 0, 0, 0, 1]), b.constFloat(OTHER_TOKEN_LOGIT)]);
    const index = vocabularyIndex(b, weights, weights.vocabularyIds);
    b.node('Gather', [padded, index], { attributes: { axis: 2 }, output: 'logits' });
  } else {
    b.node('MatMul', [kept, init(b, weights.lmHead)], { output: 'logits' });
  }
  b.output('logits', 'float32', [DIM.batch, DIM.logits, d.vocabSize]);
  for (let i = 0; i < d.numLayers; i++) {
    b.output(`present.${i}.key`, 'float32', presentDims);
    b.output(`present.${i}.value`, 'float32', presentDims);
  }
  return b.toModel({
    ...MODEL_OPTIONS,
    // ONNX 1.18 brought opset 23 with IR version 11.
    ...(fused ? { irVersion: 11, opsetVersion: FUSED_ATTENTION_OPSET } : {}),
    docString: `tiny deterministic Qwen2.5-VL-layout decoder with KV cache, ${fused ? 'fused' : 'explicit'} attention`,
  });
}
