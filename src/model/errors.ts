/**
 * What went wrong, as a string that survives structured cloning (a worker thread rebuilds the
 * error from `name`, `code` and `message`).
 */
export type ModelErrorCode =
  /** A file or field of the model folder is missing or malformed. */
  | 'model_folder'
  /** onnxruntime could not load an ONNX graph (corrupt or unsupported file). */
  | 'model_load'
  /** The tokenizer lacks a token the model needs, or a text does not tokenize as required. */
  | 'tokenizer'
  /** Images and image placeholders do not match, or a request field is invalid. */
  | 'bad_request'
  /** The prompt does not fit the context window. */
  | 'context_length'
  /** Empty, duplicate or unscorable answer choices. */
  | 'bad_choices';

/** Base class of every error the model layer throws on purpose. */
export abstract class ModelError extends Error {
  abstract readonly code: ModelErrorCode;
}

/** A model folder without a required file, or with a file whose content is invalid. */
export class ModelFolderError extends ModelError {
  override readonly name = 'ModelFolderError';
  readonly code = 'model_folder';
  constructor(
    /** The file (absolute path) that is missing or invalid. */
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An ONNX graph that onnxruntime refused to load. */
export class ModelLoadError extends ModelError {
  override readonly name = 'ModelLoadError';
  readonly code = 'model_load';
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The tokenizer cannot provide what the model needs (e.g. no `<|image_pad|>` token). */
export class TokenizerError extends ModelError {
  override readonly name = 'TokenizerError';
  readonly code = 'tokenizer';
}

/** A request that cannot be run as given (image count vs placeholders, bad sampling options...). */
export class RequestError extends ModelError {
  override readonly name = 'RequestError';
  readonly code = 'bad_request';
}

/** A prompt longer than the context window. */
export class ContextLengthError extends ModelError {
  override readonly name = 'ContextLengthError';
  readonly code = 'context_length';
  constructor(
    readonly promptTokens: number,
    readonly limit: number,
  ) {
    super(
      promptTokens > limit
        ? `prompt has ${promptTokens} tokens, more than the context limit of ${limit} tokens`
        : `prompt has ${promptTokens} tokens, which leaves no room to generate within the context limit of ${limit} tokens`,
    );
  }
}

/** Answer choices that cannot be scored: none, repeated, or multi-token where one token was required. */
export class ChoiceError extends ModelError {
  override readonly name = 'ChoiceError';
  readonly code = 'bad_choices';
  constructor(
    /** The offending choice, or null when the list as a whole is wrong (e.g. empty). */
    readonly choice: string | null,
    message: string,
  ) {
    super(message);
  }
}
