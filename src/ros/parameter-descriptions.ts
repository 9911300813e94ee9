/**
 * Descriptions of the ROS parameters (ParameterDescriptor.description, shown by `ros2 param describe`),
 * by dotted name with `<name>` for a camera or question name. Where src/config/schema.ts documents a
 * key, the text here is that doc comment (src/ros/parameters.test.ts checks they stay the same);
 * a `.describe()` on the schema key takes precedence over this table.
 */
export const PARAMETER_DESCRIPTIONS: Readonly<Record<string, string>> = {
  cameras: 'Camera names, in the order they are synchronised.',
  'camera.<name>.topic':
    'Image topic (sensor_msgs/Image, or sensor_msgs/CompressedImage when transport is `compressed`).',
  'camera.<name>.transport': '`raw` for sensor_msgs/Image, `compressed` for sensor_msgs/CompressedImage.',
  'camera.<name>.optical_frame': "Optical frame of the camera; empty: the images' header.frame_id.",
  'camera.<name>.camera_info_topic': 'Optional sensor_msgs/CameraInfo topic; empty: none.',
  'camera.<name>.qos.profile':
    '`sensor_data` (KEEP_LAST, BEST_EFFORT, VOLATILE), `default` (KEEP_LAST, RELIABLE) or `system_default`.',
  'camera.<name>.qos.depth': 'History depth.',
  'camera.<name>.qos.reliability': "Overrides the profile's reliability when set.",
  'pairing.policy': 'How frames of several cameras are grouped.',
  'pairing.queue_size': 'Per-topic queue size (message_filters semantics).',
  'pairing.age_penalty': 'ApproximateTime age penalty.',
  'pairing.max_interval_s': 'Largest stamp spread within a set, seconds; 0 = unlimited.',
  'pairing.inter_message_lower_bound_s':
    'Inter-message lower bound per camera, seconds (ApproximateTime), in the order of `cameras`; empty = none.',
  'pairing.latest_driver': '`latest` policy: the camera whose frames drive emission; empty = first camera.',
  'pairing.temporal_dt_s': '`temporal` policy: time between the two frames of one camera, seconds.',
  'pairing.pair_mode':
    'Which camera pairs to form from each synchronised set: `all`, `ring`, or `list` (see `pairs`).',
  'pairing.pairs': 'Explicit pairs for pair_mode `list`, each `"source:target"`.',
  'queue.size': 'Pairs waiting for inference.',
  'queue.policy': 'What to do when the queue is full: drop the oldest waiting pair, or refuse the newest.',
  'model.path': 'ONNX model folder (transformers.js layout); empty = the bundled model.',
  'model.dtype':
    "Which ONNX files: a dtype (file suffix: fp32 '', fp16 '_fp16', q8 '_quantized', int8 '_int8', uint8 '_uint8', q4 '_q4', bnb4 '_bnb4', q4f16 '_q4f16') or `auto`: the folder's config.json `transformers.js_config.dtype`, else fp32.",
  'model.vision_dtype': 'dtype of the vision encoder file alone; empty = `dtype`.',
  'model.embed_dtype': 'dtype of the token embedding file alone; empty = `dtype`.',
  'model.decoder_dtype': 'dtype of the decoder file alone; empty = `dtype`.',
  'model.device': 'Execution provider; `cuda` falls back to `cpu` with a warning when unavailable.',
  'model.device_id': 'GPU index for `cuda`.',
  'model.max_pixels': 'Largest model input per image, pixels (after smart_resize).',
  'model.min_pixels': 'Smallest model input per image, pixels (after smart_resize).',
  'model.max_context_tokens': "Largest prompt + answer length in tokens; 0 = the model's own limit.",
  'model.vision_cache_mib': 'Vision feature cache size, MiB.',
  'model.warm_up':
    'At configure, score one question and generate two tokens before the first frame (a model that cannot run fails configure).',
  'model.prefix_cache_mib':
    'KV cache of the prompt text before the first image (system prompt), kept across requests, MiB; 0 = off.',
  'model.max_new_tokens': 'Default generation length for free-form questions.',
  'model.timeout_s': 'Per-request time limit, seconds.',
  'prompt.answer_format':
    '`actial` expects `<think>..</think><answer>..</answer>`; `plain` takes the whole text as the answer.',
  'prompt.system':
    'System prompt; empty = the Actial system prompt for answer_format actial, none for plain.',
  'viewpoint.enabled': 'Estimate the relative viewpoint of every camera pair and publish it on ~/viewpoint.',
  'viewpoint.rate_hz': 'Viewpoint estimates per second per camera pair (at most).',
  'viewpoint.both_directions': 'Also ask target->source and use it for the consistency score.',
  'viewpoint.yaw': 'Estimate a signed yaw angle as well.',
  'viewpoint.option_orders': 'Number of option orders averaged to cancel letter bias (1..6).',
  'viewpoint.consistency_threshold': 'Consistency below this flags the estimate as inconsistent.',
  'image.max_input_pixels': 'Refuse images with more pixels than this (before resizing).',
  'image.allow_depth_as_image':
    'Accept depth encodings (16UC1, 32FC1) as grey images for the model instead of refusing them.',
  'image.prepare_threads':
    "Worker threads that decode and preprocess frames (the frames of a pair in parallel, off the node's thread); 0 = on the node's thread. For many cameras or costly decoding on many cores.",
  questions: 'Names of standing questions asked periodically (see `question`).',
  'question.<name>.text': 'The question asked, answered on ~/answer.',
  'question.<name>.cameras': 'Cameras whose latest synchronised frames are shown, in this order.',
  'question.<name>.choices': 'Option labels scored after the prompt; empty = free-form generation.',
  'question.<name>.rate_hz': 'Times per second the question is asked (at most).',
  'tf.publish': 'Publish the estimated relative rotation on /tf.',
  'tf.child_frame_suffix': 'Child frame = `<source optical frame><suffix>`; never an existing frame.',
  'diagnostics.rate_hz':
    "Rate of /diagnostics messages, per second; at most 10, the rate of the node's tick.",
  'diagnostics.stale_after_s': 'A camera silent for this long is STALE.',
  auto_activate: 'Lifecycle: activate right after configure.',
};
