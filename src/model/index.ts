export {
  ChatTemplate,
  questionMessages,
  type ChatContentPart,
  type ChatMessage,
  type QuestionPrompt,
} from './chat-template.js';
export { engineOptionsFromConfig, type EngineOptions } from './engine-options.js';
export {
  Engine,
  type AskResult,
  type ChoiceOptions,
  type ChoiceResult,
  type ChoiceScores,
  type EngineImage,
  type GeneratedPiece,
  type GenerationOptions,
  type PromptRequest,
  type QuestionSetRequest,
  type QuestionSetResult,
  type Timings,
} from './engine.js';
export {
  ChoiceError,
  ContextLengthError,
  ModelError,
  ModelFolderError,
  ModelLoadError,
  RequestError,
  TokenizerError,
  type ModelErrorCode,
} from './errors.js';
export {
  DTYPE_SUFFIX,
  GRAPH_FILE_NAMES,
  loadModelFolder,
  type GraphName,
  type LoadModelFolderOptions,
  type ModelDimensions,
  type ModelDtype,
  type ModelFolder,
  type ModelGraphPaths,
  type ModelTokenIds,
} from './folder.js';
export {
  expandImagePlaceholders,
  imageTokenCount,
  mropePositions,
  slicePositions,
  type ImageGrid,
  type ImageTokenLayout,
  type MropePositions,
} from './image-tokens.js';
export {
  ModelRunner,
  type ExecutionProvider,
  type FloatData,
  type ForwardInput,
  type ForwardOutput,
  type ImageFeatures,
  type KvCache,
  type ModelRunnerOptions,
} from './runner.js';
export { TokenSampler, type SamplingOptions } from './sampling.js';
export { TextTokenizer, TokenTextStream } from './tokenizer.js';
