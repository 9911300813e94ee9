import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preprocess } from '../image/preprocess.js';
import { syntheticImage } from '../image/reference.js';
import { ACTIAL_SYSTEM_PROMPT, viewpointQuestion } from '../spatial/index.js';
import { Engine, type EngineImage } from '../model/engine.js';
import { writeTinyModel } from '../model/tiny/write.js';
import { loadTransformersReference } from '../model/transformers-reference.js';
import { interleaved, median, type BenchSuite, type Figure } from './figure.js';

/** The three Viewpoint-100K question types, in the option orders of the paper's examples (DESIGN.md section 2). */
const VIEWPOINT_QUESTIONS = [
  viewpointQuestion('egoTranslation', ['left', 'right', 'none']),
  viewpointQuestion('objectTranslation', ['right', 'none', 'left']),
  viewpointQuestion('yawRotation', ['none', 'right', 'left']),
];
const CHOICES = ['A', 'B', 'C'];
const NEW_TOKENS = 16;
const limits = { maxPixels: 448 * 448, minPixels: 3136 };

/**
 * The in-process engine on the tiny random model with two 448x448 images (CPU): greedy generation
 * against @huggingface/transformers on the same folder, option scoring against generation, and
 * three viewpoint questions with prefix sharing and the vision cache against three separate queries
 * computed from scratch (an engine without the prefix cache, unkeyed images).
 */
export const engineSuite: BenchSuite = {
  name: 'engine',
  async run({ quick }) {
    const rounds = quick ? 3 : 15;
    const dir = await mkdtemp(join(tmpdir(), 'actial-bench-engine-'));
    const explicitDir = join(dir, 'explicit-attention');
    await writeTinyModel({ outDir: dir, seed: 1 });
    const engine = await Engine.create({ modelDir: dir, log: () => {} });
    // Keeps nothing across requests (no prefix cache; images go unkeyed, so no vision cache either).
    const uncachedEngine = await Engine.create({ modelDir: dir, log: () => {}, prefixCacheMib: 0 });
    const reference = await loadTransformersReference(dir, limits);
    try {
      const rgb = [syntheticImage(448, 448, 1), syntheticImage(448, 448, 2)];
      const modelImages = await Promise.all(
        rgb.map((im) => preprocess(im, { ...limits, resize: 'transformersjs' })),
      );
      // Unkeyed: the vision encoder runs on every request, as it must in transformers.js.
      const images: EngineImage[] = modelImages.map((image) => ({ image }));
      const prompt = engine.renderPrompt({ images, question: 'Did the camera move left or right? Explain.' });
      const inputs = await reference.prepare(prompt, rgb);

      const prefillMs: number[] = [];
      const decodeStepMs: number[] = [];
      const ours = async () => {
        const result = await engine.generate({ images, prompt, maxNewTokens: NEW_TOKENS });
        if (result.tokenIds.length !== NEW_TOKENS) {
          throw new Error(`generated ${result.tokenIds.length} tokens`);
        }
        prefillMs.push(result.timings.prefillMs);
        decodeStepMs.push(result.timings.decodeMs / (NEW_TOKENS - 1));
      };
      const theirs = async () => {
        const result = await reference.generate(inputs, NEW_TOKENS, { captureLogits: false });
        if (result.tokenIds.length !== NEW_TOKENS) {
          throw new Error(`transformers.js generated ${result.tokenIds.length} tokens`);
        }
      };
      const [oursMs = NaN, theirsMs = NaN] = await interleaved([ours, theirs], rounds);

      const question = { images, system: ACTIAL_SYSTEM_PROMPT, question: VIEWPOINT_QUESTIONS[0] as string };
      // Scoring as the node scores: probabilities only (logProbs false), as in the viewpoint figures below.
      const scoreWith = (scorer: Engine) => () =>
        scorer.scoreChoices({ ...question, choices: CHOICES, answerPrefix: '<answer>', logProbs: false });
      const score = scoreWith(engine);
      const generate = () => engine.generate({ ...question, maxNewTokens: NEW_TOKENS });
      const [scoreMs = NaN, generateMs = NaN] = await interleaved([score, generate], rounds);

      let pair = 0;
      const shared = () => {
        // A new frame pair each time: its two frames are encoded once, then served from the cache.
        pair++;
        return engine.scoreQuestions({
          images: modelImages.map((image, i) => ({ image, key: `camera${i}@${pair}` })),
          system: ACTIAL_SYSTEM_PROMPT,
          questions: VIEWPOINT_QUESTIONS.map((q) => ({
            question: q,
            choices: CHOICES,
            answerPrefix: '<answer>',
            logProbs: false,
          })),
        });
      };
      // Three queries computed from scratch each: no shared prefix, no cache of any kind.
      const independent = async () => {
        for (const q of VIEWPOINT_QUESTIONS) {
          await uncachedEngine.scoreChoices({
            images,
            system: ACTIAL_SYSTEM_PROMPT,
            question: q,
            choices: CHOICES,
            answerPrefix: '<answer>',
            logProbs: false,
          });
        }
      };
      const [sharedMs = NaN, independentMs = NaN] = await interleaved([shared, independent], rounds);

      // The same scoring on the same weights with the decoder's attention as MatMul/Where/Softmax nodes.
      await writeTinyModel({ outDir: explicitDir, seed: 1, attention: 'explicit' });
      const explicitEngine = await Engine.create({ modelDir: explicitDir, log: () => {} });
      const [fusedMs = NaN, explicitMs = NaN] = await interleaved(
        [score, scoreWith(explicitEngine)],
        rounds,
      ).finally(() => explicitEngine.dispose());

      // The same scoring on the engine that keeps no KV cache of the prompt text before the images.
      const [prefixCachedMs = NaN, uncachedMs = NaN] = await interleaved(
        [score, scoreWith(uncachedEngine)],
        rounds,
      );

      const figure = (
        name: string,
        value: number,
        unit: string,
        better: Figure['better'],
        target: number | null,
      ) => ({ name: `engine.${name}`, value, unit, better, target }) satisfies Figure;
      return [
        figure('generate16.ms', oursMs, 'ms', 'lower', null),
        figure('generate16.transformersjs_ms', theirsMs, 'ms', 'lower', null),
        figure('generate16.ratio_vs_transformersjs', theirsMs / oursMs, 'x', 'higher', 1.3),
        figure('generate16.prefill_ms', median(prefillMs), 'ms', 'lower', null),
        figure('generate16.decode_ms_per_token', median(decodeStepMs), 'ms', 'lower', null),
        figure('scoring.ms', scoreMs, 'ms', 'lower', null),
        figure('scoring_vs_generation.ratio', generateMs / scoreMs, 'x', 'higher', 3),
        figure('viewpoint_shared.ms', sharedMs, 'ms', 'lower', null),
        figure('viewpoint_shared_vs_independent.ratio', independentMs / sharedMs, 'x', 'higher', 2),
        figure('scoring.explicit_attention_ms', explicitMs, 'ms', 'lower', null),
        figure('scoring.fused_attention_speedup', explicitMs / fusedMs, 'x', 'higher', null),
        figure('scoring.prefix_cache_speedup', uncachedMs / prefixCachedMs, 'x', 'higher', null),
      ];
    } finally {
      await reference.dispose();
      await engine.dispose();
      await uncachedEngine.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
