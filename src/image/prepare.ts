import { decodeCompressedImage } from './compressed.js';
import type { DecodeOptions } from './options.js';
import { preprocess, type PreprocessOptions } from './preprocess.js';
import { decodeImage } from './raw.js';
import type { CompressedImageMessage, ImageMessage, ModelImage } from './types.js';

/** Undecoded pixels: a sensor_msgs/Image or a sensor_msgs/CompressedImage. */
export type ImageSource =
  | { readonly kind: 'raw'; readonly message: ImageMessage }
  | { readonly kind: 'compressed'; readonly message: CompressedImageMessage };

/** How an image becomes model input: decoder options and the model's pixel budget. */
export interface PrepareOptions extends DecodeOptions, PreprocessOptions {}

/**
 * Decodes an image message to RGB and preprocesses it for the vision encoder.
 * @throws ImageDecodeError naming what was wrong with the image or the options.
 */
export async function prepareImage(source: ImageSource, options: PrepareOptions): Promise<ModelImage> {
  const rgb =
    source.kind === 'raw'
      ? decodeImage(source.message, options)
      : await decodeCompressedImage(source.message, options);
  return preprocess(rgb, options);
}
