import type { NodeConfig } from '../config/schema.js';
import { preprocess } from '../image/preprocess.js';
import { resolveSystemPrompt } from '../spatial/question.js';
import { viewpointQuestion } from '../spatial/prompts.js';
import type { InferenceBackend } from './backend.js';

/** Time of each warm-up request, ms. */
export interface WarmUpTimings {
  readonly scoringMs: number;
  readonly generationMs: number;
}

/**
 * Runs one request of each kind the node makes before the first frames arrive: a viewpoint
 * question scored over two mid-grey frames of the largest model input (`model.max_pixels`), with
 * the node's system prompt, then two generated tokens. The first run of a model pays onnxruntime's
 * one-time costs (memory arenas, kernel choice; CUDA library start-up), and the system prompt's KV
 * cache is then kept (the engine's prefix cache), so the first real estimate runs as fast as later
 * ones. A model that loads but cannot run fails here, at configure, instead of on the first frame.
 */
export async function warmUpBackend(
  backend: Pick<InferenceBackend, 'scoreQuestions' | 'generate'>,
  config: Pick<NodeConfig, 'model' | 'prompt'>,
): Promise<WarmUpTimings> {
  const side = Math.max(28, Math.floor(Math.sqrt(config.model.max_pixels)));
  const grey = { width: side, height: side, data: new Uint8Array(side * side * 3).fill(128) };
  const limits = { maxPixels: config.model.max_pixels, minPixels: config.model.min_pixels };
  const image = await preprocess(grey, limits);
  const images = [{ image }, { image }];
  const system = resolveSystemPrompt({
    answerFormat: config.prompt.answer_format,
    system: config.prompt.system,
  });
  const scoringStart = performance.now();
  await backend.scoreQuestions({
    images,
    system,
    questions: [
      {
        question: viewpointQuestion('egoTranslation', ['left', 'right', 'none']),
        choices: ['A', 'B', 'C'],
        answerPrefix: config.prompt.answer_format === 'actial' ? '<answer>' : '',
        logProbs: false,
      },
    ],
  });
  const generationStart = performance.now();
  await backend.generate({ images, system, question: 'Describe the scene.', maxNewTokens: 2 });
  return {
    scoringMs: generationStart - scoringStart,
    generationMs: performance.now() - generationStart,
  };
}
