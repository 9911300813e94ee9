export type { CompressedImageMessage, ImageMessage, ModelImage, RgbImage } from './types.js';
export { ImageDecodeError, quoted, type ImageErrorCode } from './errors.js';
export type { DecodeOptions } from './options.js';
export { decodeImage } from './raw.js';
export {
  decodeCompressedImage,
  decodeImageBytes,
  parseCompressedFormat,
  type CompressedFormat,
} from './compressed.js';
export { isDepthEncoding, supportedEncodings } from './encodings.js';
export {
  preprocess,
  imageMean,
  imageStd,
  PATCH_ROW_LENGTH,
  type PreprocessOptions,
  type ResizeMethod,
} from './preprocess.js';
export { smartResize, roundHalfEven, type SmartResizeOptions } from './smart-resize.js';
export { prepareImage, type ImageSource, type PrepareOptions } from './prepare.js';
