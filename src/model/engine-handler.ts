import { z } from 'zod';
import { MODEL_DTYPES } from '../config/schema.js';
import {
  Engine,
  type GeneratedPiece,
  type GenerationOptions,
  type PromptRequest,
  type QuestionSetRequest,
} from './engine.js';
import type { ChoiceOptions } from './engine.js';
import type { RequestContext } from './worker/index.js';

/** What the main thread sends to start an engine in a worker (structured-cloned, so checked here). */
export const engineInitSchema = z
  .object({
    modelDir: z.string().min(1),
    dtype: z.enum(['auto', ...MODEL_DTYPES]).optional(),
    graphDtypes: z
      .object({
        visionEncoder: z.enum(MODEL_DTYPES).optional(),
        embedTokens: z.enum(MODEL_DTYPES).optional(),
        decoder: z.enum(MODEL_DTYPES).optional(),
      })
      .strict()
      .optional(),
    device: z.enum(['cpu', 'cuda']).optional(),
    deviceId: z.number().int().min(0).optional(),
    intraOpThreads: z.number().int().min(0).optional(),
    maxContextTokens: z.number().int().min(0).optional(),
    visionCacheMib: z.number().min(0).optional(),
    prefixCacheMib: z.number().min(0).optional(),
    maxNewTokens: z.number().int().min(1).optional(),
  })
  .strict();

export type EngineInit = z.infer<typeof engineInitSchema>;

/** A request as it crosses the thread: no signal, no callback (the worker supplies both). */
type Remote<T> = Omit<T, 'signal' | 'onToken'>;
export type RemoteQuestionSet = Remote<QuestionSetRequest>;
export type RemoteGenerate = Remote<PromptRequest & GenerationOptions>;
export type RemoteAsk = Remote<PromptRequest & GenerationOptions & { readonly choices?: ChoiceOptions }>;
export type RemoteScoreChoices = Remote<PromptRequest & ChoiceOptions>;

/** Facts about the loaded engine, sent once after start. */
export interface EngineDescription {
  readonly modelDir: string;
  /** The graph files and their dtypes. */
  readonly modelFiles: string;
  readonly executionProvider: string;
  readonly fallbackReason: string | null;
  readonly contextLimit: number;
  readonly maxNewTokens: number;
}

/**
 * Loads the engine inside the worker thread and exposes its methods to {@link InferenceWorker}.
 * The load log line (which execution provider runs and why) goes to the worker's stderr.
 */
export async function createEngineHandler(init: unknown) {
  const options = engineInitSchema.parse(init);
  const engine = await Engine.create({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
  return {
    describe: async (): Promise<EngineDescription> => ({
      modelDir: engine.folder.dir,
      modelFiles: engine.modelFiles,
      executionProvider: engine.executionProvider,
      fallbackReason: engine.fallbackReason,
      contextLimit: engine.contextLimit,
      maxNewTokens: engine.maxNewTokens,
    }),
    scoreQuestions: (params: RemoteQuestionSet, ctx: RequestContext) =>
      engine.scoreQuestions({ ...params, signal: ctx.signal }),
    scoreChoices: (params: RemoteScoreChoices, ctx: RequestContext) =>
      engine.scoreChoices({ ...params, signal: ctx.signal }),
    ask: (params: RemoteAsk, ctx: RequestContext<GeneratedPiece>) =>
      engine.ask({ ...params, signal: ctx.signal, onToken: (piece) => ctx.emit(piece) }),
    dispose: () => engine.dispose(),
  };
}

export type EngineHandler = Awaited<ReturnType<typeof createEngineHandler>>;
