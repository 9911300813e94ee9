import { z } from 'zod';
import { pairListProblem } from '../pairing/camera-pairs.js';

/**
 * The node's parameters. Keys are snake_case and nested exactly as the ROS parameters are named
 * (`pairing.queue_size` is the ROS parameter `pairing.queue_size`), so one schema serves the YAML
 * params file, `--ros-args -p` overrides and the offline tools.
 */

/**
 * The longest duration a parameter may give, and the longest period of a rate, seconds (about 11.6
 * days): durations become nanosecond counts and timers.
 */
export const MAX_DURATION_S = 1e6;

/** A duration in seconds, 0 allowed. */
const durationS = () => z.number().min(0).max(MAX_DURATION_S);

/** A rate in Hz: 0 (never), or at least one per MAX_DURATION_S. */
const rateHz = () =>
  z
    .number()
    .min(0)
    .refine((hz) => hz === 0 || hz >= 1 / MAX_DURATION_S, {
      message: `expected 0 (never) or at least ${1 / MAX_DURATION_S} Hz (one per ${MAX_DURATION_S} s)`,
    });

const cameraName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'a camera name: letters, digits and _, starting with a letter');

export const qosSchema = z
  .object({
    /** `sensor_data` (KEEP_LAST, BEST_EFFORT, VOLATILE), `default` (KEEP_LAST, RELIABLE) or `system_default`. */
    profile: z.enum(['sensor_data', 'default', 'system_default']).default('sensor_data'),
    /** History depth. */
    depth: z.number().int().min(1).max(1000).default(5),
    /** Overrides the profile's reliability when set. */
    reliability: z.enum(['', 'reliable', 'best_effort']).default(''),
  })
  .strict();

export const cameraSchema = z
  .object({
    /** Image topic (sensor_msgs/Image, or sensor_msgs/CompressedImage when transport is `compressed`). */
    topic: z.string().min(1),
    /** `raw` for sensor_msgs/Image, `compressed` for sensor_msgs/CompressedImage. */
    transport: z.enum(['raw', 'compressed']).default('raw'),
    /** Optical frame of the camera; empty: the images' header.frame_id. */
    optical_frame: z.string().default(''),
    /** Optional sensor_msgs/CameraInfo topic; empty: none. */
    camera_info_topic: z.string().default(''),
    qos: qosSchema.prefault({}),
  })
  .strict();

export const pairingSchema = z
  .object({
    /** How frames of several cameras are grouped. */
    policy: z.enum(['approximate', 'exact', 'latest', 'temporal']).default('approximate'),
    /** Per-topic queue size (message_filters semantics). */
    queue_size: z.number().int().min(1).max(10000).default(10),
    /** ApproximateTime age penalty. */
    age_penalty: z.number().min(0).default(0.1),
    /** Largest stamp spread within a set, seconds; 0 = unlimited. */
    max_interval_s: durationS().default(0.05),
    /** Inter-message lower bound per camera, seconds (ApproximateTime), in the order of `cameras`; empty = none. */
    inter_message_lower_bound_s: z.array(durationS()).default([]),
    /** `latest` policy: the camera whose frames drive emission; empty = first camera. */
    latest_driver: z.string().default(''),
    /** `temporal` policy: time between the two frames of one camera, seconds. */
    temporal_dt_s: durationS().positive().default(0.5),
    /** Which camera pairs to form from each synchronised set: `all`, `ring`, or `list` (see `pairs`). */
    pair_mode: z.enum(['all', 'ring', 'list']).default('all'),
    /** Explicit pairs for pair_mode `list`, each `"source:target"`. */
    pairs: z
      .array(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*:[A-Za-z][A-Za-z0-9_]*$/, '"source:target"'))
      .default([]),
  })
  .strict();

export const queueSchema = z
  .object({
    /** Pairs waiting for inference. */
    size: z.number().int().min(1).max(1000).default(4),
    /** What to do when the queue is full: drop the oldest waiting pair, or refuse the newest. */
    policy: z.enum(['keep_latest', 'drop_newest']).default('keep_latest'),
  })
  .strict();

/**
 * Weight formats of the ONNX graphs, named as transformers.js names them; each is a file-name suffix
 * (`DTYPE_SUFFIX` in src/model/folder.ts).
 */
export const MODEL_DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'bnb4', 'q4f16'] as const;

const graphDtype = z.enum(['', ...MODEL_DTYPES]).default('');

export const modelSchema = z
  .object({
    /** ONNX model folder (transformers.js layout); empty = the bundled model. */
    path: z.string().default(''),
    /**
     * Which ONNX files: a dtype (file suffix: fp32 '', fp16 '_fp16', q8 '_quantized', int8 '_int8',
     * uint8 '_uint8', q4 '_q4', bnb4 '_bnb4', q4f16 '_q4f16') or `auto`: the folder's config.json
     * `transformers.js_config.dtype`, else fp32.
     */
    dtype: z.enum(['auto', ...MODEL_DTYPES]).default('auto'),
    /** dtype of the vision encoder file alone; empty = `dtype`. */
    vision_dtype: graphDtype,
    /** dtype of the token embedding file alone; empty = `dtype`. */
    embed_dtype: graphDtype,
    /** dtype of the decoder file alone; empty = `dtype`. */
    decoder_dtype: graphDtype,
    /** Execution provider; `cuda` falls back to `cpu` with a warning when unavailable. */
    device: z.enum(['cpu', 'cuda']).default('cpu'),
    device_id: z.number().int().min(0).default(0),
    /** Largest model input per image, pixels (after smart_resize). */
    max_pixels: z
      .number()
      .int()
      .min(3136)
      .default(448 * 448),
    min_pixels: z.number().int().min(784).default(3136),
    /** Largest prompt + answer length in tokens; 0 = the model's own limit. */
    max_context_tokens: z.number().int().min(0).default(0),
    /** Vision feature cache size, MiB. */
    vision_cache_mib: z.number().int().min(0).default(256),
    /** KV cache of the prompt text before the first image (system prompt), kept across requests, MiB; 0 = off. */
    prefix_cache_mib: z.number().int().min(0).default(32),
    /** Default generation length for free-form questions. */
    max_new_tokens: z.number().int().min(1).max(32768).default(256),
    /** Per-request time limit, seconds. */
    timeout_s: durationS().positive().default(30),
    /** At configure, score one question and generate two tokens before the first frame (a model that cannot run fails configure). */
    warm_up: z.boolean().default(true),
  })
  .strict();

export const promptSchema = z
  .object({
    /** `actial` expects `<think>..</think><answer>..</answer>`; `plain` takes the whole text as the answer. */
    answer_format: z.enum(['actial', 'plain']).default('actial'),
    /** System prompt; empty = the Actial system prompt for answer_format actial, none for plain. */
    system: z.string().default(''),
  })
  .strict();

export const viewpointSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Viewpoint estimates per second per camera pair (at most). */
    rate_hz: rateHz().default(1),
    /** Also ask target->source and use it for the consistency score. */
    both_directions: z.boolean().default(true),
    /** Estimate a signed yaw angle as well. */
    yaw: z.boolean().default(false),
    /** Number of option orders averaged to cancel letter bias (1..6). */
    option_orders: z.number().int().min(1).max(6).default(3),
    /** Consistency below this flags the estimate as inconsistent. */
    consistency_threshold: z.number().min(0).max(1).default(0.5),
  })
  .strict();

export const imageSchema = z
  .object({
    /** Refuse images with more pixels than this (before resizing). */
    max_input_pixels: z.number().int().min(1).default(40_000_000),
    /** Accept depth encodings (16UC1, 32FC1) as grey images for the model instead of refusing them. */
    allow_depth_as_image: z.boolean().default(false),
    /**
     * Worker threads that decode and preprocess frames (the frames of a pair in parallel, off the
     * node's thread); 0 = on the node's thread. For many cameras or costly decoding on many cores.
     */
    prepare_threads: z.number().int().min(0).max(64).default(0),
  })
  .strict();

export const standingQuestionSchema = z
  .object({
    text: z.string().min(1),
    cameras: z.array(cameraName).min(1),
    /** Option labels scored after the prompt; empty = free-form generation. */
    choices: z.array(z.string()).default([]),
    rate_hz: rateHz().default(0.2),
  })
  .strict();

export const tfSchema = z
  .object({
    /** Publish the estimated relative rotation on /tf. */
    publish: z.boolean().default(false),
    /** Child frame = `<source optical frame><suffix>`; never an existing frame. */
    child_frame_suffix: z.string().min(1).default('_actial_estimate'),
  })
  .strict();

export const diagnosticsSchema = z
  .object({
    /** Rate of /diagnostics messages, per second; at most 10, the rate of the node's tick. */
    rate_hz: z
      .number()
      .min(1 / MAX_DURATION_S)
      .max(10)
      .default(1),
    /** A camera silent for this long is STALE. */
    stale_after_s: durationS().positive().default(2),
  })
  .strict();

export const nodeConfigSchema = z
  .object({
    /** Camera names, in the order they are synchronised. */
    cameras: z.array(cameraName).min(1),
    /** Per-camera settings, keyed by camera name. */
    camera: z.record(z.string(), cameraSchema),
    pairing: pairingSchema.prefault({}),
    queue: queueSchema.prefault({}),
    model: modelSchema.prefault({}),
    prompt: promptSchema.prefault({}),
    viewpoint: viewpointSchema.prefault({}),
    image: imageSchema.prefault({}),
    /** Names of standing questions asked periodically (see `question`). */
    questions: z.array(z.string()).default([]),
    question: z.record(z.string(), standingQuestionSchema).default({}),
    tf: tfSchema.prefault({}),
    diagnostics: diagnosticsSchema.prefault({}),
    /** Lifecycle: activate right after configure. */
    auto_activate: z.boolean().default(true),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const [i, name] of config.cameras.entries()) {
      if (!config.camera[name]) {
        ctx.addIssue({
          code: 'custom',
          path: ['cameras', i],
          message: `camera '${name}' has no settings: add camera.${name}.topic`,
          input: name,
        });
      }
    }
    if (new Set(config.cameras).size !== config.cameras.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['cameras'],
        message: 'camera names repeat',
        input: config.cameras,
      });
    }
    const known = new Set(config.cameras);
    const checkCamera = (name: string, path: (string | number)[]): void => {
      if (!known.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `unknown camera '${name}' (cameras: ${config.cameras.join(', ')})`,
          input: name,
        });
      }
    };
    const listed = new Set<string>();
    for (const [i, pair] of config.pairing.pairs.entries()) {
      const [a = '', b = ''] = pair.split(':');
      checkCamera(a, ['pairing', 'pairs', i]);
      checkCamera(b, ['pairing', 'pairs', i]);
      const problem = pairListProblem(a, b, listed);
      if (problem) {
        ctx.addIssue({
          code: 'custom',
          path: ['pairing', 'pairs', i],
          message: `pair '${pair}' ${problem}`,
          input: pair,
        });
      }
      listed.add(pair);
    }
    if (config.pairing.pair_mode === 'list' && config.pairing.pairs.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['pairing', 'pairs'],
        message: 'pair_mode list needs at least one "source:target" pair',
        input: config.pairing.pairs,
      });
    }
    if (config.pairing.latest_driver) checkCamera(config.pairing.latest_driver, ['pairing', 'latest_driver']);
    const bounds = config.pairing.inter_message_lower_bound_s;
    if (bounds.length !== 0 && bounds.length !== config.cameras.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['pairing', 'inter_message_lower_bound_s'],
        message: `needs one bound per camera (${config.cameras.length}) or none, got ${bounds.length}`,
        input: bounds,
      });
    }
    for (const [i, name] of config.questions.entries()) {
      const question = config.question[name];
      if (!question) {
        ctx.addIssue({
          code: 'custom',
          path: ['questions', i],
          message: `question '${name}' has no settings: add question.${name}.text and .cameras`,
          input: name,
        });
        continue;
      }
      question.cameras.forEach((cam, j) => checkCamera(cam, ['question', name, 'cameras', j]));
    }
  });

/** Validated node configuration. */
export type NodeConfig = z.infer<typeof nodeConfigSchema>;
/** Configuration as written in a file, before defaults. */
export type NodeConfigInput = z.input<typeof nodeConfigSchema>;
export type CameraConfig = z.infer<typeof cameraSchema>;
export type PairingConfig = z.infer<typeof pairingSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
