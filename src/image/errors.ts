/** Why an image could not be turned into RGB pixels or model input. */
export type ImageErrorCode =
  /** `data` holds fewer bytes than the header promises. */
  | 'short_data'
  /** `step` is smaller than one row of pixels. */
  | 'bad_step'
  /** Width or height is zero (or not a positive integer). */
  | 'zero_size'
  /** An odd width/height where the pixel format needs even ones (chroma subsampling), or too small to demosaic. */
  | 'odd_size'
  /** Encoding or compression format this library does not decode. */
  | 'unknown_encoding'
  /** Compressed bytes that do not decode. */
  | 'corrupt'
  /** More pixels than `maxInputPixels`. */
  | 'too_large'
  /** Depth image given to the model without `allowDepthAsImage`. */
  | 'depth_refused'
  /** Aspect ratio beyond what Qwen2.5-VL's smart_resize accepts (200:1). */
  | 'bad_aspect'
  /** An option out of range (e.g. `maxPixels` < `minPixels`). */
  | 'bad_option';

/** The one error this module throws for bad images or options; `message` names the offending field and values. */
export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
  constructor(
    readonly code: ImageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * `text` as a JSON string literal for error messages, cut to about `max` characters so that a huge
 * field (a megabyte "encoding") cannot make a huge log line.
 */
export function quoted(text: string, max = 60): string {
  const json = JSON.stringify(text.length > max ? text.slice(0, max) : text);
  return text.length > max ? `${json.slice(0, -1)}..." (${text.length} characters)` : json;
}
