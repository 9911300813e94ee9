/** Sizes of the tiny Qwen2.5-VL-layout model. Token ids and processor values are the real ones. */
export interface TinyModelDimensions {
  /** Width of the language model (embedding, residual stream, image features). */
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  /** Width of the SwiGLU MLP. */
  readonly intermediateSize: number;
  /** Rows of the embedding table and columns of lm_head (the real Qwen2.5 3B/VL-3B vocabulary). */
  readonly vocabSize: number;
  readonly ropeTheta: number;
  /**
   * Explicit rotary inverse frequencies, one per frequency index (headDim / 2 of them), in place
   * of `1 / ropeTheta^(2f / headDim)`. A 0 leaves that pair unrotated (a position-free channel);
   * the trained viewpoint model uses this to get sharp relative-position selection.
   */
  readonly ropeFrequencies?: readonly number[];
  /** Frequencies per M-RoPE row (temporal, height, width); sums to headDim / 2. */
  readonly mropeSection: readonly [number, number, number];
  readonly rmsNormEps: number;
  /** Input width of one patch row: channels * temporal_patch_size * patch_size^2. */
  readonly patchInputSize: number;
  /** Width of the vision tower before the 2x2 merge. */
  readonly visionHiddenSize: number;
  /** Width of the per-patch vision MLP. */
  readonly visionIntermediateSize: number;
  readonly spatialMergeSize: number;
  /**
   * When above 1: the vision encoder first averages each pixel_values row over its 2 frames and
   * over patchPool x patchPool pixel blocks, so the patch embedding reads 3 * (14 / patchPool)^2
   * values (the trained viewpoint model uses 2). Absent or 1: it reads the whole row.
   */
  readonly patchPool?: number;
  /**
   * Add `[x, y] visual.pos_embed` to each concatenated merge window before the merger MLP, (x, y)
   * the centre of its merged token in [-1, 1] (from image_grid_thw and the row order): 2-D
   * positions inside the tower, as the real one has.
   */
  readonly visionPositions?: boolean;
}

/** The rotary inverse frequency of each frequency index 0..headDim/2-1. */
export function ropeInverseFrequencies(dims: TinyModelDimensions): number[] {
  const half = dims.headDim / 2;
  if (dims.ropeFrequencies) {
    if (dims.ropeFrequencies.length !== half) {
      throw new RangeError(
        `ropeFrequencies has ${dims.ropeFrequencies.length} entries, expected headDim / 2 = ${half}`,
      );
    }
    return [...dims.ropeFrequencies];
  }
  return Array.from({ length: half }, (_, f) => 1 / Math.pow(dims.ropeTheta, (2 * f) / dims.headDim));
}

/** Values the patch embedding reads per pixel_values row (see {@link TinyModelDimensions.patchPool}). */
export function patchEmbedInputSize(dims: TinyModelDimensions): number {
  const pool = dims.patchPool ?? 1;
  if (pool <= 1) return dims.patchInputSize;
  const side = 14 / pool;
  if (!Number.isInteger(side)) throw new RangeError(`patchPool ${pool} does not divide the patch size 14`);
  return 3 * side * side;
}

export const TINY_MODEL_DIMENSIONS: TinyModelDimensions = {
  hiddenSize: 16,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 16,
  intermediateSize: 64,
  vocabSize: 151936,
  // Small on purpose: with the 7B's 1e6 the width-row frequencies would barely rotate.
  ropeTheta: 10,
  mropeSection: [2, 3, 3],
  rmsNormEps: 1e-6,
  patchInputSize: 3 * 2 * 14 * 14,
  visionHiddenSize: 32,
  visionIntermediateSize: 64,
  spatialMergeSize: 2,
};

/** Qwen2.5 special-token ids (DESIGN.md section 3). */
export const QWEN_TOKEN_IDS = {
  endoftext: 151643,
  imStart: 151644,
  imEnd: 151645,
  visionStart: 151652,
  visionEnd: 151653,
  visionPad: 151654,
  imagePad: 151655,
  videoPad: 151656,
} as const;

export const CLIP_IMAGE_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_IMAGE_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** The ONNX files of a model folder, relative to it. */
export const ONNX_FILES = {
  visionEncoder: 'onnx/vision_encoder.onnx',
  embedTokens: 'onnx/embed_tokens.onnx',
  decoder: 'onnx/decoder_model_merged.onnx',
} as const;

/** config.json in the transformers / transformers.js Qwen2.5-VL layout. */
export function configJson(dims: TinyModelDimensions = TINY_MODEL_DIMENSIONS): Record<string, unknown> {
  const textConfig = {
    model_type: 'qwen2_5_vl_text',
    hidden_size: dims.hiddenSize,
    num_hidden_layers: dims.numLayers,
    num_attention_heads: dims.numHeads,
    num_key_value_heads: dims.numKvHeads,
    head_dim: dims.headDim,
    intermediate_size: dims.intermediateSize,
    hidden_act: 'silu',
    rope_theta: dims.ropeTheta,
    rope_scaling: { type: 'mrope', rope_type: 'default', mrope_section: [...dims.mropeSection] },
    vocab_size: dims.vocabSize,
    max_position_embeddings: 32768,
    rms_norm_eps: dims.rmsNormEps,
    tie_word_embeddings: false,
    use_cache: true,
    attention_dropout: 0,
    torch_dtype: 'float32',
    bos_token_id: QWEN_TOKEN_IDS.endoftext,
    eos_token_id: QWEN_TOKEN_IDS.imEnd,
  };
  return {
    architectures: ['Qwen2_5_VLForConditionalGeneration'],
    model_type: 'qwen2_5_vl',
    image_token_id: QWEN_TOKEN_IDS.imagePad,
    video_token_id: QWEN_TOKEN_IDS.videoPad,
    vision_start_token_id: QWEN_TOKEN_IDS.visionStart,
    vision_end_token_id: QWEN_TOKEN_IDS.visionEnd,
    vision_token_id: QWEN_TOKEN_IDS.visionPad,
    bos_token_id: QWEN_TOKEN_IDS.endoftext,
    eos_token_id: QWEN_TOKEN_IDS.imEnd,
    pad_token_id: QWEN_TOKEN_IDS.endoftext,
    tie_word_embeddings: false,
    torch_dtype: 'float32',
    // Mirrors of text_config for readers that look at the top level (older transformers).
    hidden_size: dims.hiddenSize,
    vocab_size: dims.vocabSize,
    text_config: textConfig,
    vision_config: {
      depth: 1,
      hidden_size: dims.visionHiddenSize,
      intermediate_size: dims.visionIntermediateSize,
      hidden_act: 'silu',
      num_heads: 1,
      in_chans: 3,
      out_hidden_size: dims.hiddenSize,
      patch_size: 14,
      spatial_merge_size: dims.spatialMergeSize,
      temporal_patch_size: 2,
      window_size: 112,
      fullatt_block_indexes: [0],
      tokens_per_second: 2,
    },
    'transformers.js_config': { dtype: 'fp32' },
  };
}

/** generation_config.json: greedy, stops on <|im_end|> or <|endoftext|>. */
export function generationConfigJson(): Record<string, unknown> {
  return {
    bos_token_id: QWEN_TOKEN_IDS.endoftext,
    eos_token_id: [QWEN_TOKEN_IDS.imEnd, QWEN_TOKEN_IDS.endoftext],
    pad_token_id: QWEN_TOKEN_IDS.endoftext,
    do_sample: false,
  };
}

/** preprocessor_config.json, every field explicit (transformers.js defaults differ from Python's). */
export function preprocessorConfigJson(): Record<string, unknown> {
  const minPixels = 56 * 56;
  const maxPixels = 28 * 28 * 16384;
  return {
    image_processor_type: 'Qwen2VLImageProcessor',
    processor_class: 'Qwen2_5_VLProcessor',
    do_convert_rgb: true,
    do_resize: true,
    size: { shortest_edge: minPixels, longest_edge: maxPixels },
    min_pixels: minPixels,
    max_pixels: maxPixels,
    resample: 3,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [...CLIP_IMAGE_MEAN],
    image_std: [...CLIP_IMAGE_STD],
    patch_size: 14,
    temporal_patch_size: 2,
    merge_size: 2,
  };
}
