import type { EngineImage, QuestionSetRequest } from '../model/engine.js';
import type { OptionScorer } from './estimate.js';

/** Anything that scores several multiple-choice questions over the same images (Engine, EngineClient). */
export interface QuestionSetScorer {
  scoreQuestions(request: QuestionSetRequest): Promise<{
    readonly results: readonly { readonly probabilities: readonly number[] }[];
  }>;
}

/**
 * The spatial layer's {@link OptionScorer} over the model engine: each viewpoint question becomes
 * one question of a shared-prefix question set, its choices scored after `answerPrefix`
 * (`<answer>` for the Actial answer format, '' for a model that answers with the letter alone).
 */
export function engineOptionScorer(engine: QuestionSetScorer, answerPrefix = ''): OptionScorer<EngineImage> {
  return {
    async scoreQuestions(request) {
      const result = await engine.scoreQuestions({
        images: request.images,
        system: request.system,
        questions: request.questions.map((q) => ({
          question: q.text,
          choices: q.choices,
          answerPrefix,
          logProbs: false,
        })),
        signal: request.signal,
      });
      return result.results.map((r) => ({ probabilities: [...r.probabilities] }));
    },
  };
}
