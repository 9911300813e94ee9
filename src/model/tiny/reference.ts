import type { TinyModelWeights, Weight } from './weights.js';
import { ropeInverseFrequencies } from './config.js';

/**
 * Plain-loop, float64 re-implementations of the tiny model's three graphs, written from the HF
 * Qwen2.5-VL Python code (not from our ONNX graphs), to check the graphs and, through them, the
 * engine that drives them.
 */

/** One layer's cache, [batch, kv_heads, length, head_dim] row-major. */
export interface ReferenceKvCache {
  readonly key: Float32Array;
  readonly value: Float32Array;
}

/** Inputs of {@link referenceDecoder}; layouts as the ONNX decoder's inputs. */
export interface ReferenceDecoderInputs {
  /** [batch, seq, hidden]. */
  readonly inputsEmbeds: Float32Array;
  readonly batch: number;
  readonly sequenceLength: number;
  /** [batch, past + seq] of 0/1. */
  readonly attentionMask: ArrayLike<number>;
  /** [3, batch, seq]: temporal, height and width rows. */
  readonly positionIds: ArrayLike<number>;
  /** One entry per layer; absent means an empty cache. */
  readonly past?: readonly ReferenceKvCache[];
  /** Logits for the last this many positions; 0 (default) means all. */
  readonly numLogitsToKeep?: number;
}

/** Outputs of {@link referenceDecoder}. */
export interface ReferenceDecoderOutputs {
  /** [batch, kept, vocab]. */
  readonly logits: Float32Array;
  readonly keptPositions: number;
  readonly present: readonly ReferenceKvCache[];
}

const LOWEST_FLOAT32 = -3.4028234663852886e38;

// Module-local: global lookups inside hot loops are slow in vm contexts (jest).
const { cos: cosine, exp, floor, max, min, sin: sine, sqrt } = Math;

/** y[o] = sum_i x[i] W[i][o] + bias[o], W stored [in, out]. */
function matVec(x: ArrayLike<number>, w: Weight, bias?: Weight): Float64Array {
  const [inSize = 0, outSize = 0] = w.dims;
  const y = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let sum = bias ? (bias.data[o] ?? 0) : 0;
    for (let i = 0; i < inSize; i++) sum += (x[i] ?? 0) * (w.data[i * outSize + o] ?? 0);
    y[o] = sum;
  }
  return y;
}

function rmsNorm(x: ArrayLike<number>, w: Weight, eps: number): Float64Array {
  let meanSquare = 0;
  for (let i = 0; i < x.length; i++) meanSquare += (x[i] ?? 0) ** 2;
  meanSquare /= x.length;
  const scale = 1 / sqrt(meanSquare + eps);
  return Float64Array.from({ length: x.length }, (_, i) => (w.data[i] ?? 0) * (x[i] ?? 0) * scale);
}

const silu = (v: number): number => v / (1 + exp(-v));

/**
 * HF `Qwen2_5_VLRotaryEmbedding` + `apply_multimodal_rotary_pos_emb`, literally: per row,
 * emb = cat(freqs, freqs); split emb's last axis by mrope_section * 2 and take chunk i from row
 * i % 3; then x * cos + rotate_half(x) * sin.
 */
function mropeCosSin(
  weights: TinyModelWeights,
  rows: readonly [number, number, number],
): [Float64Array, Float64Array] {
  const d = weights.dimensions;
  const half = d.headDim / 2;
  const invFreq = ropeInverseFrequencies(d);
  const emb = rows.map((p) =>
    Float64Array.from({ length: d.headDim }, (_, j) => p * (invFreq[j % half] ?? 0)),
  );
  const sections = [...d.mropeSection, ...d.mropeSection];
  const cos = new Float64Array(d.headDim);
  const sin = new Float64Array(d.headDim);
  let start = 0;
  sections.forEach((size, chunk) => {
    const source = emb[chunk % 3] as Float64Array;
    for (let j = start; j < start + size; j++) {
      cos[j] = cosine(source[j] ?? 0);
      sin[j] = sine(source[j] ?? 0);
    }
    start += size;
  });
  return [cos, sin];
}

function applyRotary(
  x: Float64Array,
  offset: number,
  headDim: number,
  cos: Float64Array,
  sin: Float64Array,
): void {
  const half = headDim / 2;
  const original = x.slice(offset, offset + headDim);
  for (let j = 0; j < headDim; j++) {
    const rotated = j < half ? -(original[j + half] ?? 0) : (original[j - half] ?? 0);
    x[offset + j] = (original[j] ?? 0) * (cos[j] ?? 0) + rotated * (sin[j] ?? 0);
  }
}

/** Decoder forward pass (Qwen2 layers with M-RoPE, GQA, KV cache), batch-major loops. */
export function referenceDecoder(
  weights: TinyModelWeights,
  inputs: ReferenceDecoderInputs,
): ReferenceDecoderOutputs {
  const d = weights.dimensions;
  const { batch: B, sequenceLength: S } = inputs;
  const H = d.hiddenSize;
  const hd = d.headDim;
  const kvHeads = d.numKvHeads;
  const groups = d.numHeads / kvHeads;
  const pastLength = inputs.past?.[0] ? inputs.past[0].key.length / (B * kvHeads * hd) : 0;
  const T = pastLength + S;
  if (inputs.attentionMask.length !== B * T) {
    throw new Error(`attention_mask has ${inputs.attentionMask.length} entries, expected ${B * T}`);
  }

  // hidden[b][s] as Float64Array(H)
  const hidden = Array.from({ length: B }, (_, b) =>
    Array.from({ length: S }, (_, s) =>
      Float64Array.from(inputs.inputsEmbeds.subarray((b * S + s) * H, (b * S + s + 1) * H)),
    ),
  );
  const rotary = Array.from({ length: B }, (_, b) =>
    Array.from({ length: S }, (_, s) => {
      const row = (r: number): number => inputs.positionIds[(r * B + b) * S + s] ?? 0;
      return mropeCosSin(weights, [row(0), row(1), row(2)]);
    }),
  );

  const present: ReferenceKvCache[] = [];
  weights.layers.forEach((layer, l) => {
    const key = new Float32Array(B * kvHeads * T * hd);
    const value = new Float32Array(B * kvHeads * T * hd);
    const cacheIndex = (b: number, g: number, t: number): number => ((b * kvHeads + g) * T + t) * hd;
    const past = inputs.past?.[l];
    for (let b = 0; b < B; b++)
      for (let g = 0; g < kvHeads; g++)
        for (let t = 0; t < pastLength; t++) {
          const from = ((b * kvHeads + g) * pastLength + t) * hd;
          key.set(past?.key.subarray(from, from + hd) ?? [], cacheIndex(b, g, t));
          value.set(past?.value.subarray(from, from + hd) ?? [], cacheIndex(b, g, t));
        }

    const queries: Float64Array[][] = [];
    for (let b = 0; b < B; b++) {
      queries.push([]);
      for (let s = 0; s < S; s++) {
        const h = rmsNorm(hidden[b]?.[s] ?? [], layer.inputLayernorm, d.rmsNormEps);
        const [cos, sin] = rotary[b]?.[s] ?? [new Float64Array(hd), new Float64Array(hd)];
        const q = matVec(h, layer.qProj, layer.qBias);
        const k = matVec(h, layer.kProj, layer.kBias);
        const v = matVec(h, layer.vProj, layer.vBias);
        for (let head = 0; head < d.numHeads; head++) applyRotary(q, head * hd, hd, cos, sin);
        for (let g = 0; g < kvHeads; g++) {
          applyRotary(k, g * hd, hd, cos, sin);
          key.set(k.subarray(g * hd, (g + 1) * hd), cacheIndex(b, g, pastLength + s));
          value.set(v.subarray(g * hd, (g + 1) * hd), cacheIndex(b, g, pastLength + s));
        }
        queries[b]?.push(q);
      }
    }
    present.push({ key, value });

    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        const q = queries[b]?.[s] ?? new Float64Array(0);
        const context = new Float64Array(d.numHeads * hd);
        for (let head = 0; head < d.numHeads; head++) {
          const g = floor(head / groups); // repeat_kv
          const scores = new Float64Array(T);
          for (let t = 0; t < T; t++) {
            const visible = t <= pastLength + s && inputs.attentionMask[b * T + t] === 1;
            if (!visible) {
              scores[t] = LOWEST_FLOAT32;
              continue;
            }
            let dot = 0;
            for (let j = 0; j < hd; j++) dot += (q[head * hd + j] ?? 0) * (key[cacheIndex(b, g, t) + j] ?? 0);
            scores[t] = dot / sqrt(hd);
          }
          const top = max(...scores);
          const exps = scores.map((x) => exp(x - top));
          const total = exps.reduce((a, c) => a + c, 0);
          for (let t = 0; t < T; t++) {
            const p = (exps[t] ?? 0) / total;
            for (let j = 0; j < hd; j++)
              context[head * hd + j] =
                (context[head * hd + j] ?? 0) + p * (value[cacheIndex(b, g, t) + j] ?? 0);
          }
        }
        const x = hidden[b]?.[s] ?? new Float64Array(H);
        const attention = matVec(context, layer.oProj);
        for (let i = 0; i < H; i++) x[i] = (x[i] ?? 0) + (attention[i] ?? 0);
        const m = rmsNorm(x, layer.postAttentionLayernorm, d.rmsNormEps);
        const gate = matVec(m, layer.gateProj);
        const up = matVec(m, layer.upProj);
        const down = matVec(
          gate.map((g, i) => silu(g) * (up[i] ?? 0)),
          layer.downProj,
        );
        for (let i = 0; i < H; i++) x[i] = (x[i] ?? 0) + (down[i] ?? 0);
      }
    }
  });

  const requested = inputs.numLogitsToKeep ?? 0;
  const kept = requested === 0 ? S : min(requested, S);
  const V = d.vocabSize;
  const logits = new Float32Array(B * kept * V);
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < kept; k++) {
      const normed = rmsNorm(hidden[b]?.[S - kept + k] ?? [], weights.norm, d.rmsNormEps);
      logits.set(matVec(normed, weights.lmHead), (b * kept + k) * V);
    }
  }
  return { logits, keptPositions: kept, present };
}

/** Token embedding lookup: [batch * seq] ids -> [batch * seq * hidden]. */
export function referenceEmbedTokens(weights: TinyModelWeights, inputIds: ArrayLike<number>): Float32Array {
  const H = weights.dimensions.hiddenSize;
  const out = new Float32Array(inputIds.length * H);
  for (let i = 0; i < inputIds.length; i++) {
    const id = inputIds[i] ?? 0;
    out.set(weights.embedTokens.data.subarray(id * H, (id + 1) * H), i * H);
  }
  return out;
}

/** Vision encoder: [patches, 1176] -> [patches / 4, hidden], merging each 4 consecutive rows. */
export function referenceVisionEncoder(weights: TinyModelWeights, pixelValues: Float32Array): Float32Array {
  const d = weights.dimensions;
  const v = weights.vision;
  const window = d.spatialMergeSize * d.spatialMergeSize;
  const patches = pixelValues.length / d.patchInputSize;
  const out = new Float32Array((patches / window) * d.hiddenSize);
  for (let w = 0; w < patches / window; w++) {
    const concatenated = new Float64Array(window * d.visionHiddenSize);
    for (let r = 0; r < window; r++) {
      const p = w * window + r;
      const x = matVec(
        pixelValues.subarray(p * d.patchInputSize, (p + 1) * d.patchInputSize),
        v.patchEmbed,
        v.patchEmbedBias,
      );
      const mlp = matVec(matVec(x, v.mlpFc1, v.mlpFc1Bias).map(silu), v.mlpFc2, v.mlpFc2Bias);
      concatenated.set(
        rmsNorm(
          x.map((xi, i) => xi + (mlp[i] ?? 0)),
          v.norm,
          1e-6,
        ),
        r * d.visionHiddenSize,
      );
    }
    out.set(
      matVec(matVec(concatenated, v.mergerFc1, v.mergerFc1Bias).map(silu), v.mergerFc2, v.mergerFc2Bias),
      w * d.hiddenSize,
    );
  }
  return out;
}

/** M-RoPE position ids of one sequence, and the rope delta for decoding after it. */
export interface ReferencePositions {
  /** [3][seq]: temporal, height, width rows. */
  readonly rows: readonly [number[], number[], number[]];
  /** max position + 1 - seq; decode step n (0-based, after the prompt) uses seq + n + delta. */
  readonly ropeDelta: number;
}

/**
 * HF `get_rope_index` for images only (DESIGN.md section 3): text tokens share one running index
 * on all rows; each run of image-pad tokens after `<|vision_start|>` takes the next grid
 * [t, h, w] (in patches) and gets (off + t_k, off + h_k, off + w_k) over the merged grid in
 * raster order; text after it resumes at max + 1.
 */
export function referenceMropePositions(
  inputIds: readonly number[],
  imageGrids: readonly (readonly [number, number, number])[],
  tokens: { readonly imagePad: number; readonly visionStart: number },
  spatialMergeSize = 2,
): ReferencePositions {
  const rows: [number[], number[], number[]] = [[], [], []];
  let next = 0;
  let image = 0;
  for (let i = 0; i < inputIds.length;) {
    if (inputIds[i] === tokens.imagePad && inputIds[i - 1] === tokens.visionStart) {
      const grid = imageGrids[image++];
      if (!grid) throw new Error(`more images in the ids than the ${imageGrids.length} grids given`);
      const [t, h, w] = [grid[0], grid[1] / spatialMergeSize, grid[2] / spatialMergeSize];
      const offset = next;
      for (let k = 0; k < t * h * w; k++, i++) {
        if (inputIds[i] !== tokens.imagePad)
          throw new Error(`image ${image - 1} has fewer than ${t * h * w} pad tokens`);
        rows[0].push(offset + floor(k / (h * w)));
        rows[1].push(offset + (floor(k / w) % h));
        rows[2].push(offset + (k % w));
      }
      next = offset + max(t, h, w);
    } else {
      for (const row of rows) row.push(next);
      next++;
      i++;
    }
  }
  return { rows, ropeDelta: next - inputIds.length };
}
